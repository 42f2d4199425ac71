// Package deploy holds the Kubernetes manifests that run xoneharness load as
// shards of an Indexed Job (k8s/), and the tests that keep them honest. It has
// no Go API: the package exists for its tests.
//
// k8s_test.go decodes every manifest strictly with the k8s.io/api types,
// checks the fields that matter (indexed mode, completions, the --shard
// argument, env wiring to the Secret and ConfigMaps, volumes, resources,
// security context, no retries) and dry-runs the real CLI with the expanded
// arguments of each shard pod. shards_test.go is the proof on one machine:
// one standalone sandbox, N shard processes, one merge, compared with a single
// process at the same total rate. shards-demo.sh does the same by hand:
//
//	deploy/shards-demo.sh          # 3 shards, 150/s for 2s
//	SHARDS=2 RATE=100/s deploy/shards-demo.sh
//
// grace_test.go sends a shard pod's own command SIGTERM with requests in flight
// and checks it writes its report well inside terminationGracePeriodSeconds.
//
// The directory is a Go module of its own (github.com/xoneharness/xoneharness/deploy,
// with a replace of the tool's module by ../): the Kubernetes API modules the
// tests decode with stay out of the tool's module, which module_test.go
// checks. The tests build the CLI in the tool's module, with its go.mod.
//
// See README.md for building the image and running the Job.
package deploy
