package spec

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Files names the files a Spec is built from: Document is an OpenAPI 3 document (JSON or YAML),
// "" for the embedded vendor document; Overlay is an OpenAPI Overlay 1.0 document that corrects
// it, "" for the embedded overlay. Each method reads the files anew.
type Files struct {
	Document string
	Overlay  string
}

// FileError is the error of Files' methods when a file cannot be read: Input is "document" (Err is
// ReadDocument's, a *LimitError included) or "overlay" (Err is the file system's). Test with
// errors.As.
type FileError struct {
	Input string
	Err   error
}

func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// Name names the document for messages: Document, or "embedded vendor document".
func (f Files) Name() string {
	if f.Document == "" {
		return "embedded vendor document"
	}
	return f.Document
}

// Load builds the Spec of the files as Load does, Strict when strict; it returns when ctx ends.
// Errors are a *FileError, or Load's.
func (f Files) Load(ctx context.Context, strict bool) (*Spec, error) {
	_, opts, err := f.options(ctx)
	if err != nil {
		return nil, err
	}
	if strict {
		opts = append(opts, Strict())
	}
	return Load(opts...)
}

// Lint lists the document's defects and how the overlay handles each, as Lint does; it returns
// when ctx ends. Errors are a *FileError, or Lint's.
func (f Files) Lint(ctx context.Context) ([]Defect, error) {
	doc, opts, err := f.options(ctx)
	if err != nil {
		return nil, err
	}
	return Lint(doc, opts...)
}

// DiffFiles reports what changed from the first document of paths to the last, as Diff does:
// paths are OLD NEW, or NEW alone to compare with the embedded vendor document; it returns when
// ctx ends. It also returns OLD's name for messages (Files.Name). A file that cannot be read is a
// *FileError whose message starts with the file's path.
func DiffFiles(ctx context.Context, paths ...string) (*DiffReport, string, error) {
	if len(paths) < 1 || len(paths) > 2 {
		return nil, "", fmt.Errorf("spec: diff: want one or two documents, got %d", len(paths))
	}
	docs, names := [][]byte{Vendor()}, []string{Files{}.Name()}
	for _, path := range paths {
		b, err := ReadDocument(path)
		if err != nil {
			return nil, "", &FileError{"document", fmt.Errorf("%s: %w", path, err)}
		}
		docs, names = append(docs, b), append(names, path)
	}
	rep, err := Diff(docs[len(docs)-2], docs[len(docs)-1], Context(ctx))
	return rep, names[len(names)-2], err
}

// options reads the files: the document and the options that load it with ctx. The overlay is
// read to one byte beyond MaxDocumentSize, enough for the loader to refuse it.
func (f Files) options(ctx context.Context) ([]byte, []Option, error) {
	doc := Vendor()
	if f.Document != "" {
		b, err := ReadDocument(f.Document)
		if err != nil {
			return nil, nil, &FileError{"document", err}
		}
		doc = b
	}
	opts := []Option{Context(ctx), FromDocument(doc)}
	if f.Overlay != "" {
		file, err := os.Open(f.Overlay)
		if err != nil {
			return nil, nil, &FileError{"overlay", err}
		}
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, MaxDocumentSize+1))
		if err != nil {
			return nil, nil, &FileError{"overlay", err}
		}
		opts = append(opts, WithOverlay(b))
	}
	return doc, opts, nil
}
