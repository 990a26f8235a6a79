package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/rwkit/rwkit/internal/redact"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

// newFlagSet returns a FlagSet for a subcommand whose -h output shows the
// summary, an example and every flag with its RWKIT_ variable.
func newFlagSet(name, synopsis, example string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: rwkit %s\n\n%s\n\nFlags (each also read from the env var shown):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			// A usage that says its default itself ("default: now" for a
			// zero that means now) is not followed by the flag's zero value
			// as a second default.
			def := ""
			if f.DefValue != "" && f.DefValue != "[]" && !strings.Contains(strings.ToLower(f.Usage), "default") {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
		if example != "" {
			fmt.Fprintf(w, "\nExample:\n%s\n", example)
		}
	}
	return fs
}

// envName is the environment variable that sets flag name: RWKIT_ and the
// name upper-cased with dashes and dots as underscores (--sigv4-region:
// RWKIT_SIGV4_REGION; --config.file: RWKIT_CONFIG_FILE).
func envName(name string) string {
	return "RWKIT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// parseFlags parses args, then sets every flag not given on the command line
// from its environment variable. A flag given on the command line wins. A
// repeatable flag (labelsFlag) takes a comma-separated list from the env.
// Errors are usage errors in CLI words naming the flag; -h prints the
// whole usage, a mistake only the error (the usage text is one -h away and
// would bury the one line that matters).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	cmd := commandName(fs)
	usage := fs.Usage
	fs.Usage = func() {}
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return flagParseError(cmd, fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (flags are --name value; rwkit %s -h lists them)", cmd, fs.Arg(0), cmd)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || getenv == nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		values := []string{v}
		switch f.Value.(type) {
		case *labelsFlag, *listFlag:
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			one = strings.TrimSpace(one)
			if e := fs.Set(f.Name, one); e != nil {
				err = flagUsagef("--"+f.Name, "%s: %s (from %s): %s", cmd, "--"+f.Name, envName(f.Name), valueProblem(f, one, e))
				return
			}
		}
	})
	return err
}

// commandName is the subcommand's name: the first word of the FlagSet's
// name, which for most commands is the whole synopsis.
func commandName(fs *flag.FlagSet) string {
	name, _, _ := strings.Cut(fs.Name(), " ")
	return name
}

// The flag package's error texts (flag.go, failf), read back to name the
// flag in CLI words.
var (
	errUndefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	errInvalidValue  = regexp.MustCompile(`^invalid value "((?:[^"\\]|\\.)*)" for flag -+([^:]+): (.*)$`)
	errInvalidBool   = regexp.MustCompile(`^invalid boolean value "((?:[^"\\]|\\.)*)" for -+([^:]+): (.*)$`)
	errNeedsArgument = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagParseError turns an error of flag.FlagSet.Parse into a usage error
// that names the flag as typed and says what was wrong with its value.
func flagParseError(cmd string, fs *flag.FlagSet, err error) error {
	text := err.Error()
	if m := errUndefinedFlag.FindStringSubmatch(text); m != nil {
		return flagUsagef("--"+m[1], "%s: --%s: no such flag (rwkit %s -h lists the flags)", cmd, m[1], cmd)
	}
	if m := errNeedsArgument.FindStringSubmatch(text); m != nil {
		return flagUsagef("--"+m[1], "%s: --%s: needs a value", cmd, m[1])
	}
	for _, re := range []*regexp.Regexp{errInvalidValue, errInvalidBool} {
		m := re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		value, _ := strconv.Unquote(`"` + m[1] + `"`)
		name := m[2]
		f := fs.Lookup(name)
		if f == nil {
			return flagUsagef("--"+name, "%s: --%s %q: %s", cmd, name, value, m[3])
		}
		return flagUsagef("--"+name, "%s: --%s: %s", cmd, name, valueProblem(f, value, errors.New(m[3])))
	}
	return usagef("%s: %s (rwkit %s -h lists the flags)", cmd, text, cmd)
}

// valueProblem says what is wrong with value for flag f: for the flag
// package's own kinds, the kind of value wanted (its errors say only
// "parse error"); for rwkit's flag types, their own error.
func valueProblem(f *flag.Flag, value string, err error) string {
	var kind any
	if g, ok := f.Value.(flag.Getter); ok {
		kind = g.Get()
	}
	switch kind.(type) {
	case time.Duration:
		return fmt.Sprintf("%q is not a duration; want a number and a unit, e.g. 30s, 5m, 1h30m", value)
	case int, int64, uint, uint64:
		if err.Error() == "value out of range" {
			return fmt.Sprintf("%q is out of range", value)
		}
		return fmt.Sprintf("%q is not a whole number", value)
	case float64:
		return fmt.Sprintf("%q is not a number", value)
	case bool:
		return fmt.Sprintf("%q: want true or false", value)
	}
	return err.Error()
}

// checkURLFlag checks that raw, the value of flag (as typed: --url), is an
// absolute http(s) URL with a host. Go's URL parser explains in its own
// words ("first path segment in URL cannot contain colon"); this says what
// to give. The URL is shown without its password.
func checkURLFlag(cmd, flag, raw string) error {
	shown := redact.URL(raw)
	// A value that is no http(s) URL may still carry user:password@
	// where a URL parser sees none ("user:secret@host/x" parses as the
	// scheme "user"): what comes before an "@" is never shown.
	if i := strings.LastIndexByte(shown, '@'); i >= 0 && !strings.Contains(shown[:i], "xxxxx") {
		shown = "xxxxx@" + shown[i+1:]
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil && strings.Contains(raw, "://"):
		// Go's parser says "first path segment in URL cannot contain
		// colon" for ht!tp://x: the scheme is what is wrong.
		scheme, _, _ := strings.Cut(shown, "://")
		if scheme == "" {
			return flagUsagef(flag, "%s: %s %q: no scheme; want http:// or https://", cmd, flag, shown)
		}
		if !validScheme(scheme) {
			return flagUsagef(flag, "%s: %s %q: scheme %q is not valid; want http:// or https://", cmd, flag, shown, scheme)
		}
		fallthrough
	case err != nil:
		var ue *url.Error
		detail := err.Error()
		if errors.As(err, &ue) {
			detail = ue.Err.Error()
		}
		return flagUsagef(flag, "%s: %s %q: not a URL (%s); want http://HOST[:PORT]/PATH or https://...", cmd, flag, shown, detail)
	case u.Scheme == "":
		return flagUsagef(flag, "%s: %s %q: no scheme; want http:// or https://", cmd, flag, shown)
	case u.Scheme != "http" && u.Scheme != "https":
		return flagUsagef(flag, "%s: %s %q: scheme %q; want http:// or https://", cmd, flag, shown, u.Scheme)
	case u.Host == "":
		return flagUsagef(flag, "%s: %s %q: no host; want http://HOST[:PORT]/PATH", cmd, flag, shown)
	}
	return nil
}

// validScheme reports whether s is a URL scheme as RFC 3986 section 3.1
// spells one: a letter, then letters, digits, "+", "-" or ".".
func validScheme(s string) bool {
	for i, r := range s {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// checkPositive checks that each duration flag is above zero.
func checkPositive(cmd string, flags ...durationFlag) error {
	for _, f := range flags {
		if f.value <= 0 {
			return flagUsagef(f.name, "%s: %s: must be > 0, got %s", cmd, f.name, f.value)
		}
	}
	return nil
}

// durationFlag is a duration flag's name (as typed) and value.
type durationFlag struct {
	name  string
	value time.Duration
}

// checkAtLeast checks that an integer flag is at least min.
func checkAtLeast(cmd, flag string, value, min int) error {
	if value < min {
		return flagUsagef(flag, "%s: %s: must be >= %d, got %d", cmd, flag, min, value)
	}
	return nil
}

// labelsFlag collects repeated --label name=value flags.
type labelsFlag map[string]string

func (l *labelsFlag) String() string {
	if l == nil || len(*l) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(*l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*l)[k]
	}
	return strings.Join(parts, ",")
}

func (l *labelsFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	switch {
	case !ok || name == "":
		return fmt.Errorf("label %q: want name=value", s)
	case !model.LegacyValidation.IsValidLabelName(name):
		return fmt.Errorf("label %q: %q is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", s, name)
	case name == model.MetricNameLabel || name == model.BucketLabel || name == model.QuantileLabel:
		return fmt.Errorf("label %q: %s is reserved (it names a metric, a bucket or a quantile)", s, name)
	case value == "":
		return fmt.Errorf("label %q: empty value (an empty label is an absent label); give a value or leave it out", s)
	case !utf8.ValidString(value):
		return fmt.Errorf("label %q: the value is not valid UTF-8", name)
	}
	if *l == nil {
		*l = map[string]string{}
	}
	if old, dup := (*l)[name]; dup && old != value {
		return fmt.Errorf("label %q given twice (%q and %q)", name, old, value)
	}
	(*l)[name] = value
	return nil
}

// outputFlag is --output text|json.
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }

func (o *outputFlag) Set(s string) error {
	switch s {
	case "text", "json":
		*o = outputFlag(s)
		return nil
	}
	return fmt.Errorf("output %q: want text or json", s)
}
