//go:build !linux

package disktest

import "errors"

func mount(string, int64, bool) error { return errors.New("tmpfs mounts are Linux-only") }

func unmount(string) error { return nil }
