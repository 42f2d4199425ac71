package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	switch format {
	case FormatJSON:
		return JSON
	case FormatMarkdown:
		return Markdown
	case FormatJUnit:
		return JUnit
	case FormatHTML:
		return HTML
	}
	return nil
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
	seen := map[string]bool{}
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
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// DefaultDir is the default report directory for a run of the given kind
// started at t: reports/<UTC timestamp>-<kind>.
func DefaultDir(t time.Time, kind string) string {
	return filepath.Join("reports", t.UTC().Format("20060102T150405Z")+"-"+kind)
}

// WriteDir writes the report in each format into dir and returns the paths
// written. Every file is written to a temporary name and renamed into place,
// so a crash never leaves a truncated summary.json. It does not claim dir: a
// run writes through its Claim (Claim.WriteReport) instead.
func WriteDir(dir string, r *Report, formats []string) ([]string, error) {
	return writeFormats(r, formats, func(name string) string { return filepath.Join(dir, name) },
		func(name string, data []byte) error { return WriteFileAtomic(filepath.Join(dir, name), data) })
}

// writeFormats renders each format and hands the bytes to write under the
// format's file name; path names the file for the list returned.
func writeFormats(r *Report, formats []string, path func(string) string, write func(string, []byte) error) ([]string, error) {
	var written []string
	var errs []error
	for _, f := range formats {
		wr := writerFor(f)
		if wr == nil {
			return written, fmt.Errorf("reports: unknown format %q", f)
		}
		var buf bytes.Buffer
		if err := wr(&buf, r); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := write(FileName(f), buf.Bytes()); err != nil {
			errs = append(errs, err)
			continue
		}
		written = append(written, path(FileName(f)))
	}
	return written, errors.Join(errs...)
}

// FileName returns the file a format writes in a report directory, e.g.
// "summary.json" for "json"; "" for an unknown format.
func FileName(format string) string {
	switch format {
	case FormatJSON:
		return "summary.json"
	case FormatMarkdown:
		return "report.md"
	case FormatJUnit:
		return "junit.xml"
	case FormatHTML:
		return "report.html"
	}
	return ""
}

// WriteFileAtomic writes data to a temporary file in path's directory, syncs
// it and renames it to path.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("reports: write %s: %w", path, werr)
	}
	return nil
}
