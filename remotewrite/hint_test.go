package remotewrite

import (
	"testing"

	"github.com/rwkit/rwkit/validate"
)

func TestHintMatchesClassify(t *testing.T) {
	for _, r := range []validate.Reason{validate.NewValueForTimestamp, validate.SampleOutOfOrder, validate.RateLimited} {
		_, want := Classify(400, string(r))
		if got := Hint(r); got == "" || got != want {
			t.Errorf("Hint(%s) = %q, want Classify's %q", r, got, want)
		}
	}
	if got := Hint("no-such-reason"); got != "" {
		t.Errorf("Hint(unknown) = %q", got)
	}
}
