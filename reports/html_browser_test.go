package reports

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keepShot = flag.String("screenshot", "", "write the Chromium screenshot of the sample report to this PNG file")

// chromiumPath is Debian's chromium package binary.
const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on a file with extra arguments and
// returns its stdout and stderr. Logging goes to stderr so console messages
// can be checked; the network is cut (every host resolves to nothing).
func chromium(t *testing.T, file string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
	}
	cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), "file://"+file)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// A fresh HOME keeps Chromium from touching the user's profile files.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	err := cmd.Run()
	require.NoError(t, err, "chromium failed: %s", tail(errb.String(), 2000))
	return out.String(), errb.String()
}

// consoleLines returns the console messages Chromium logged (console.log,
// errors, uncaught exceptions, blocked resources).
func consoleLines(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			out = append(out, line)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser check skipped: %s not found (install Debian's chromium package: apt-get install -y chromium; the project's test script does this)", chromiumPath)
	}
}

// TestHTMLInChromium opens the sample run report in headless Chromium: the
// DOM has the three charts, the page logs nothing to the console, the
// screenshot shows the red verdict banner and the page prints to PDF.
func TestHTMLInChromium(t *testing.T) {
	requireChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	require.NoError(t, HTML(&buf, sampleRun()))
	require.NoError(t, os.WriteFile(page, buf.Bytes(), 0o644))

	t.Run("dom", func(t *testing.T) {
		dom, stderr := chromium(t, page, "--dump-dom")
		assert.Empty(t, consoleLines(stderr), "console messages")
		for _, id := range []string{"chart-latency", "chart-distribution", "chart-throughput"} {
			assert.Contains(t, dom, `<svg class="chart" id="`+id+`"`, "chart %s in the DOM", id)
		}
		assert.Equal(t, 3, strings.Count(dom, "<svg "), "svg elements in the DOM")
		assert.NotContains(t, strings.ToLower(dom), "<script", "no script element after parsing")
		assert.Contains(t, dom, "&lt;script&gt;alert(1)&lt;/script&gt;", "the partner body is text")
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		_, stderr := chromium(t, page, "--screenshot="+shot, "--window-size=1280,2000")
		assert.Empty(t, consoleLines(stderr), "console messages")
		f, err := os.Open(shot)
		require.NoError(t, err)
		defer f.Close()
		img, err := png.Decode(f)
		require.NoError(t, err)
		assert.Equal(t, image.Rect(0, 0, 1280, 2000), img.Bounds())
		// The verdict banner (fail: #fdecea background, #b71c1c border)
		// sits near the top; sample its background right of the text.
		assert.True(t, near(img.At(1150, 105), color.RGBA{0xfd, 0xec, 0xea, 0xff}, 12),
			"banner background at (1150,105) is %v, want about #fdecea", img.At(1150, 105))
		assert.Greater(t, distinctColors(img, 4), 50, "the page is not blank")
		if *keepShot != "" {
			png, err := os.ReadFile(shot)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(*keepShot, png, 0o644))
			t.Logf("screenshot written to %s", *keepShot)
		}
	})

	t.Run("print", func(t *testing.T) {
		pdf := filepath.Join(dir, "report.pdf")
		_, stderr := chromium(t, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
		assert.Empty(t, consoleLines(stderr), "console messages")
		b, err := os.ReadFile(pdf)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte("%PDF-")), "a PDF")
		assert.Greater(t, len(b), 20_000, "the PDF has content")
	})
}

// TestChromiumConsoleCheck shows that the console check can fail: a page
// with a throwing script logs console lines.
func TestChromiumConsoleCheck(t *testing.T) {
	requireChromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!DOCTYPE html><p>x</p><script>undefinedFn()</script>`), 0o644))
	_, stderr := chromium(t, page, "--dump-dom")
	lines := consoleLines(stderr)
	require.NotEmpty(t, lines, "a throwing script must show up as a console line")
	assert.Contains(t, strings.Join(lines, "\n"), "undefinedFn")
}

func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) int {
		v := int(x>>8) - int(y)
		if v < 0 {
			v = -v
		}
		return v
	}
	return d(r, want.R) <= tol && d(g, want.G) <= tol && d(b, want.B) <= tol
}

// distinctColors counts the colours of every step-th pixel.
func distinctColors(img image.Image, step int) int {
	seen := map[color.RGBA]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += step {
		for x := bounds.Min.X; x < bounds.Max.X; x += step {
			r, g, b, a := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}] = true
		}
	}
	return len(seen)
}
