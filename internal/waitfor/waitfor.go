// Package waitfor polls a condition in a test until it holds. The agent,
// push, workspace and faultproxy tests each had their own copy of the
// loop; this is the one to use.
package waitfor

import (
	"testing"
	"time"
)

// Bound is how long True waits. It is generous for a loaded machine: it
// only ends a test that would otherwise hang, and says nothing about
// speed.
const Bound = 20 * time.Second

// True polls cond every millisecond until it holds, and fails the test,
// naming what it waited for, if it does not hold within Bound.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", Bound, what)
		}
		time.Sleep(time.Millisecond)
	}
}
