// Command rwkit pushes Prometheus metrics by remote write and explains every
// refusal. Run `rwkit help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/rwkit/rwkit/internal/redact"
)

// Exit codes (DESIGN.md): 0 ok, 1 refused or failed, 2 usage, 3 a check
// found something (collisions, a failed expectation).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	// exitFound: collide found collisions, verify an expectation failed,
	// discards --fail-on-discards found discards.
	exitFound = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// stdio is what a command may touch besides the network: its streams and
// the environment. Tests pass their own.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
	// json collects the report of a command run with --output json; run
	// sets it.
	json *jsonOutput
}

// command is one subcommand. Run parses args itself (with its own FlagSet)
// and returns an error that main maps to an exit code.
type command interface {
	Run(ctx context.Context, args []string) error
}

type commandInfo struct {
	summary string
	new     func(stdio) command
}

// commands holds every subcommand; each command's file registers itself
// in an init function with register.
var commands = map[string]commandInfo{}

func register(name, summary string, new func(stdio) command) {
	if _, dup := commands[name]; dup {
		panic("rwkit: command registered twice: " + name)
	}
	commands[name] = commandInfo{summary: summary, new: new}
}

func run(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if info, ok := commands[args[1]]; ok {
				return exitCode(s, info.new(s).Run(ctx, []string{"-h"}))
			}
		}
		usage(s.out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	info, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(s.err, "rwkit: unknown command %q\n\n", args[0])
		usage(s.err)
		if jsonRequested(args[1:], nil) {
			writeEnvelope(s.out, nil, usagef("unknown command %q: rwkit help lists the commands", args[0]), exitUsage)
		}
		return exitUsage
	}
	return runCommand(ctx, s, args[0], info.new, args[1:])
}

// runCommand runs the command name that newCmd makes, maps its error to
// the exit code, and prints the JSON envelope when --output json asked
// for it.
func runCommand(ctx context.Context, s stdio, name string, newCmd func(stdio) command, args []string) int {
	out := &jsonOutput{enabled: jsonCommands[name] && jsonRequested(args, s.getenv)}
	s.json = out
	err := newCmd(s).Run(ctx, args)
	code := exitCode(s, err)
	if (out.enabled || out.result != nil) && !out.printed {
		writeEnvelope(s.out, out.result, err, code)
	}
	return code
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "rwkit gets metrics into Prometheus remote-write backends and explains every refusal.")
	fmt.Fprintln(w, "\nUsage: rwkit <command> [flags]   (rwkit <command> -h for its flags)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set from the environment as RWKIT_<FLAG_NAME>, e.g. RWKIT_URL.")
}

// usageError is a problem with the command line: exit code 2. Its message
// speaks of flags as typed (--interval), never of the library's options.
type usageError struct {
	flag string // the flag at fault (--interval), when one is
	msg  string
	err  error // the library's error behind it, if any
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return e.err }

// usagef's and flagUsagef's messages are redacted: usage errors quote the
// flags' values.
func usagef(format string, args ...any) error {
	return &usageError{msg: redact.Text(fmt.Sprintf(format, args...))}
}

// flagUsagef is a usage error that flag (as typed: --interval) caused.
func flagUsagef(flag, format string, args ...any) error {
	return &usageError{flag: flag, msg: redact.Text(fmt.Sprintf(format, args...))}
}

// exitError carries an exit code other than 1, or an error whose report
// the command has already printed (reported: a push whose report shows
// the refusal), which then is not printed again on stderr.
type exitError struct {
	code     int
	err      error
	reported bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// reportedError is err, with exit code code, already shown in the
// command's report: stderr does not repeat it; the JSON envelope's error
// carries it.
func reportedError(code int, err error) error {
	return &exitError{code: code, err: err, reported: true}
}

func exitCode(s stdio, err error) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(s.err, "rwkit: %s\n", ue.msg)
		return exitUsage
	case errors.As(err, &ee):
		if !ee.reported {
			fmt.Fprintf(s.err, "rwkit: %v\n", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintf(s.err, "rwkit: %v\n", err)
		return exitFailed
	}
}
