package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type noCredentials struct{}

func (noCredentials) Error() string     { return "no credentials" }
func (noCredentials) Credentials() bool { return true }

// RetryLater keeps everything the receiver did not refuse for good;
// Retryable is narrower: the client does not retry at once what a caller's
// context stopped or what cannot be signed.
func TestRetryLaterAndRetryable(t *testing.T) {
	for _, tc := range []struct {
		name             string
		e                Error
		later, retryable bool
	}{
		{"400", Error{StatusCode: 400}, false, false},
		{"413", Error{StatusCode: 413}, false, false},
		{"429", Error{StatusCode: 429}, true, true},
		{"503", Error{StatusCode: 503}, true, true},
		{"503 then the deadline", Error{StatusCode: 503, Err: context.DeadlineExceeded}, true, true},
		{"network error", Error{Err: errors.New("connection refused")}, true, true},
		{"cancelled before any answer", Error{Err: fmt.Errorf("post: %w", context.Canceled)}, true, false},
		{"no credentials", Error{Err: noCredentials{}}, true, false},
	} {
		if got := tc.e.RetryLater(); got != tc.later {
			t.Errorf("%s: RetryLater() = %v, want %v", tc.name, got, tc.later)
		}
		if got := tc.e.Retryable(); got != tc.retryable {
			t.Errorf("%s: Retryable() = %v, want %v", tc.name, got, tc.retryable)
		}
	}
}
