// Command cortexlauncher runs a real Cortex v1.21.1 for rwkit's end-to-end
// tests. It does what Cortex's own cmd/cortex/main.go does (register the
// flags, load -config.file the same way, validate, cortex.New, Run) without
// the extras (tracing, profiling flags). It lives in its own Go module so
// that Cortex's dependency graph and its replace directives never reach
// rwkit's go.mod; `go install github.com/cortexproject/cortex/cmd/cortex`
// is refused because of those replaces.
//
// Build with -tags "netgo slicelabels" (scripts/cortex build does).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	collectorversion "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"gopkg.in/yaml.v2"

	"github.com/cortexproject/cortex/pkg/cortex"
	"github.com/cortexproject/cortex/pkg/util/flagext"
	util_log "github.com/cortexproject/cortex/pkg/util/log"
)

// cortexVersion must match the require line in go.mod.
const cortexVersion = "1.21.1"

func main() {
	version.Version = cortexVersion
	version.Branch = "rwkit-e2e"
	prometheus.MustRegister(collectorversion.NewCollector("cortex"))

	args := os.Args[1:]
	configFile, expandEnv := configFileFlags(args)

	var cfg cortex.Config
	flagext.RegisterFlags(&cfg) // defaults, and the flags on flag.CommandLine
	if configFile != "" {
		if err := loadConfig(configFile, expandEnv, &cfg); err != nil {
			fmt.Fprintf(os.Stderr, "error loading config from %s: %v\n", configFile, err)
			os.Exit(1)
		}
	}
	// Flags given on the command line override the file, as in Cortex.
	flagext.IgnoredFlag(flag.CommandLine, "config.file", "Configuration file to load.")
	flag.CommandLine.Bool("config.expand-env", false, "Expands ${var} or $var in config according to the values of the environment variables.")
	printVersion := flag.CommandLine.Bool("version", false, "Print Cortex version and exit.")
	if err := flag.CommandLine.Parse(args); err != nil {
		os.Exit(2)
	}
	if *printVersion {
		fmt.Println(version.Print("Cortex"))
		return
	}
	if err := cfg.Validate(util_log.Logger); err != nil {
		fmt.Fprintf(os.Stderr, "error validating config: %v\n", err)
		os.Exit(1)
	}
	util_log.InitLogger(&cfg.Server)

	t, err := cortex.New(cfg)
	util_log.CheckFatal("initializing cortex", err)
	level.Info(util_log.Logger).Log("msg", "Starting Cortex", "version", version.Info())
	util_log.CheckFatal("running cortex", t.Run())
}

// configFileFlags finds -config.file and -config.expand-env before the
// other flags are parsed, as cmd/cortex does.
func configFileFlags(args []string) (file string, expandEnv bool) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&file, "config.file", "", "")
	fs.BoolVar(&expandEnv, "config.expand-env", false, "")
	for len(args) > 0 {
		_ = fs.Parse(args)
		args = args[1:]
	}
	return file, expandEnv
}

// loadConfig is cmd/cortex's LoadConfig: strict YAML over the flag defaults,
// with ${VAR} and ${VAR:default} expansion when asked for.
func loadConfig(filename string, expandEnv bool, cfg *cortex.Config) error {
	buf, err := os.ReadFile(filename)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	if expandEnv {
		buf = []byte(os.Expand(string(buf), func(key string) string {
			k, def, hasDef := strings.Cut(key, ":")
			if v := os.Getenv(k); v != "" || !hasDef {
				return v
			}
			return def
		}))
	}
	if err := yaml.UnmarshalStrict(buf, cfg); err != nil {
		return fmt.Errorf("parsing config file: %w", err)
	}
	return nil
}
