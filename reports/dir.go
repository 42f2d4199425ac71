package reports

import (
	"bytes"
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

// Format names and their files.
const (
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatJUnit    = "junit"
	FormatHTML     = "html"
)

// Writer formats a report.
type Writer func(w io.Writer, r *Report) error

func writerFor(format string) Writer {
	return map[string]Writer{FormatJSON: JSON, FormatMarkdown: Markdown, FormatJUnit: JUnit, FormatHTML: HTML}[format]
}

// AllFormats are the formats written by default, in this order.
func AllFormats() []string { return []string{FormatJSON, FormatMarkdown, FormatJUnit, FormatHTML} }

// ParseFormats parses a comma-separated list such as "json,md,junit". "all"
// or an empty string means AllFormats. Unknown names are an error naming
// them.
func ParseFormats(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return AllFormats(), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "markdown":
			f = FormatMarkdown
		case "xml":
			f = FormatJUnit
		}
		if writerFor(f) == nil {
			return nil, fmt.Errorf("unknown format %q (want json, md, junit, html or all)", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// FileName returns the file a format writes in a report directory, e.g.
// "summary.json" for "json"; "" for an unknown format.
func FileName(format string) string {
	return map[string]string{FormatJSON: "summary.json", FormatMarkdown: "report.md", FormatJUnit: "junit.xml",
		FormatHTML: "report.html"}[format]
}

// DefaultDir is the default report directory for a run of the given kind
// started at t: reports/<UTC timestamp>-<kind>.
func DefaultDir(t time.Time, kind string) string {
	return filepath.Join("reports", t.UTC().Format("20060102T150405Z")+"-"+kind)
}

// Option configures how a report is rendered and written (Render, WriteDir,
// Claim.WriteReport).
type Option func(*options)

type options struct{ scrub func(string) string }

// Scrub passes every rendered file through f before a byte of it is
// written: the CLI passes its redactor's String, so that no secret the run
// learned reaches a report file, whichever section or format carries it.
// Without it the files are written as rendered.
func Scrub(f func(string) string) Option { return func(o *options) { o.scrub = f } }

// Render returns the report in one format, through the options' scrub.
func Render(r *Report, format string, opts ...Option) ([]byte, error) {
	wr := writerFor(format)
	if wr == nil {
		return nil, fmt.Errorf("reports: unknown format %q", format)
	}
	return renderWith(wr, r, opts)
}

func renderWith(wr Writer, r *Report, opts []Option) ([]byte, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var buf bytes.Buffer
	if err := wr(&buf, r); err != nil {
		return nil, err
	}
	if o.scrub == nil {
		return buf.Bytes(), nil
	}
	return []byte(o.scrub(buf.String())), nil
}

// WriteDir writes the report in each format into the existing directory
// dir, and EvidenceFile when the run has support evidence (whatever the
// formats), and returns the paths written. Every file is written to a
// temporary name, synced and renamed into place (github.com/google/renameio),
// so a crash never leaves a truncated summary.json, and a symbolic link at a
// file's name is replaced, never followed. It does not claim dir: a run
// writes through its Claim (Claim.WriteReport) instead.
func WriteDir(dir string, r *Report, formats []string, opts ...Option) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: write %s: %w", dir, err)
	}
	defer root.Close()
	return writeFormats(root, dir, r, formats, opts)
}

// writeFormats renders and writes each format into root (the directory
// dir), then EvidenceFile when r has evidence, going on after a failure, and
// returns the paths written.
func writeFormats(root *os.Root, dir string, r *Report, formats []string, opts []Option) ([]string, error) {
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
		data, err := renderWith(EvidenceCSV, r, opts)
		put(EvidenceFile, data, err)
	}
	return written, errors.Join(errs...)
}

// writeAtomic is the one atomic writer of the package: data goes to a new
// temporary file in root, is synced, and is renamed to name.
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
