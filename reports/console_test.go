package reports

import (
	"bytes"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/load"
	"github.com/xoneharness/xoneharness/spec"
)

// TestConsoleGolden: what the CLI prints of each sample report (the case
// lines, counts and generated cases of a contract; the final table of a
// load; the verdict lines, with and without a report directory) is the
// golden text.
func TestConsoleGolden(t *testing.T) {
	for name, build := range samples() {
		t.Run(name, func(t *testing.T) {
			r := build()
			var buf bytes.Buffer
			for _, part := range []string{ConsoleContract, ConsoleLoad} {
				require.NoError(t, Console(&buf, r, part))
			}
			require.NoError(t, ConsoleVerdict(&buf, r, "reports/out", true))
			require.NoError(t, ConsoleVerdict(&buf, r, "reports/out", false))
			require.NoError(t, ConsoleVerdict(&buf, r, "", false))
			golden(t, name+".console.txt", buf.Bytes())
		})
	}
}

// TestConsolePlanGolden: the plan description of a dry run, for a rate and
// for stages, with each kind of offer feed (generated, a stream, a file
// shorter than the plan, one long enough), the gates on and off.
func TestConsolePlanGolden(t *testing.T) {
	rate := load.Plan{Rate: "5/s", Duration: 4 * time.Second, Thresholds: []string{"p99<1s"}}.WithGates(false).WithDefaults()
	stages := load.Plan{Stages: []load.Stage{{Duration: 2 * time.Second, Target: 2}, {Duration: time.Second, Target: 0.5}},
		MaxRequests: 3}.WithGates(true).WithDefaults()
	var buf bytes.Buffer
	for _, tt := range []struct {
		p      load.Plan
		offers int
	}{{rate, load.OffersGenerated}, {rate, load.OffersStream}, {rate, 7}, {rate, 20}, {stages, 2}} {
		require.NoError(t, ConsolePlan(&buf, tt.p, "https://partner-sandbox.example", tt.offers))
		buf.WriteString("--\n")
	}
	golden(t, "plan.console.txt", buf.Bytes())
}

// TestConsolePreflight: the preflight line counts the defects and those the
// overlay fixes, and the note says the same for the report.
func TestConsolePreflight(t *testing.T) {
	var buf bytes.Buffer
	note, err := ConsolePreflight(&buf, "embedded vendor document", []spec.Defect{{Handled: true}, {}, {Handled: true}})
	require.NoError(t, err)
	assert.Equal(t, "spec: embedded vendor document: 3 defects, 2 fixed by the overlay\n", buf.String())
	assert.Equal(t, "spec preflight: 3 vendor defects, 2 fixed by the overlay", note)
}

// TestConsoleParts: a part Console does not know is an error and writes
// nothing; a section the report lacks writes nothing.
func TestConsoleParts(t *testing.T) {
	var buf bytes.Buffer
	assert.Error(t, Console(&buf, sampleRun(), "verdict"))
	require.NoError(t, Console(&buf, sampleError(), ConsoleContract))
	require.NoError(t, Console(&buf, sampleError(), ConsoleLoad))
	assert.Empty(t, buf.String())
}

// TestTemplateNamesUnique: the plain-text template files share one set, in
// which a second template of a name would silently replace the first.
func TestTemplateNamesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, file := range []string{"assets/console.tmpl", "assets/text.tmpl"} {
		set := template.Must(template.New("").Funcs(funcs).ParseFS(assets, file))
		for _, tm := range set.Templates() {
			if name := tm.Name(); name != "" && !strings.HasSuffix(file, name) {
				assert.Empty(t, seen[name], "template %q in %s and %s", name, seen[name], file)
				seen[name] = file
			}
		}
	}
	assert.NotEmpty(t, seen)
}
