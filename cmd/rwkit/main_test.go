package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stderr
	}{
		{"no command", nil, nil, exitUsage, ""},
		{"unknown command", []string{"bogus"}, nil, exitUsage, `unknown command "bogus"`},
		{"push without url", []string{"push", "--file", "x"}, nil, exitUsage, "--url is required"},
		{"push with file and scrape", []string{"push", "--url", "http://127.0.0.1:1/api/v1/write", "--file", "x", "--scrape", "http://y"}, nil, exitUsage, "exactly one of --file and --scrape"},
		{"push bad label", []string{"push", "--url", "http://h/api/v1/write", "--file", "x", "--label", "novalue"}, nil, exitUsage, `label "novalue": want name=value`},
		{"push bad rw version", []string{"push", "--url", "http://h/api/v1/write", "--file", "x", "--rw-version", "3"}, nil, exitUsage, "--rw-version: want 1 or 2, got 3"},
		{"push bad output", []string{"push", "--output", "yaml"}, nil, exitUsage, `output "yaml": want text or json`},
		{"env var bad", []string{"push", "--file", "x"}, map[string]string{"RWKIT_URL": "http://h/api/v1/write", "RWKIT_RW_VERSION": "x"}, exitUsage, "RWKIT_RW_VERSION"},
		{"help", []string{"push", "-h"}, nil, exitOK, "Example:"},
		{"doctor without url", []string{"doctor"}, nil, exitUsage, "--url is required"},
		{"decode two files", []string{"decode", "a", "b"}, nil, exitUsage, "want one FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.env, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not contain %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestEnvVarsSetFlags(t *testing.T) {
	// RWKIT_URL and RWKIT_FILE stand in for --url and --file; the file does
	// not exist, so the push fails at reading it, which proves both were read.
	_, stderr, code := runCLI(t, map[string]string{
		"RWKIT_URL":   "http://127.0.0.1:1/api/v1/write",
		"RWKIT_FILE":  "/nonexistent/metrics.txt",
		"RWKIT_LABEL": "service=auth,instance=i-1",
	}, nil, "push")
	if code != exitFailed || !strings.Contains(stderr, "/nonexistent/metrics.txt") {
		t.Fatalf("code %d, stderr %q: want exit 1 naming the file from RWKIT_FILE", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, nil, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "rwkit ") {
		t.Fatalf("code %d out %q", code, out)
	}
}

// TestHelpShowsEachDefaultOnce: newFlagSet prints "(default X)" after a
// flag's usage, so a usage that states its default too would show it
// twice, and the two drift apart ("(default: now) (default 0)").
func TestHelpShowsEachDefaultOnce(t *testing.T) {
	// Any "default" counts: "(default: now)" and "(default 0)" are two.
	defaultRE := regexp.MustCompile(`(?i)\bdefault\b`)
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			out, stderr, code := runCLI(t, nil, nil, name, "-h")
			help := out + stderr
			if code != exitOK || !strings.Contains(help, "Usage: rwkit "+name) {
				t.Fatalf("exit %d\n%s", code, help)
			}
			flags := 0
			for _, block := range flagBlocks(help) {
				flags++
				if n := len(defaultRE.FindAllString(block, -1)); n > 1 {
					t.Errorf("%d defaults for one flag:\n%s", n, block)
				}
			}
			if name != "version" && flags == 0 {
				t.Errorf("no flags found in the help:\n%s", help)
			}
		})
	}
}

// flagBlocks splits newFlagSet's flag list into one string per flag: its
// "  --name  [ENV]" line and the usage lines under it.
func flagBlocks(help string) []string {
	var blocks []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "  --"):
			blocks = append(blocks, line)
			in = true
		case in && strings.HasPrefix(line, "      "):
			blocks[len(blocks)-1] += "\n" + line
		default:
			in = false
		}
	}
	return blocks
}
