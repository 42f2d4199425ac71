package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Shard is one part of a distributed run: shard Index of Count (0-based), as
// run by a Kubernetes Indexed Job's pod with JOB_COMPLETION_INDEX.
type Shard struct {
	Index int
	Count int
}

// maxShards bounds Count.
const maxShards = 1000

// ParseShard parses "I/N" (0 <= I < N <= 1000), e.g. "0/3".
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, e.g. 0/3", s)
	case n < 1 || n > maxShards:
		return Shard{}, fmt.Errorf("shard %q: count must be between 1 and %d", s, maxShards)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: index must be between 0 and %d", s, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Plan returns p with its rate profile divided by Count, so the shards
// together send the whole profile: a constant rate "F/P" becomes
// "F/(P*Count)" (50/s over 3 shards is 50 per 3 s each) and every stage's
// target is divided by Count.
func (s Shard) Plan(p Plan) (Plan, error) {
	if s.Count <= 1 {
		return p, nil
	}
	if p.Rate != "" {
		r, err := ParseRate(p.Rate)
		if err != nil {
			return p, err
		}
		p.Rate = strconv.Itoa(r.Freq) + "/" + (r.Per * time.Duration(s.Count)).String()
	}
	stages := make([]Stage, len(p.Stages))
	for i, st := range p.Stages {
		stages[i] = Stage{Duration: st.Duration, Target: st.Target / float64(s.Count)}
	}
	if len(stages) > 0 {
		p.Stages = stages
	}
	return p, nil
}
