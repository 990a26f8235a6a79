package validate

import (
	"strings"
	"testing"
)

func TestHint(t *testing.T) {
	// The reasons a writer can fix by changing what it sends have advice.
	for _, r := range []Reason{NewValueForTimestamp, SampleOutOfOrder, SampleOutOfBounds, SampleTooOld, RateLimited, PerUserSeriesLimit} {
		h := r.Hint()
		if h == "" {
			t.Errorf("%s has no hint", r)
		}
		if strings.Contains(h, "\n") {
			t.Errorf("%s: hint has a newline: %q", r, h)
		}
	}
	for _, r := range []Reason{Unknown, "no-such-reason"} {
		if got := r.Hint(); got != "" {
			t.Errorf("Reason(%q).Hint() = %q, want none", r, got)
		}
	}
}
