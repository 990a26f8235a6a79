package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// maxErrorBody caps how much of a refusal's body is read into Error.Body.
// Receivers' messages are far shorter; the cap only protects memory from a
// misbehaving server. Error.BodyTruncated says when it was hit.
const maxErrorBody = 1 << 20

// maxBodyInMessage caps the body quoted in Error.Error(); Error.Body keeps it
// whole.
const maxBodyInMessage = 2048

// Error is a refused or failed write. Get it with errors.As:
//
//	var rwErr *remotewrite.Error
//	if errors.As(err, &rwErr) {
//		log.Println(rwErr.StatusCode, rwErr.Reason, rwErr.Hint)
//	}
type Error struct {
	// StatusCode and Status of the last attempt; 0 and "" when no response
	// was received (network error, cancelled before any answer).
	StatusCode int
	Status     string
	// Body is the whole response body, up to 1 MiB (BodyTruncated is set
	// when the body was longer).
	Body          string
	BodyTruncated bool
	// Reason is the discard reason classified from the body (Classify);
	// validate.Unknown when the body names none.
	Reason validate.Reason
	// Hint is one line on how to fix it.
	Hint string
	// URL is the endpoint with its secrets hidden (as Client.URL).
	URL string
	// Version is the protocol of the refused request.
	Version wire.Version
	// Request is the 1-based index of the refused request among Requests,
	// the number of requests this write was split into.
	Request, Requests int
	// BytesCompressed and BytesUncompressed are the refused request's body
	// sizes.
	BytesCompressed, BytesUncompressed int
	// Counts is what the refused request carried.
	Counts
	// Total is what the whole logical write carries.
	Total Counts
	// Delivered is what earlier requests of this write delivered (2xx)
	// before this one was refused; DeliveredRequests counts them.
	Delivered         Counts
	DeliveredRequests int
	// Written is set when an RW 2.0 response carried the
	// X-Prometheus-Remote-Write-*-Written headers (a partial write).
	Written *Counts
	// Attempts is the number of attempts made for the refused request.
	Attempts int
	// RetryAfter is the wait the receiver asked for (429 or 503 with
	// Retry-After), 0 if none.
	RetryAfter time.Duration
	// Err is the underlying error: a network error, or the context's error
	// when the write was cancelled while waiting to retry.
	Err error
}

// Unwrap returns Err, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// RetryLater reports whether the request may be accepted if it is sent
// again later, so that a caller that keeps data across writes (push's
// outage buffer) keeps it. It is the one "retry later?" decision: yes
// unless the receiver answered with a status that says it never will, a
// 4xx other than 429 (RW 1.0 and 2.0 specs, "Retries & Backoff"). So a 429
// or 5xx stays "later" when the caller's context ran out while waiting to
// retry it (a Retry-After past the deadline, a backoff cut short), and so
// does a write that got no answer: a network error, a context that ended
// first, missing credentials (which may be set up by the next write).
func (e *Error) RetryLater() bool {
	return e.StatusCode == 0 || retryableStatus(e.StatusCode)
}

// Retryable reports whether the client itself sends the request again
// within the write: RetryLater, except when no answer came because the
// context ended (the caller stopped the write) or there were no
// credentials to sign with (CredentialsMissing): sending again at once
// cannot help there.
func (e *Error) Retryable() bool {
	if !e.RetryLater() {
		return false
	}
	if e.StatusCode != 0 {
		return true
	}
	if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) || credentialsMissing(e.Err) {
		return false
	}
	return e.Err != nil
}

// CredentialsMissing reports whether the request was not sent because the
// transport had no credentials to sign it with (a *sigv4.CredentialsError,
// whose text says where it looked): not a network problem, and not
// retried, since sending again cannot help until credentials are set up.
func (e *Error) CredentialsMissing() bool { return e.StatusCode == 0 && credentialsMissing(e.Err) }

// credentialsHint is Error.Hint for CredentialsMissing; the error itself
// lists the credential chain and how to set each source.
const credentialsHint = "nothing was sent: no credentials to sign the request with (the error above says where they were looked for and how to set them); not retried"

// credentialsMissing finds, by its method, an error that says a transport
// had no credentials: remotewrite does not import sigv4, whose
// CredentialsError has the method, so that a client without AWS does not
// link the AWS SDK.
func credentialsMissing(err error) bool {
	var ce interface{ Credentials() bool }
	return errors.As(err, &ce) && ce.Credentials()
}

func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests
}

// Error is one line: what happened, the reason, where, what was sent, the
// attempt and the body.
func (e *Error) Error() string {
	var b strings.Builder
	// A transport's error may quote a URL (a proxy's, a redirect's).
	cause := redact.Text(fmt.Sprint(e.Err))
	switch {
	case e.StatusCode != 0 && e.Err != nil:
		fmt.Fprintf(&b, "remote write failed: %s after %s", cause, e.statusText())
	case e.StatusCode != 0 && e.StatusCode < 300:
		fmt.Fprintf(&b, "remote write not confirmed: %s", e.statusText())
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "remote write refused: %s", e.statusText())
	default:
		fmt.Fprintf(&b, "remote write failed: %s", cause)
	}
	if e.Reason != validate.Unknown {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " from %s: ", e.URL)
	} else {
		fmt.Fprintf(&b, " sending to %s: ", e.URL)
	}
	if e.Requests > 1 {
		fmt.Fprintf(&b, "request %d of %d (%d delivered before it), ", e.Request, e.Requests, e.DeliveredRequests)
	}
	fmt.Fprintf(&b, "RW %s, %d series, %d samples", e.Version, e.Series, e.Samples)
	if e.Histograms > 0 {
		fmt.Fprintf(&b, ", %d histograms", e.Histograms)
	}
	if e.Exemplars > 0 {
		fmt.Fprintf(&b, ", %d exemplars", e.Exemplars)
	}
	fmt.Fprintf(&b, ", %s snappy (%s raw)", formatBytes(e.BytesCompressed), formatBytes(e.BytesUncompressed))
	if e.Requests > 1 {
		fmt.Fprintf(&b, " of a write of %d series, %d samples", e.Total.Series, e.Total.Samples)
	}
	fmt.Fprintf(&b, ", attempt %d", e.Attempts)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	if e.Written != nil {
		fmt.Fprintf(&b, ", receiver wrote %d samples, %d histograms, %d exemplars", e.Written.Samples, e.Written.Histograms, e.Written.Exemplars)
	}
	if e.StatusCode != 0 {
		body := e.Body
		suffix := ""
		if len(body) > maxBodyInMessage {
			suffix = fmt.Sprintf(" (%d more bytes in Error.Body)", len(body)-maxBodyInMessage)
			body = body[:maxBodyInMessage]
		}
		fmt.Fprintf(&b, ": body %q%s", strings.TrimSpace(body), suffix)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; hint: %s", e.Hint)
	}
	return b.String()
}

func (e *Error) statusText() string {
	if e.Status != "" {
		return e.Status
	}
	return fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
}
