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
		return exitUsage
	}
	return exitCode(s, info.new(s).Run(ctx, args[1:]))
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

// usageError is a problem with the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef's message is redacted: usage errors quote the flags' values.
func usagef(format string, args ...any) error {
	return &usageError{redact.Text(fmt.Sprintf(format, args...))}
}

// exitError carries an exit code other than 1 for an error that has already
// been reported (for example a push whose report was printed).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// reported marks err as already printed in full by the command.
var errReported = errors.New("reported")

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
		if !errors.Is(ee.err, errReported) {
			fmt.Fprintf(s.err, "rwkit: %v\n", ee.err)
		}
		return ee.code
	case errors.Is(err, errReported):
		return exitFailed
	default:
		fmt.Fprintf(s.err, "rwkit: %v\n", err)
		return exitFailed
	}
}
