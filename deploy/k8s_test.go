package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/xoneharness/xoneharness/load"
)

// manifestDir holds the manifests under test.
const manifestDir = "k8s"

// defaultRequestTimeout is the CLI's default per-request --timeout, which the
// shard pods do not override: the Job's deadline must cover it.
const defaultRequestTimeout = load.DefaultTimeout

// manifests are the decoded objects of manifestDir, by name.
type manifests struct {
	jobs       map[string]*batchv1.Job
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	pvcs       map[string]*corev1.PersistentVolumeClaim
	pods       map[string]*corev1.Pod
}

// strictDecoder is apimachinery's YAML serializer in strict mode: unknown
// fields (case-sensitive) and duplicate fields are errors, and only the kinds
// registered here decode.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, batchv1.AddToScheme(scheme))
	require.NoError(t, corev1.AddToScheme(scheme))
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeAll decodes every YAML document of data strictly.
func decodeAll(dec runtime.Decoder, data []byte) ([]runtime.Object, error) {
	r := kyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			b.Write(line)
		}
	}
	return b.Bytes()
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	dec := strictDecoder(t)
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no manifests in %s", manifestDir)
	m := manifests{
		jobs: map[string]*batchv1.Job{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, pvcs: map[string]*corev1.PersistentVolumeClaim{},
		pods: map[string]*corev1.Pod{},
	}
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, err := decodeAll(dec, data)
		require.NoError(t, err, "%s: strict decode", f)
		require.NotEmpty(t, objs, "%s holds no object", f)
		for _, obj := range objs {
			var name string
			switch o := obj.(type) {
			case *batchv1.Job:
				name, m.jobs[o.Name] = "Job/"+o.Name, o
			case *corev1.ConfigMap:
				name, m.configMaps[o.Name] = "ConfigMap/"+o.Name, o
			case *corev1.Secret:
				name, m.secrets[o.Name] = "Secret/"+o.Name, o
			case *corev1.PersistentVolumeClaim:
				name, m.pvcs[o.Name] = "PersistentVolumeClaim/"+o.Name, o
			case *corev1.Pod:
				name, m.pods[o.Name] = "Pod/"+o.Name, o
			default:
				t.Fatalf("%s: unexpected kind %T", f, obj)
			}
			if prev, dup := seen[name]; dup {
				t.Errorf("%s is defined in %s and %s", name, prev, f)
			}
			seen[name] = f
		}
	}
	return m
}

// TestStrictDecoder proves that the decoder used on the manifests rejects
// what a lenient one would silently drop.
func TestStrictDecoder(t *testing.T) {
	dec := strictDecoder(t)
	base := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n"
	tests := []struct {
		name, doc string
		wantErr   bool
	}{
		{"valid", base, false},
		{"unknown field", base + "  completionMod: Indexed\n", true},
		{"wrong case", base + "  CompletionMode: Indexed\n", true},
		{"duplicate field", base + "  parallelism: 1\n  parallelism: 2\n", true},
		{"unknown kind", "apiVersion: batch/v1\nkind: Jobb\nmetadata: {name: x}\n", true},
		{"wrong apiVersion", strings.Replace(base, "batch/v1", "apps/v1", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(dec, []byte(tt.doc))
			if tt.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

// harnessContainer returns the job's single container and the xoneharness
// subcommand it runs (its first argument).
func harnessContainer(t *testing.T, job *batchv1.Job) (corev1.Container, string) {
	t.Helper()
	cs := job.Spec.Template.Spec.Containers
	require.Len(t, cs, 1, "job %s: want one container", job.Name)
	require.NotEmpty(t, cs[0].Args, "job %s: no args", job.Name)
	assert.Empty(t, cs[0].Command, "job %s: the image's entrypoint is xoneharness; set args only", job.Name)
	return cs[0], cs[0].Args[0]
}

// jobRunning returns the one job whose container runs subcommand.
func (m manifests) jobRunning(t *testing.T, subcommand string) *batchv1.Job {
	t.Helper()
	var found []*batchv1.Job
	for _, j := range m.jobs {
		if _, sub := harnessContainer(t, j); sub == subcommand {
			found = append(found, j)
		}
	}
	require.Len(t, found, 1, "want exactly one Job running xoneharness %s", subcommand)
	return found[0]
}

var shardArg = regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$`)

// flagValue returns the value of --name in args ("--name=v" or "--name v"),
// all values when repeated.
func flagValues(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		n, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if n != name {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			v = args[i]
		}
		out = append(out, v)
	}
	return out
}

func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	vs := flagValues(args, name)
	require.Len(t, vs, 1, "want --%s once in %q", name, args)
	return vs[0]
}

// positional returns the arguments after the subcommand that are not flags
// (every flag in the manifests is written --name=value or is boolean).
func positional(args []string) []string {
	var out []string
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

func TestShardJob(t *testing.T) {
	m := loadManifests(t)
	job := m.jobRunning(t, "load")
	spec := job.Spec
	c, _ := harnessContainer(t, job)

	shard := flagValue(t, c.Args, "shard")
	match := shardArg.FindStringSubmatch(shard)
	require.NotNil(t, match, "--shard=%s: want $(JOB_COMPLETION_INDEX)/N", shard)
	n, err := strconv.Atoi(match[1])
	require.NoError(t, err)

	t.Run("indexed mode", func(t *testing.T) {
		require.NotNil(t, spec.CompletionMode)
		assert.Equal(t, batchv1.IndexedCompletion, *spec.CompletionMode)
		require.NotNil(t, spec.Completions)
		require.NotNil(t, spec.Parallelism)
		assert.Equal(t, int32(n), *spec.Completions, "completions, want the N of --shard=%s", shard)
		assert.Equal(t, int32(n), *spec.Parallelism, "parallelism: every shard runs at once")
		assert.GreaterOrEqual(t, n, 2, "a sharded run needs N >= 2")
		for i := range n {
			_, err := load.ParseShard(strings.Replace(shard, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i), 1))
			assert.NoError(t, err, "shard %d", i)
		}
	})

	t.Run("no retries", func(t *testing.T) {
		require.NotNil(t, spec.BackoffLimit, "backoffLimit unset defaults to 6 retries")
		assert.Equal(t, int32(0), *spec.BackoffLimit)
		if spec.BackoffLimitPerIndex != nil {
			assert.Equal(t, int32(0), *spec.BackoffLimitPerIndex)
		}
		if spec.PodFailurePolicy != nil {
			for _, r := range spec.PodFailurePolicy.Rules {
				assert.NotEqual(t, batchv1.PodFailurePolicyActionIgnore, r.Action, "an Ignore rule recreates the pod: a retried shard")
			}
		}
		require.NotNil(t, spec.PodReplacementPolicy)
		assert.Equal(t, batchv1.Failed, *spec.PodReplacementPolicy, "no second pod of an index while the first terminates")
		assert.Equal(t, corev1.RestartPolicyNever, spec.Template.Spec.RestartPolicy)
	})

	t.Run("bounded", func(t *testing.T) {
		cfg := m.configFor(t, c)
		d, err := time.ParseDuration(cfg["LOAD_DURATION"])
		require.NoError(t, err, "LOAD_DURATION")
		require.NotNil(t, spec.ActiveDeadlineSeconds)
		deadline := time.Duration(*spec.ActiveDeadlineSeconds) * time.Second
		assert.GreaterOrEqual(t, deadline, d+defaultRequestTimeout+time.Minute, "activeDeadlineSeconds must cover the run, the last requests and start-up")
		assert.LessOrEqual(t, deadline, 10*(d+defaultRequestTimeout+time.Minute), "activeDeadlineSeconds should bound the run")
		require.NotNil(t, spec.TTLSecondsAfterFinished)
		assert.Positive(t, *spec.TTLSecondsAfterFinished)
		// Whether the grace period covers a stopping shard is measured by
		// TestShardStopsWithinGrace; here it must only be explicit.
		assert.NotNil(t, spec.Template.Spec.TerminationGracePeriodSeconds, "terminationGracePeriodSeconds: state the stop budget of a shard")
	})

	t.Run("spread over nodes", func(t *testing.T) {
		tsc := spec.Template.Spec.TopologySpreadConstraints
		require.NotEmpty(t, tsc)
		for _, c := range tsc {
			require.NotNil(t, c.LabelSelector)
			for k, v := range c.LabelSelector.MatchLabels {
				assert.Equal(t, v, spec.Template.Labels[k], "topology spread selects label %s of the shard pods", k)
			}
		}
	})

	t.Run("credentials", func(t *testing.T) {
		for _, e := range c.Env {
			assert.NotEqual(t, "XONE_CLIENT_SECRET", e.Name, "mount the secret as a file (--client-secret-file), not env")
		}
		path := flagValue(t, c.Args, "client-secret-file")
		vol, key := m.mountedKey(t, job.Spec.Template.Spec, c, path)
		require.NotNil(t, vol.Secret, "--client-secret-file=%s is not on a Secret volume", path)
		assert.Equal(t, "client-secret", key)
		require.NotNil(t, vol.Secret.DefaultMode)
		assert.Zero(t, *vol.Secret.DefaultMode&0o007, "secret file mode %o is world-accessible", *vol.Secret.DefaultMode)
		assert.NotNil(t, job.Spec.Template.Spec.SecurityContext.FSGroup, "fsGroup makes the group-readable secret readable by the non-root user")
	})

	t.Run("offers from a ConfigMap", func(t *testing.T) {
		path := flagValue(t, c.Args, "offers")
		vol, key := m.mountedKey(t, job.Spec.Template.Spec, c, path)
		require.NotNil(t, vol.ConfigMap, "--offers=%s is not on a ConfigMap volume", path)
		assert.Equal(t, "offers.csv", key)
	})

	t.Run("results on the shared volume", func(t *testing.T) {
		dir := flagValue(t, c.Args, "report-dir")
		assert.Contains(t, dir, "$(JOB_COMPLETION_INDEX)", "every shard needs its own report directory")
		m.assertOnSharedVolume(t, job.Spec.Template.Spec, c, dir)
	})

	t.Run("dry run of every shard", func(t *testing.T) {
		offers := m.configMaps[m.volumeByMountPath(t, job.Spec.Template.Spec, c, flagValue(t, c.Args, "offers")).ConfigMap.Name]
		rows, err := readOffers(strings.NewReader(offers.Data["offers.csv"]), "offers.csv")
		require.NoError(t, err)
		rate := m.configFor(t, c)["LOAD_RATE"]
		// A dry run counts the shard's rows when it reads the feed up front;
		// a feed read as a stream is not counted, and the partition is then
		// proved by TestShardsOnOneMachine, which checks every booked row.
		total, counted := 0, 0
		for i := range n {
			stdout, stderr := m.dryRun(t, job, i)
			want, err := load.Shard{Index: i, Count: n}.Plan(load.Plan{Rate: rate})
			require.NoError(t, err)
			assert.Contains(t, stdout, "plan: "+want.Rate+" constant", "shard %d: 1/%d of %s (stderr %s)", i, n, rate, stderr)
			if strings.Contains(stdout, "offers: a stream") {
				continue
			}
			got := regexp.MustCompile(`offers: ([0-9]+) in the feed`).FindStringSubmatch(stdout)
			require.NotNil(t, got, "shard %d dry run: no offers line in %q", i, stdout)
			k, _ := strconv.Atoi(got[1])
			assert.Equal(t, (len(rows)-i+n-1)/n, k, "shard %d's partition: rows k mod %d == %d", i, n, i)
			total += k
			counted++
		}
		if counted == n {
			assert.Equal(t, len(rows), total, "the shards' partitions cover the feed once")
		}
	})
}

func TestMergeJob(t *testing.T) {
	m := loadManifests(t)
	shardJob := m.jobRunning(t, "load")
	sc, _ := harnessContainer(t, shardJob)
	n := int(*shardJob.Spec.Completions)
	job := m.jobRunning(t, "report")
	c, _ := harnessContainer(t, job)

	env := m.resolveEnv(t, c, nil)
	reportDir := flagValue(t, sc.Args, "report-dir")
	var want []string
	for i := range n {
		shardEnv := m.resolveEnv(t, sc, map[string]string{batchv1.JobCompletionIndexAnnotation: strconv.Itoa(i)})
		want = append(want, expand(reportDir, shardEnv))
	}
	var got []string
	for _, a := range positional(c.Args) {
		got = append(got, expand(a, env))
	}
	assert.Equal(t, want, got, "the merge reads every shard directory, in order")

	out := expand(flagValue(t, c.Args, "out"), env)
	assert.NotContains(t, want, out)
	for _, p := range append(slices.Clone(positional(c.Args)), flagValue(t, c.Args, "out")) {
		m.assertOnSharedVolume(t, job.Spec.Template.Spec, c, p)
	}
	assert.Equal(t, m.claimAt(t, shardJob.Spec.Template.Spec, sc, reportDir), m.claimAt(t, job.Spec.Template.Spec, c, flagValue(t, c.Args, "out")),
		"the merge reads the volume the shards wrote")

	ths := flagValues(c.Args, "threshold")
	assert.NotEmpty(t, ths, "thresholds are evaluated on the merged result")
	for _, th := range ths {
		_, err := load.ParseThreshold(expand(th, env))
		assert.NoError(t, err, "--threshold=%s", th)
	}
	assert.Empty(t, flagValues(sc.Args, "threshold"), "a shard's own p99 or throughput is not the run's: gate on the merge only")

	require.NotNil(t, job.Spec.ActiveDeadlineSeconds)
	require.NotNil(t, job.Spec.TTLSecondsAfterFinished)
	require.NotNil(t, job.Spec.BackoffLimit)
	assert.LessOrEqual(t, *job.Spec.BackoffLimit, int32(3))
}

// TestPodTemplates checks what every pod in the manifests needs: flags the
// CLI knows, env and volumes wired to objects that exist, resources, and a
// non-root, read-only container.
func TestPodTemplates(t *testing.T) {
	m := loadManifests(t)
	type podT struct {
		name string
		spec corev1.PodSpec
	}
	var pods []podT
	for _, j := range m.jobs {
		pods = append(pods, podT{"Job/" + j.Name, j.Spec.Template.Spec})
	}
	for _, p := range m.pods {
		pods = append(pods, podT{"Pod/" + p.Name, p.Spec})
	}
	require.NotEmpty(t, pods)
	helps := map[string]map[string]string{}
	for _, p := range pods {
		t.Run(p.name, func(t *testing.T) {
			spec := p.spec
			assert.False(t, spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken, "no Kubernetes API token in the pod")
			psc := spec.SecurityContext
			require.NotNil(t, psc, "pod securityContext")
			for _, c := range spec.Containers {
				t.Run(c.Name, func(t *testing.T) {
					assert.NotEmpty(t, c.Image)
					assert.NotContains(t, []string{"", "latest"}, imageTag(c.Image), "image %s: pin a tag", c.Image)

					for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
						req, okReq := c.Resources.Requests[res]
						lim, okLim := c.Resources.Limits[res]
						if assert.True(t, okReq && okLim, "%s request and limit", res) {
							assert.Positive(t, req.Sign(), "%s request", res)
							assert.GreaterOrEqual(t, lim.Cmp(req), 0, "%s limit below request", res)
						}
					}

					sc := c.SecurityContext
					require.NotNil(t, sc, "container securityContext")
					nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
					assert.True(t, nonRoot, "runAsNonRoot")
					for _, uid := range []*int64{sc.RunAsUser, psc.RunAsUser} {
						if uid != nil {
							assert.NotZero(t, *uid, "runAsUser 0 is root")
						}
					}
					assert.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
					assert.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "allowPrivilegeEscalation: false")
					if assert.NotNil(t, sc.Capabilities) {
						assert.Contains(t, sc.Capabilities.Drop, corev1.Capability("ALL"))
					}

					// Env and volumes wired to objects that exist.
					m.resolveEnv(t, c, map[string]string{batchv1.JobCompletionIndexAnnotation: "0"})
					for _, vm := range c.VolumeMounts {
						assert.True(t, slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }),
							"volumeMount %s has no volume", vm.Name)
					}

					if len(c.Args) == 0 || !slices.Contains([]string{"load", "report", "run", "contract", "sandbox"}, c.Args[0]) {
						return // not an xoneharness container
					}
					// An xoneharness container: /tmp on an emptyDir, and
					// every flag known to the real CLI.
					v := m.volumeByMountPath(t, spec, c, "/tmp/x")
					assert.NotNil(t, v.EmptyDir, "/tmp must be an emptyDir (read-only root)")
					sub := c.Args[0]
					if helps[sub] == nil {
						helps[sub] = cliFlags(t, sub)
					}
					assert.Empty(t, unknownFlags(helps[sub], c.Args[1:]), "xoneharness %s", sub)
				})
			}
			for _, v := range spec.Volumes {
				assert.True(t, slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool {
					return slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.Name == v.Name })
				}), "volume %s is not mounted", v.Name)
				m.assertVolumeSource(t, v)
			}
		})
	}
}

func imageTag(image string) string {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		return digest
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}

// helpFlag matches a flag line of Go's flag.PrintDefaults: "  -name type".
var helpFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)(?: (\S+))?`)

// cliFlags runs "xoneharness SUB --help" and returns its flags, each with its
// value type ("" for a boolean).
func cliFlags(t *testing.T, sub string) map[string]string {
	t.Helper()
	stdout, stderr, code := runHarness(t, nil, sub, "--help")
	require.Equal(t, 0, code, "xoneharness %s --help: %s", sub, stderr)
	flags := map[string]string{}
	for _, m := range helpFlag.FindAllStringSubmatch(stdout+stderr, -1) {
		flags[m[1]] = m[2]
	}
	require.Greater(t, len(flags), 3, "xoneharness %s --help lists no flags:\n%s%s", sub, stdout, stderr)
	return flags
}

// unknownFlags returns the problems with args given the CLI's flags: a
// flag the CLI does not have, or a non-boolean flag without a value.
func unknownFlags(flags map[string]string, args []string) []string {
	var problems []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		typ, ok := flags[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("--%s is not a flag of the CLI", name))
		case typ != "" && !hasValue:
			if i+1 >= len(args) {
				problems = append(problems, fmt.Sprintf("--%s needs a %s value", name, typ))
			}
			i++
		}
	}
	return problems
}

// TestUnknownFlags shows the flag check against the real CLI can fail.
func TestUnknownFlags(t *testing.T) {
	flags := cliFlags(t, "load")
	assert.Equal(t, "string", flags["shard"])
	assert.Equal(t, "", flags["quiet"])
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"known", []string{"--shard=0/3", "--quiet", "--rate", "5/s"}, 0},
		{"misspelt", []string{"--shards=0/3"}, 1},
		{"no value", []string{"--rate"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Len(t, unknownFlags(flags, tt.args), tt.want)
		})
	}
}

// envVar matches a Kubernetes $(VAR) reference.
var envVar = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand does what the kubelet does to args: $(VAR) becomes the value of a
// declared env var, and an undeclared reference is left as it is.
func expand(s string, env map[string]string) string {
	return envVar.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := env[envVar.FindStringSubmatch(ref)[1]]; ok {
			return v
		}
		return ref
	})
}

// resolveEnv returns the container's env as the kubelet would set it, from
// the manifests' ConfigMaps and Secrets and the given pod annotations; it
// fails on references to objects or keys that do not exist.
func (m manifests) resolveEnv(t *testing.T, c corev1.Container, annotations map[string]string) map[string]string {
	t.Helper()
	assert.Empty(t, c.EnvFrom, "container %s: wire each variable explicitly", c.Name)
	env := map[string]string{}
	annotationRef := regexp.MustCompile(`^metadata\.annotations\['([^']+)'\]$`)
	for _, e := range c.Env {
		switch vf := e.ValueFrom; {
		case vf == nil:
			env[e.Name] = e.Value
		case vf.SecretKeyRef != nil:
			ref := vf.SecretKeyRef
			assert.False(t, ref.Optional != nil && *ref.Optional, "env %s: a required key", e.Name)
			s, ok := m.secrets[ref.Name]
			if !assert.True(t, ok, "env %s: no Secret %s in the manifests", e.Name, ref.Name) {
				continue
			}
			v, ok := secretValue(s, ref.Key)
			assert.True(t, ok, "env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			env[e.Name] = v
		case vf.ConfigMapKeyRef != nil:
			ref := vf.ConfigMapKeyRef
			assert.False(t, ref.Optional != nil && *ref.Optional, "env %s: a required key", e.Name)
			cm, ok := m.configMaps[ref.Name]
			if !assert.True(t, ok, "env %s: no ConfigMap %s in the manifests", e.Name, ref.Name) {
				continue
			}
			v, ok := cm.Data[ref.Key]
			assert.True(t, ok, "env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			env[e.Name] = v
		case vf.FieldRef != nil:
			am := annotationRef.FindStringSubmatch(vf.FieldRef.FieldPath)
			if !assert.NotNil(t, am, "env %s: unsupported fieldRef %s", e.Name, vf.FieldRef.FieldPath) {
				continue
			}
			if e.Name == "JOB_COMPLETION_INDEX" {
				assert.Equal(t, batchv1.JobCompletionIndexAnnotation, am[1])
			}
			if v, ok := annotations[am[1]]; ok {
				env[e.Name] = v
			}
		default:
			t.Errorf("env %s: unsupported valueFrom", e.Name)
		}
	}
	for _, a := range c.Args {
		for _, ref := range envVar.FindAllStringSubmatch(a, -1) {
			_, ok := env[ref[1]]
			assert.True(t, ok, "arg %q: $(%s) is not a declared env var (the kubelet would pass it literally)", a, ref[1])
		}
	}
	return env
}

func secretValue(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	v, ok := s.Data[key]
	return string(v), ok
}

// configFor returns the env of c resolved for shard 0.
func (m manifests) configFor(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	return m.resolveEnv(t, c, map[string]string{batchv1.JobCompletionIndexAnnotation: "0"})
}

// mountFor returns the volume mount of c that holds path (the longest
// mount path that is a prefix of it).
func mountFor(c corev1.Container, path string) (corev1.VolumeMount, bool) {
	var best corev1.VolumeMount
	found := false
	for _, vm := range c.VolumeMounts {
		if (path == vm.MountPath || strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")) && len(vm.MountPath) > len(best.MountPath) {
			best, found = vm, true
		}
	}
	return best, found
}

func (m manifests) volumeByMountPath(t *testing.T, spec corev1.PodSpec, c corev1.Container, path string) corev1.Volume {
	t.Helper()
	vm, ok := mountFor(c, path)
	require.True(t, ok, "container %s: %s is on no volume mount", c.Name, path)
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
	require.GreaterOrEqual(t, i, 0, "volumeMount %s has no volume", vm.Name)
	return spec.Volumes[i]
}

// mountedKey returns the volume holding the file path and the ConfigMap or
// Secret key projected there.
func (m manifests) mountedKey(t *testing.T, spec corev1.PodSpec, c corev1.Container, path string) (corev1.Volume, string) {
	t.Helper()
	vm, _ := mountFor(c, path)
	v := m.volumeByMountPath(t, spec, c, path)
	rel := strings.TrimPrefix(strings.TrimPrefix(path, vm.MountPath), "/")
	var items []corev1.KeyToPath
	switch {
	case v.ConfigMap != nil:
		items = v.ConfigMap.Items
	case v.Secret != nil:
		items = v.Secret.Items
	default:
		return v, ""
	}
	for _, it := range items {
		if it.Path == rel {
			return v, it.Key
		}
	}
	if len(items) == 0 {
		return v, rel // every key is a file named after it
	}
	t.Errorf("%s: no item of volume %s is projected at %s", path, v.Name, rel)
	return v, ""
}

// claimAt returns the PersistentVolumeClaim that holds path.
func (m manifests) claimAt(t *testing.T, spec corev1.PodSpec, c corev1.Container, path string) string {
	t.Helper()
	v := m.volumeByMountPath(t, spec, c, path)
	require.NotNil(t, v.PersistentVolumeClaim, "%s is not on a PersistentVolumeClaim", path)
	return v.PersistentVolumeClaim.ClaimName
}

// assertOnSharedVolume checks path is on a writable ReadWriteMany claim.
func (m manifests) assertOnSharedVolume(t *testing.T, spec corev1.PodSpec, c corev1.Container, path string) {
	t.Helper()
	vm, _ := mountFor(c, path)
	claim := m.claimAt(t, spec, c, path)
	assert.False(t, vm.ReadOnly, "%s: mount %s is read-only", path, vm.MountPath)
	pvc, ok := m.pvcs[claim]
	if assert.True(t, ok, "no PersistentVolumeClaim %s in the manifests", claim) {
		assert.Contains(t, pvc.Spec.AccessModes, corev1.ReadWriteMany, "claim %s: shards on several nodes write to it", claim)
	}
}

// assertVolumeSource checks a volume refers to objects and keys that exist.
func (m manifests) assertVolumeSource(t *testing.T, v corev1.Volume) {
	t.Helper()
	switch {
	case v.ConfigMap != nil:
		cm, ok := m.configMaps[v.ConfigMap.Name]
		if assert.True(t, ok, "volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name) {
			for _, it := range v.ConfigMap.Items {
				assert.Contains(t, cm.Data, it.Key, "volume %s: ConfigMap %s has no key %s", v.Name, cm.Name, it.Key)
			}
		}
	case v.Secret != nil:
		s, ok := m.secrets[v.Secret.SecretName]
		if assert.True(t, ok, "volume %s: no Secret %s", v.Name, v.Secret.SecretName) {
			for _, it := range v.Secret.Items {
				_, ok := secretValue(s, it.Key)
				assert.True(t, ok, "volume %s: Secret %s has no key %s", v.Name, s.Name, it.Key)
			}
		}
	case v.PersistentVolumeClaim != nil:
		assert.Contains(t, m.pvcs, v.PersistentVolumeClaim.ClaimName, "volume %s: no PersistentVolumeClaim", v.Name)
	case v.EmptyDir != nil:
		assert.NotNil(t, v.EmptyDir.SizeLimit, "volume %s: bound the emptyDir", v.Name)
	default:
		t.Errorf("volume %s: unexpected source", v.Name)
	}
}

// dryRun runs shard i of the Job's pod as the kubelet would start it (see
// shardCommand), with --dry-run added. It returns stdout and stderr.
func (m manifests) dryRun(t *testing.T, job *batchv1.Job, i int) (string, string) {
	t.Helper()
	args, env := m.shardCommand(t, job, i)
	stdout, stderr, code := runHarness(t, environ(env), append(args, "--dry-run")...)
	require.Equal(t, 0, code, "shard %d: xoneharness %s --dry-run exited %d:\n%s%s", i, strings.Join(args, " "), code, stdout, stderr)
	return stdout, stderr
}

// environ turns env into the KEY=value list of a process.
func environ(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// shardCommand returns the arguments and environment of shard i of the Job's
// pod as the kubelet would start it: env from the manifests, every volume
// materialised in a temporary directory (ConfigMap and Secret items written as
// files) and the arguments' paths moved there.
func (m manifests) shardCommand(t *testing.T, job *batchv1.Job, i int) ([]string, map[string]string) {
	t.Helper()
	spec := job.Spec.Template.Spec
	c, _ := harnessContainer(t, job)
	env := m.resolveEnv(t, c, map[string]string{batchv1.JobCompletionIndexAnnotation: strconv.Itoa(i)})
	root := t.TempDir()
	hostPath := map[string]string{} // mount path → directory
	for _, vm := range c.VolumeMounts {
		dir := filepath.Join(root, vm.Name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		hostPath[vm.MountPath] = dir
		v := m.volumeByMountPath(t, spec, c, vm.MountPath)
		write := func(items []corev1.KeyToPath, value func(string) (string, bool)) {
			for _, it := range items {
				s, ok := value(it.Key)
				require.True(t, ok, "volume %s: key %s", v.Name, it.Key)
				require.NoError(t, os.WriteFile(filepath.Join(dir, it.Path), []byte(s), 0o600))
			}
		}
		switch {
		case v.ConfigMap != nil:
			cm := m.configMaps[v.ConfigMap.Name]
			write(v.ConfigMap.Items, func(k string) (string, bool) { s, ok := cm.Data[k]; return s, ok })
		case v.Secret != nil:
			s := m.secrets[v.Secret.SecretName]
			write(v.Secret.Items, func(k string) (string, bool) { return secretValue(s, k) })
		}
	}
	move := func(p string) string {
		vm, ok := mountFor(c, p)
		if !ok || !strings.HasPrefix(p, "/") {
			return p
		}
		return filepath.Join(hostPath[vm.MountPath], strings.TrimPrefix(p, vm.MountPath))
	}
	var args []string
	for _, a := range c.Args {
		a = expand(a, env)
		require.NotContains(t, a, "$(", "unexpanded reference in %q", a)
		if name, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = name + "=" + move(v)
		} else {
			a = move(a)
		}
		args = append(args, a)
	}
	return args, env
}

// TestManifestComments keeps the retry policy of the shard Job explained
// where it is set.
func TestManifestComments(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifestDir, "job.yaml"))
	require.NoError(t, err)
	text := string(data)
	for _, want := range []string{"backoffLimit 0", "backoffLimitPerIndex", "confirm offers"} {
		assert.Contains(t, text, want, fmt.Sprintf("job.yaml should explain the retry policy (%q)", want))
	}
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
