package load

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/xoneharness/xoneharness/internal/fsx"
)

// ResultsFile is the name of a run's raw results in its output directory.
const ResultsFile = "results.bin"

// resultsWriter streams results to results.bin (vegeta gob) without bodies
// or response headers. It is used from the collector's goroutine only.
type resultsWriter struct {
	f   *os.File
	buf *bufio.Writer
	enc vegeta.Encoder
	err error
	hdr http.Header // reused for every result: the encoder does not keep it
	val []string    // hdr[IntendedHeader]
}

// newResultsWriter creates dir/results.bin exclusively (never through a
// symbolic link): an earlier run's results are never truncated.
func newResultsWriter(dir string) (*resultsWriter, error) {
	f, err := fsx.CreateExclusive(filepath.Join(dir, ResultsFile), 0o644)
	if err != nil {
		return nil, fmt.Errorf("load: results: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	val := make([]string, 1)
	return &resultsWriter{f: f, buf: buf, enc: vegeta.NewEncoder(buf), hdr: http.Header{IntendedHeader: val}, val: val}, nil
}

// write encodes r with Body dropped and Headers replaced by the intended
// send time. It does not keep r.
func (w *resultsWriter) write(r *vegeta.Result, intended time.Time) {
	if w.err != nil {
		return
	}
	out := *r
	out.Body = nil
	w.val[0] = strconv.FormatInt(intended.UnixNano(), 10)
	out.Headers = w.hdr
	if err := w.enc.Encode(&out); err != nil {
		w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
	}
}

// resultsFlushEvery bounds how long a result stays in memory: a killed run's
// results.bin lacks at most this much, and its last record may be cut
// (MergeResults reads up to it).
const resultsFlushEvery = 10 * time.Millisecond

// flush writes the buffered results to the file.
func (w *resultsWriter) flush() error {
	if w.err == nil {
		if err := w.buf.Flush(); err != nil {
			w.err = fmt.Errorf("load: write %s: %w", ResultsFile, err)
		}
	}
	return w.err
}

func (w *resultsWriter) close() error {
	err := w.flush()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: close %s: %w", ResultsFile, cerr)
	}
	return err
}
