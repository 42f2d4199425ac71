package contract

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xoneharness/xoneharness/internal/sandbox"
)

// TestCoverage runs the suite against the embedded sandbox: every judged
// answer counts in Result.Coverage (the race check's answers do not), the
// default sandbox leaves documented members never exercised, and a sandbox
// sending every optional member leaves none; a replay of the recordings
// gives the same figures.
func TestCoverage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []sandbox.Option
		wantNever bool
	}{
		{"default sandbox", nil, true},
		{"every member", []sandbox.Option{sandbox.EveryMember()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRun(t, sandboxConfig(t, sandbox.StartTB(t, tc.opts...), false))
			require.NotNil(t, res.Coverage, "coverage of a run that judged answers")
			judged := 0
			for _, c := range res.Cases {
				if c.Status != 0 && c.Race == nil {
					judged++
				}
			}
			cov := res.Coverage
			assert.Equal(t, int64(judged), cov.Responses, "responses counted: one per judged answer")
			assert.Positive(t, cov.Documented, "documented paths")
			var never []string
			for _, s := range cov.Schemas {
				never = append(never, s.NeverExercised...)
			}
			if tc.wantNever {
				assert.NotEmpty(t, never, "never exercised by the default sandbox")
				assert.Less(t, cov.Exercised, cov.Documented)
			} else {
				assert.Empty(t, never, "never exercised with every member sent")
				assert.Equal(t, cov.Documented, cov.Exercised)
			}

			dir := t.TempDir()
			require.NoError(t, Record(dir, res))
			rep, err := Replay(dir, loadSpec(t, false), false)
			require.NoError(t, err)
			require.NotNil(t, rep.Coverage, "coverage of a replay")
			assert.Equal(t, cov.Exercised, rep.Coverage.Exercised, "a replay exercises what the run did")
		})
	}
}
