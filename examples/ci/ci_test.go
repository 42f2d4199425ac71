package ci

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xoneharness/xoneharness/load"
	"go.yaml.in/yaml/v3"
)

func readYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc), "%s does not parse", name)
	return doc
}

// get walks doc along keys (map keys, or integer indexes written as
// strings are not supported: use steps for lists).
func get(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "%s is not a mapping", strings.Join(keys[:i], "."))
		cur, ok = m[k]
		require.True(t, ok, "missing %s", strings.Join(keys[:i+1], "."))
	}
	return cur
}

type step struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

type job struct {
	If    string `yaml:"if"`
	Steps []step `yaml:"steps"`
}

func TestGitHubActions(t *testing.T) {
	doc := readYAML(t, "github-actions.yml")
	// yaml.v3 decodes the key `on` as the string "on" (YAML 1.2 core schema).
	on := get(t, doc, "on").(map[string]any)
	assert.Contains(t, on, "pull_request")
	cron := get(t, on, "schedule").([]any)
	require.Len(t, cron, 1)
	assert.Regexp(t, `^(\S+\s+){4}\S+$`, cron[0].(map[string]any)["cron"], "a five-field cron expression")

	b, err := os.ReadFile("github-actions.yml")
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]job `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &wf))

	t.Run("pull request job runs make test", func(t *testing.T) {
		j, ok := wf.Jobs["test"]
		require.True(t, ok)
		assert.Contains(t, j.If, "pull_request")
		assert.True(t, hasRun(j.Steps, "make test"))
		assert.True(t, hasUses(j.Steps, "actions/setup-go@"))
	})
	t.Run("nightly job", func(t *testing.T) {
		j, ok := wf.Jobs["nightly"]
		require.True(t, ok)
		assert.Contains(t, j.If, "schedule")
		build := findStep(j.Steps, "go build -o bin/xoneharness ./cmd/xoneharness")
		require.NotNil(t, build, "xoneharness is built before offers are made")
		run := findStep(j.Steps, "bin/xoneharness run")
		require.NotNil(t, run, "a step runs xoneharness run")
		assert.Less(t, indexOf(j.Steps, build), indexOf(j.Steps, run), "build before the run")
		assert.Contains(t, run.Run, "--report-dir reports/nightly")
		assert.Contains(t, run.Run, "--baseline baseline/summary.json")
		checkOffersPipe(t, run.Run)
		checkExitCodes(t, run.Run)
		for _, s := range []string{"XONE_BASE_URL", "XONE_CLIENT_ID", "XONE_CLIENT_SECRET", "XONE_PARTNER_ID"} {
			assert.Equal(t, "${{ secrets."+s+" }}", run.Env[s], "%s comes from a secret", s)
		}
		assert.NotEmpty(t, run.ID, "the run step has an id for later conditions")

		restore := stepUsing(j.Steps, "actions/cache/restore@")
		require.NotNil(t, restore, "the baseline is restored")
		assert.Equal(t, "baseline", restore.With["path"])
		assert.Less(t, indexOf(j.Steps, restore), indexOf(j.Steps, run), "restore before the run")

		upload := stepUsing(j.Steps, "actions/upload-artifact@")
		require.NotNil(t, upload, "reports are uploaded")
		assert.Equal(t, "always()", upload.If, "reports are uploaded when the run fails too")
		assert.Contains(t, upload.With["path"], "reports/nightly")

		summary := findStep(j.Steps, `>> "$GITHUB_STEP_SUMMARY"`)
		require.NotNil(t, summary, "report.md goes to the job summary")
		assert.Contains(t, summary.Run, "reports/nightly/report.md")
		assert.Equal(t, "always()", summary.If)

		save := stepUsing(j.Steps, "actions/cache/save@")
		require.NotNil(t, save, "the baseline is saved")
		assert.Contains(t, save.If, "steps."+run.ID+".outcome == 'success'", "only a passing night becomes the baseline")
	})
}

func TestGitLabCI(t *testing.T) {
	doc := readYAML(t, "gitlab-ci.yml")
	assert.Equal(t, []any{"test", "nightly"}, get(t, doc, "stages"))
	t.Run("test job", func(t *testing.T) {
		assert.Contains(t, get(t, doc, "test", "script"), "make test")
	})
	t.Run("nightly job", func(t *testing.T) {
		assert.Equal(t, "reports/nightly/junit.xml", get(t, doc, "nightly", "artifacts", "reports", "junit"))
		assert.Equal(t, "always", get(t, doc, "nightly", "artifacts", "when"), "reports kept when the run fails")
		rules := get(t, doc, "nightly", "rules").([]any)
		require.NotEmpty(t, rules)
		assert.Contains(t, rules[0].(map[string]any)["if"], `$CI_PIPELINE_SOURCE == "schedule"`)
		script := strings.Join(toStrings(get(t, doc, "nightly", "script").([]any)), "\n")
		assert.Contains(t, script, "go build -o bin/xoneharness ./cmd/xoneharness")
		assert.Contains(t, script, "bin/xoneharness run --report-dir reports/nightly")
		assert.Contains(t, script, "--baseline baseline/summary.json")
		checkOffersPipe(t, script)
		checkExitCodes(t, script)
		assert.Contains(t, script, "reports/nightly/summary.json", "the baseline comes from the last nightly's artifacts")
	})
}

// checkOffersPipe checks that script makes its own offers and pipes them into
// the run.
func checkOffersPipe(t *testing.T, script string) {
	t.Helper()
	assert.Regexp(t, `sh examples/ci/make-offers\.sh "\$\{XONE_OFFERS:-\d+\}" \|\s*\n?[^\n]*bin/xoneharness run `, script,
		"the stand-in generator is piped into xoneharness run")
	assert.Contains(t, script, "--offers -", "the run reads its offers from standard input")
}

// checkExitCodes checks that script fails with its own message for each exit
// code, 4 (incomplete) apart from 1 (findings), and exits with the run's code.
func checkExitCodes(t *testing.T, script string) {
	t.Helper()
	for code, word := range map[string]string{"1": "findings", "2": "configuration", "3": "infrastructure", "4": "incomplete"} {
		assert.Regexp(t, `(?m)^\s*`+code+`\) echo "[^"]*`+word, script, "exit code %s has its own message", code)
	}
	assert.Regexp(t, `(?m)^\s*exit "?\$code"?\s*$`, script, "the step fails with the run's exit code")
}

// TestMakeOffers runs the stand-in generator and reads its output with the
// harness's own offers reader: a header and N valid, distinct rows.
func TestMakeOffers(t *testing.T) {
	if _, err := os.Stat("/dev/urandom"); err != nil {
		t.Skip("no /dev/urandom")
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, n := range []int{1, 250} {
		out, err := exec.Command("sh", "make-offers.sh", strconv.Itoa(n)).Output()
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		require.Equal(t, "offer_id,quote_id", lines[0], "a header first")
		require.Len(t, lines, n+1, "a header and %d rows", n)
		offers, err := readOffers(strings.NewReader(string(out)), "make-offers.sh")
		require.NoError(t, err, "the rows are valid offers, without duplicates")
		require.Len(t, offers, n)
		ids := map[string]bool{}
		for _, o := range offers {
			assert.Regexp(t, uuid, o.OfferID)
			assert.Regexp(t, uuid, o.QuoteID)
			ids[o.OfferID], ids[o.QuoteID] = true, true
		}
		assert.Len(t, ids, 2*n, "every id is fresh")
	}
	two := make([]string, 2)
	for i := range two {
		out, err := exec.Command("sh", "make-offers.sh", "5").Output()
		require.NoError(t, err)
		two[i] = string(out)
	}
	assert.NotEqual(t, two[0], two[1], "each call makes new offers")

	err := exec.Command("sh", "make-offers.sh", "ten").Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "a count that is not a number is refused")
	assert.Equal(t, 2, ee.ExitCode())
}

func toStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}

func findStep(steps []step, run string) *step {
	for i := range steps {
		if strings.Contains(steps[i].Run, run) {
			return &steps[i]
		}
	}
	return nil
}

func stepUsing(steps []step, uses string) *step {
	for i := range steps {
		if strings.HasPrefix(steps[i].Uses, uses) {
			return &steps[i]
		}
	}
	return nil
}

func hasRun(steps []step, run string) bool { return findStep(steps, run) != nil }

func hasUses(steps []step, uses string) bool { return stepUsing(steps, uses) != nil }

func indexOf(steps []step, s *step) int {
	for i := range steps {
		if &steps[i] == s {
			return i
		}
	}
	return -1
}

// readOffers reads every offer of a feed as a run does.
func readOffers(r io.Reader, name string) ([]load.Offer, error) {
	s := load.NewOfferStream(r, name, load.StreamOptions{})
	defer func() { _ = s.Close() }()
	var out []load.Offer
	for {
		o, _, ok := s.Next()
		if !ok {
			return out, s.Err()
		}
		out = append(out, o)
	}
}
