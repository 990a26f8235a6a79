package waitfor

import (
	"sync/atomic"
	"testing"
	"time"
)

// A condition that comes true later is waited for, and polled again only
// until it does.
func TestTrueWaitsForTheCondition(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	calls := 0
	True(t, "n to be set", func() bool { calls++; return n.Load() == 1 })
	if calls < 2 {
		t.Errorf("cond called %d times, want it polled until it held", calls)
	}
	after := calls
	True(t, "n still set", func() bool { calls++; return n.Load() == 1 })
	if calls != after+1 {
		t.Errorf("a condition that holds at once was called %d times, want 1", calls-after)
	}
}
