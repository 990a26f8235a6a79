package disktest

import (
	"strconv"
	"syscall"
)

func mount(dir string, size int64, remount bool) error {
	var flags uintptr
	if remount {
		flags = syscall.MS_REMOUNT
	}
	return syscall.Mount("tmpfs", dir, "tmpfs", flags, "size="+strconv.FormatInt(size, 10))
}

func unmount(dir string) error {
	// MNT_DETACH: a file the code under test leaked open must not turn
	// into an error of the test that found the leak's consequences.
	return syscall.Unmount(dir, syscall.MNT_DETACH)
}
