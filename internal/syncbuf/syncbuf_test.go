package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Writers in several goroutines and a reader meanwhile: every write lands
// whole (the race detector checks the rest).
func TestConcurrentWritesAndReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 400 {
		t.Fatalf("%d lines, want 400:\n%q", got, b.String())
	}
}
