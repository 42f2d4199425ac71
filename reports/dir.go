package reports

import (
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

// formatEvidence is evidence.csv, which WriteDir adds whenever the run has support evidence.
const formatEvidence = "evidence"

// format returns the file a format writes in a report directory and its writer (nil if unknown).
func format(name string) (string, func(io.Writer, *Report) error) {
	f := map[string]struct {
		file  string
		write func(io.Writer, *Report) error
	}{FormatJSON: {"summary.json", JSON}, FormatMarkdown: {"report.md", Markdown}, FormatJUnit: {"junit.xml", JUnit},
		FormatHTML: {"report.html", HTML}, formatEvidence: {evidenceFile, evidenceCSV}}[name]
	return f.file, f.write
}

// allFormats are the formats written by default, in this order.
func allFormats() []string { return []string{FormatJSON, FormatMarkdown, FormatJUnit, FormatHTML} }

// ParseFormats parses a comma-separated list such as "json,md,junit" ("markdown" and "xml" name md
// and junit); "all" means every format, an empty list or an unknown name is an error.
func ParseFormats(s string) ([]string, error) {
	switch s = strings.TrimSpace(s); s {
	case "":
		return nil, errors.New("empty: want json, md, junit, html or all (comma-separated)")
	case "all":
		return allFormats(), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		f = cmp.Or(map[string]string{"markdown": FormatMarkdown, "xml": FormatJUnit}[f], f)
		if !slices.Contains(allFormats(), f) {
			return nil, fmt.Errorf("unknown format %q (want json, md, junit, html or all)", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// FileName returns the file a format writes in a report directory ("" for an unknown format).
func FileName(f string) string {
	name, _ := format(f)
	return name
}

// DefaultDir is the default report directory of a run started at t: reports/<UTC timestamp>-<kind>.
func DefaultDir(t time.Time, kind string) string {
	return filepath.Join("reports", t.UTC().Format("20060102T150405Z")+"-"+kind)
}

// Option changes a rendered file before it is written (Render, WriteDir).
type Option func(string) string

// Scrub passes every rendered file through f before a byte of it is written: the CLI passes its
// redactor's String, so that no secret the run learned reaches a report file.
func Scrub(f func(string) string) Option { return f }

// Render returns the report in one format, through the options in order.
func Render(r *Report, f string, opts ...Option) ([]byte, error) {
	_, w := format(f)
	if w == nil {
		return nil, fmt.Errorf("reports: unknown format %q", f)
	}
	var buf strings.Builder
	if err := w(&buf, r); err != nil {
		return nil, err
	}
	s := buf.String()
	for _, opt := range opts {
		s = opt(s)
	}
	return []byte(s), nil
}

// WriteDir writes the report in each format, and evidence.csv when there is evidence, into dir
// (claimed: ClaimDir), going on after a failure, and returns the paths written. Each file is synced
// under a temporary name and renamed into place: a crash never leaves one truncated, and a
// symbolic link at its name is replaced, never followed.
func WriteDir(dir string, r *Report, formats []string, opts ...Option) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: write %s: %w", dir, err)
	}
	defer root.Close()
	if hasEvidence(r) {
		formats = append(slices.Clip(formats), formatEvidence)
	}
	var written []string
	var errs []error
	for _, f := range formats {
		path := filepath.Join(dir, FileName(f))
		data, err := Render(r, f, opts...)
		if err == nil {
			err = writeAtomic(root, FileName(f), data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reports: write %s: %w", path, err))
			continue
		}
		written = append(written, path)
	}
	return written, errors.Join(errs...)
}

// writeAtomic is the package's one atomic writer: a synced temporary file in root renamed to name.
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
