// Package disktest mounts small tmpfs file systems for tests of what rwkit
// does when its disk fills up: Mount gives a directory of a fixed size that
// a test fills through the code under test, and Resize grows it as an
// operator who frees space would. Listing describes a directory's
// contents, for a test that checks a refused step left it untouched.
//
// Mounting needs root (CAP_SYS_ADMIN) on Linux. Elsewhere the calling test
// is skipped, unless CI=true or RWKIT_REQUIRE_ROOT=1, in which case it
// fails: the disk-full tests are what shows the "acknowledged writes are
// never lost" promise, and a CI run that silently skips them proves nothing.
package disktest

import (
	"fmt"
	"os"
	"testing"
)

// FS is a mounted tmpfs.
type FS struct {
	// Dir is the mount point, empty at first.
	Dir string
	t   testing.TB
}

// Mount mounts a tmpfs of size bytes (rounded up to pages by the kernel)
// on a new temporary directory and unmounts it when the test ends, after
// the test's later cleanups (a server started after Mount has stopped by
// then).
func Mount(t testing.TB, size int64) *FS {
	t.Helper()
	dir := t.TempDir()
	if err := mount(dir, size, false); err != nil {
		skipOrFail(t, fmt.Sprintf("cannot mount a tmpfs on %s: %v", dir, err))
	}
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("unmount the tmpfs on %s: %v", dir, err)
		}
	})
	return &FS{Dir: dir, t: t}
}

// Resize changes the file system's size (remount,size=).
func (f *FS) Resize(size int64) {
	f.t.Helper()
	if err := mount(f.Dir, size, true); err != nil {
		f.t.Fatalf("resize the tmpfs on %s to %d bytes: %v", f.Dir, size, err)
	}
}

// required says whether a test that cannot mount must fail.
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("RWKIT_REQUIRE_ROOT") == "1"
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if required() {
		t.Fatalf("%s; CI=true or RWKIT_REQUIRE_ROOT=1 requires the disk-full tests to run (as root on Linux)", why)
	}
	t.Skipf("%s (run as root on Linux; CI=true or RWKIT_REQUIRE_ROOT=1 makes this a failure)", why)
}
