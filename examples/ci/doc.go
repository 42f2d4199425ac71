// Package ci holds no code: it is the home of the CI examples in this
// directory (github-actions.yml, gitlab-ci.yml), and its test checks that
// they parse and keep the fields the README promises.
package ci
