package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// toolModuleDir is the root of the tool's module, github.com/xoneharness/xoneharness.
const toolModuleDir = ".."

// harness is the xoneharness binary built once by TestMain (buildErr when the
// build failed: the tests that need it fail with that error, they do not skip).
var harness struct {
	path     string
	buildErr error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xoneharness-deploy-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy: temp dir:", err)
		os.Exit(2)
	}
	harness.path, harness.buildErr = buildHarness(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHarness builds ./cmd/xoneharness of the tool's module (the parent
// directory) into dir. The build runs there, so the binary under test is built
// with the tool's own go.mod, as `go build` in the repository root builds it,
// not with the dependency versions this test module selects; the default build
// settings let the build cache of `go build` and `go test` serve it.
func buildHarness(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build xoneharness: %w", err)
	}
	out := filepath.Join(dir, "xoneharness")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/xoneharness")
	cmd.Dir = toolModuleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build xoneharness: %w\n%s", err, stderr.String())
	}
	return out, nil
}

// harnessPath returns the built binary or fails the test.
func harnessPath(t *testing.T) string {
	t.Helper()
	if harness.buildErr != nil {
		t.Fatal(harness.buildErr)
	}
	return harness.path
}

// runHarness runs the binary with args and env (only env: no XONE_* variable
// of the caller leaks in) and returns stdout, stderr and the exit code.
func runHarness(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harnessPath(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run xoneharness %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}
