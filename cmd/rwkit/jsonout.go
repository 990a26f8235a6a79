package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/rwkit/rwkit/remotewrite"
)

// jsonCommands are the commands with --output json. With it, run prints one
// JSON object on stdout for every outcome, usage errors included (schema/
// has each command's): a script piping into jq always has something to read.
var jsonCommands = map[string]bool{}

// jsonOutput is where a command leaves its report for run to print in the
// envelope; it is shared through stdio.
type jsonOutput struct {
	enabled bool // --output json (or RWKIT_OUTPUT=json) was asked for
	result  any  // the command's report; nil when it never got that far
	printed bool // the command printed the envelope itself (demo --keep)
}

// setResult hands rep to run, which prints it as the envelope's result.
// A command calls it instead of encoding its report.
func (s stdio) setResult(rep any) {
	if s.json != nil {
		s.json.result = rep
	}
}

// envelope is every --output json answer: the command's report (result),
// what went wrong (error, null on success) and the process's exit code.
type envelope struct {
	Result   any        `json:"result"`
	Error    *errorJSON `json:"error"`
	ExitCode int        `json:"exit_code"`
}

// errorJSON is the envelope's error.
type errorJSON struct {
	Message string `json:"message"`
	// Kind is usage (exit 2), failed (exit 1) or found (exit 3: a check
	// found what it looks for).
	Kind string `json:"kind"`
	// Flag is the flag at fault, as typed (--interval), for a usage error
	// that one flag caused.
	Flag string `json:"flag,omitempty"`
	// RemoteWrite is the refused or failed request, in the remotewrite
	// library's own JSON, when a remote write is what failed.
	RemoteWrite *remotewrite.Error `json:"remote_write,omitempty"`
}

// newErrorJSON describes err for the envelope; nil for success and help.
func newErrorJSON(err error, code int) *errorJSON {
	if err == nil || code == exitOK {
		return nil
	}
	e := &errorJSON{Message: errorMessage(err), Kind: "failed"}
	switch code {
	case exitUsage:
		e.Kind = "usage"
	case exitFound:
		e.Kind = "found"
	}
	var ue *usageError
	if errors.As(err, &ue) {
		e.Flag = ue.flag
	}
	var rw *remotewrite.Error
	if errors.As(err, &rw) {
		e.RemoteWrite = rw
	}
	return e
}

// errorMessage is err's text as stderr would show it, without the
// "rwkit: " prefix.
func errorMessage(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg
	}
	return err.Error()
}

// streamedResult is a result too large to encode at once (collide.Found):
// it writes what json.MarshalIndent of it would return, piece by piece.
type streamedResult interface {
	WriteJSON(w io.Writer, prefix, indent string) error
}

// writeEnvelope prints the one JSON object of a --output json run.
func writeEnvelope(w io.Writer, result any, err error, code int) {
	if s, ok := result.(streamedResult); ok && writeStreamedEnvelope(w, s, err, code) {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// An encoding error cannot be reported on stdout any more; the exit
	// code still says what happened.
	_ = enc.Encode(envelope{Result: result, Error: newErrorJSON(err, code), ExitCode: code})
}

// jsonRequested reports whether args ask for --output json, read as the
// flag package would (the last --output wins; "--" ends the flags) but
// without parsing the rest, so that a command line that does not parse
// gets its usage error as JSON too. RWKIT_OUTPUT counts when no --output
// is given.
func jsonRequested(args []string, getenv func(string) string) bool {
	value, given := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, v, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name != "output" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			v = args[i]
		}
		value, given = v, true
	}
	if !given && getenv != nil {
		value = getenv(envName("output"))
	}
	return strings.TrimSpace(value) == "json"
}

// writeStreamedEnvelope prints the envelope as writeEnvelope does, its
// result written by s itself. It reports false, having written nothing,
// when the envelope does not start as expected (it always does: Result is
// its first field).
func writeStreamedEnvelope(w io.Writer, s streamedResult, err error, code int) bool {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	_ = enc.Encode(envelope{Result: json.RawMessage("null"), Error: newErrorJSON(err, code), ExitCode: code})
	head := "{\n  \"result\": "
	rest, ok := strings.CutPrefix(b.String(), head+"null")
	if !ok {
		return false
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(head)
	// As in writeEnvelope, an error cannot be reported on stdout any more.
	_ = s.WriteJSON(bw, "  ", "  ")
	bw.WriteString(rest)
	_ = bw.Flush()
	return true
}
