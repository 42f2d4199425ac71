// Package ci holds no code: it is the home of the CI examples in this
// directory (github-actions.yml, gitlab-ci.yml, and make-offers.sh, the
// stand-in offer generator they pipe into xoneharness run --offers -), and
// its test checks that they parse, keep the fields the README promises, and
// that the generator prints valid, distinct offers.
package ci
