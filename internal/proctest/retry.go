package proctest

import (
	"fmt"
	"strings"
	"testing"
)

// Attempts is how many times StartRetrying tries a start.
const Attempts = 3

// StartRetrying calls start(attempt) until it succeeds, then stops the
// group it returned when the test ends, printing the group's logs if the
// test failed. Ports are found by listening and closing (FreePorts), and
// another process may take one before the server binds it, so a start
// whose logs say "address already in use" is tried again, on other ports
// in a fresh directory; any other failure, or Attempts of them, fails the
// test with the error and the end of the logs. start returns its group
// (nil if it launched nothing) even when it fails, so that what it
// launched is stopped.
func StartRetrying(t testing.TB, name string, start func(attempt int) (*Group, error)) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < Attempts; attempt++ {
		g, err := start(attempt)
		if err == nil {
			t.Cleanup(func() {
				g.Stop()
				if t.Failed() {
					t.Logf("%s logs:\n%s", name, g.Logs(100))
				}
			})
			return
		}
		g.Stop()
		lastErr = fmt.Errorf("%w\n%s", err, g.Logs(40))
		if !strings.Contains(g.Logs(1000), "address already in use") {
			break // not a port race: trying again will not help
		}
	}
	t.Fatalf("starting %s: %v", name, lastErr)
}
