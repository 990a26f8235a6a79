package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/rwkit/rwkit/internal/version"
)

func init() {
	register("version", "print rwkit's version", func(s stdio) command { return &versionCommand{stdio: s} })
}

type versionCommand struct{ stdio }

func (c *versionCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("version", "Prints rwkit's version and the Go version it was built with.", "  rwkit version", c.err)
	if err := parseFlags(fs, args, c.getenv); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "rwkit %s (%s %s/%s)\n", version.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
