package deploy

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToolModuleHasNoKubernetes keeps the Kubernetes API modules, which only
// these manifest tests need, out of the tool's module: nothing in the module
// graph of github.com/xoneharness/xoneharness may come from k8s.io or
// sigs.k8s.io, so that a user who builds or imports the tool never downloads
// them.
func TestToolModuleHasNoKubernetes(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "graph")
	cmd.Dir = toolModuleDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "go mod graph in %s:\n%s", toolModuleDir, stderr.String())
	edges := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.NotEmpty(t, edges)
	assert.True(t, strings.HasPrefix(edges[0], "github.com/xoneharness/xoneharness "),
		"got first edge %q, want one from github.com/xoneharness/xoneharness", edges[0])
	var k8s []string
	for _, e := range edges {
		for _, mod := range strings.Fields(e) {
			if strings.HasPrefix(mod, "k8s.io/") || strings.HasPrefix(mod, "sigs.k8s.io/") {
				k8s = append(k8s, e)
				break
			}
		}
	}
	assert.Empty(t, k8s, "got Kubernetes modules in the tool's module graph, want none (they belong in deploy/go.mod)")
}
