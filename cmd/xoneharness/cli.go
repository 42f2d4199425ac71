package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/xoneharness/xoneharness/internal/auth"
	"github.com/xoneharness/xoneharness/reports"
)

// Exit codes, the same for every subcommand.
const (
	exitOK         = 0 // the run completed with the evidence a pass needs, and everything passed
	exitFindings   = 1 // contract violations, failed thresholds, breaking spec changes
	exitUsage      = 2 // bad flags, env values or input files; credentials the token endpoint refuses
	exitInfra      = 3 // target or token endpoint unreachable, spec will not load
	exitIncomplete = 4 // no findings, but no evidence either: interrupted, cut short, nothing measured, a required case skipped, a shard missing
)

// app carries what every subcommand needs from the process: the environment,
// the output streams and the clock.
type app struct {
	getenv      func(string) string
	stdin       io.Reader // "--offers -" reads it
	stdout      io.Writer
	stderr      io.Writer
	now         func() time.Time
	interactive bool // stderr is a terminal: progress lines
	// red is the process's one redactor: every secret and token the run
	// learns is added to it, and stdout and stderr go through it.
	red *auth.Redactor
}

// usageError marks an error as a usage or configuration problem (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errFindings (exit 1) and errIncomplete (exit 4) end a subcommand whose
// findings, or why it is incomplete, have already been printed.
var (
	errFindings   = errors.New("findings")
	errIncomplete = errors.New("incomplete")
)

// exitCode maps a subcommand's error to the process exit code.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errFindings):
		return exitFindings
	case errors.Is(err, errIncomplete):
		return exitIncomplete
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitInfra
	}
}

type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

func commands() []subcommand {
	return []subcommand{
		{"run", "the go-live check: spec preflight, contract suite, then load", cmdRun},
		{"contract", "check confirm and 401 responses against the OpenAPI contract", cmdContract},
		{"load", "drive authenticated confirm traffic at a rate and report latency", cmdLoad},
		{"sandbox", "serve the embedded XONE sandbox (token + confirm endpoints)", cmdSandbox},
		{"report", "re-render saved results, merge shards, compare with a baseline", cmdReport},
		{"spec", "lint the vendor document or diff a newer one (spec lint | spec diff OLD NEW)", cmdSpec},
		{"version", "print the version", cmdVersion},
	}
}

// run is the whole program, returning the exit code so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	red := auth.NewRedactor()
	a := &app{getenv: getenv, stdin: os.Stdin, stdout: red.Writer(stdout), stderr: red.Writer(stderr),
		now: time.Now, interactive: isTerminal(stderr), red: red}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			// "help load" is "load --help".
			return run(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
		}
		printUsage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, a, args[1:])
		code := exitCode(err)
		if code == exitUsage || code == exitInfra {
			// The message names its command once, whatever the layers below
			// already prefixed.
			msg := err.Error()
			for _, p := range []string{name + ": ", "xoneharness " + name + ": "} {
				for strings.HasPrefix(msg, p) {
					msg = strings.TrimPrefix(msg, p)
				}
			}
			fmt.Fprintf(a.stderr, "xoneharness %s: %s\n", name, msg)
		}
		return code
	}
	fmt.Fprintf(stderr, "xoneharness: unknown command %q\n\n", name)
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `xoneharness checks the XCover XONE "Confirm offer" endpoint against its contract
and measures it under load. With no --base-url / XONE_BASE_URL it runs against an
embedded sandbox that it starts itself.

Usage:
  xoneharness <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  xoneharness run                          # contract + load against the embedded sandbox
  xoneharness sandbox --addr 127.0.0.1:18080
  xoneharness spec lint --json
  XONE_BASE_URL=https://sandbox.example XONE_CLIENT_ID=… XONE_CLIENT_SECRET=… \
    XONE_PARTNER_ID=… xoneharness contract

Exit codes (every command):
  0  pass: the run completed, with evidence, and nothing failed
  1  findings: contract violations, failed thresholds, regressions, breaking spec changes
  2  usage or configuration error, including credentials the token endpoint refuses
  3  infrastructure failure: target or token endpoint unreachable, spec will not load
  4  incomplete: no findings, but no evidence either (interrupted, cut short,
     nothing sent, a required case skipped, a threshold without data, a shard missing)
Run "xoneharness <command> --help" for a command's flags.
`)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage (with examples) to the app's stderr.
func newFlagSet(a *app, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("xoneharness "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\nFlags:\n", strings.TrimSpace(usage))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, a parse error being a usage error; -h/--help
// returns flag.ErrHelp (exit 0) after printing usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{err}
	}
	return err
}

// parseOnlyFlags is parseFlags for a command that takes no arguments.
func parseOnlyFlags(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// buildVersion is set at link time by release and image builds:
// go build -ldflags "-X main.buildVersion=v1.2.3" ./cmd/xoneharness
var buildVersion string

func cmdVersion(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "version", "Usage: xoneharness version\n\nPrints the harness version.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (version takes none)", fs.Arg(0))
	}
	fmt.Fprintf(a.stdout, "xoneharness %s\n", reports.ToolVersion(buildVersion))
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
