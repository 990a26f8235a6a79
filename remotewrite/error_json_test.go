package remotewrite

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// Error's JSON is the contract of rwkit push --output json: snake_case
// keys, the counts of the refused request at the top level.
func TestErrorJSON(t *testing.T) {
	e := &Error{StatusCode: 400, Status: "400 Bad Request", Body: "duplicate sample", Reason: validate.NewValueForTimestamp,
		Hint: "h", URL: "http://x/api/v1/write", Version: wire.V1, Request: 2, Requests: 9,
		BytesCompressed: 10, BytesUncompressed: 20, Counts: Counts{Series: 3, Samples: 3}, Attempts: 1, RetryAfter: 2 * time.Second}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"status": 400.0, "status_text": "400 Bad Request", "reason": "new-value-for-timestamp", "hint": "h", "body": "duplicate sample",
		"url": "http://x/api/v1/write", "version": "1.0", "request": 2.0, "requests": 9.0, "bytes_compressed": 10.0, "bytes_uncompressed": 20.0,
		"attempts": 1.0, "retry_after_seconds": 2.0, "retryable": false, "error": e.Error(),
		"series": 3.0, "samples": 3.0, "histograms": 0.0, "exemplars": 0.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}
