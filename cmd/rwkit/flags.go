package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// newFlagSet returns a FlagSet for a subcommand whose -h output shows the
// summary, an example and every flag with its RWKIT_ variable.
func newFlagSet(name, synopsis, example string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: rwkit %s\n\n%s\n\nFlags (each also read from the env var shown):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "[]" {
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
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 && fs.Name() != "decode" {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
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
			if e := fs.Set(f.Name, strings.TrimSpace(one)); e != nil {
				err = usagef("%s: %s=%q: %v", fs.Name(), envName(f.Name), v, e)
				return
			}
		}
	})
	return err
}

// labelsFlag collects repeated --label name=value flags.
type labelsFlag map[string]string

func (l *labelsFlag) String() string {
	if l == nil || len(*l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(*l))
	for k := range *l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*l)[k]
	}
	return strings.Join(parts, ",")
}

func (l *labelsFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("label %q: want name=value", s)
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
