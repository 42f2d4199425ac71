package reports

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// Format names.
const (
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatJUnit    = "junit"
	FormatHTML     = "html"
)

// format returns the file a format writes in a report directory and its writer; "" and nil for an
// unknown format.
func format(name string) (string, func(io.Writer, *Report) error) {
	switch name {
	case FormatJSON:
		return "summary.json", JSON
	case FormatMarkdown:
		return "report.md", Markdown
	case FormatJUnit:
		return "junit.xml", JUnit
	case FormatHTML:
		return "report.html", HTML
	}
	return "", nil
}

// allFormats are the formats written by default, in this order.
func allFormats() []string { return []string{FormatJSON, FormatMarkdown, FormatJUnit, FormatHTML} }

// ParseFormats parses a comma-separated list such as "json,md,junit" ("markdown" and "xml" are
// other names of md and junit). "all" or an empty string means every format. Unknown names are an
// error naming them.
func ParseFormats(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return allFormats(), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		f = cmp.Or(map[string]string{"markdown": FormatMarkdown, "xml": FormatJUnit}[f], f)
		if _, w := format(f); w == nil {
			return nil, fmt.Errorf("unknown format %q (want json, md, junit, html or all)", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// FileName returns the file a format writes in a report directory, e.g. "summary.json" for "json";
// "" for an unknown format.
func FileName(f string) string {
	name, _ := format(f)
	return name
}

// DefaultDir is the default report directory for a run of the given kind started at t: reports/<UTC
// timestamp>-<kind>.
func DefaultDir(t time.Time, kind string) string {
	return filepath.Join("reports", t.UTC().Format("20060102T150405Z")+"-"+kind)
}

// Option configures how a report is rendered and written (Render, WriteDir).
type Option func(*options)

type options struct{ scrub func(string) string }

// Scrub passes every rendered file through f before a byte of it is written: the CLI passes its
// redactor's String, so that no secret the run learned reaches a report file, whichever section or
// format carries it. Without it the files are written as rendered.
func Scrub(f func(string) string) Option { return func(o *options) { o.scrub = f } }

// Render returns the report in one format, through the options' scrub.
func Render(r *Report, f string, opts ...Option) ([]byte, error) {
	_, w := format(f)
	if w == nil {
		return nil, fmt.Errorf("reports: unknown format %q", f)
	}
	return renderWith(w, r, opts)
}

func renderWith(w func(io.Writer, *Report) error, r *Report, opts []Option) ([]byte, error) {
	o := options{scrub: func(s string) string { return s }}
	for _, opt := range opts {
		opt(&o)
	}
	var buf bytes.Buffer
	if err := w(&buf, r); err != nil {
		return nil, err
	}
	return []byte(o.scrub(buf.String())), nil
}

// WriteDir writes the report in each format into the existing directory dir (claimed by the run:
// ClaimDir), and evidenceFile when the run has support evidence (whatever the formats), going on
// after a failure, and returns the paths written. Every file is written to a temporary name, synced
// and renamed into place (github.com/google/renameio), so a crash never leaves a truncated
// summary.json, and a symbolic link at a file's name is replaced, never followed.
func WriteDir(dir string, r *Report, formats []string, opts ...Option) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: write %s: %w", dir, err)
	}
	defer root.Close()
	var written []string
	var errs []error
	put := func(name string, data []byte, err error) {
		if err == nil {
			err = writeAtomic(root, name, data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reports: write %s: %w", filepath.Join(dir, name), err))
			return
		}
		written = append(written, filepath.Join(dir, name))
	}
	for _, f := range formats {
		data, err := Render(r, f, opts...)
		put(FileName(f), data, err)
	}
	if hasEvidence(r) {
		data, err := renderWith(evidenceCSV, r, opts)
		put(evidenceFile, data, err)
	}
	return written, errors.Join(errs...)
}

// writeAtomic is the one atomic writer of the package: data goes to a new temporary file in root,
// is synced, and is renamed to name.
func writeAtomic(root *os.Root, name string, data []byte) error {
	f, err := renameio.NewPendingFile(name, renameio.WithRoot(root), renameio.WithStaticPermissions(0o644))
	if err != nil {
		return err
	}
	defer func() { _ = f.Cleanup() }() // a no-op once replaced
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.CloseAtomicallyReplace()
}
