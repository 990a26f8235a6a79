// Package costtest measures what the process holds, for the tests of the
// workspace and its store that bound what an idle tenant may cost: the
// live heap and the open file descriptors, read before and after.
package costtest

import (
	"os"
	"runtime"
	"testing"
)

// HeapInUse is the live heap after a collection. It collects twice, so
// that what the first collection only marked (finalizers) is freed too.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// OpenFiles counts this process's file descriptors. It skips t where
// /proc/self/fd cannot be read (not Linux).
func OpenFiles(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count open files: %v", err)
	}
	return len(fds)
}
