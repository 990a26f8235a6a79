package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/wire"
)

// TestWithRemoteWriteClient plugs the transport into remotewrite.Client:
// every attempt, retries included, reaches the server signed over the
// exact compressed body it carries, and that body decodes.
func TestWithRemoteWriteClient(t *testing.T) {
	var mu sync.Mutex
	var problems []string
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		if got := r.Header.Get("X-Amz-Content-Sha256"); got != hex.EncodeToString(sum[:]) {
			problems = append(problems, fmt.Sprintf("attempt %d: X-Amz-Content-Sha256 %s is not sha256 of the %d-byte body", attempts, got, len(body)))
		}
		auth := r.Header.Get("Authorization")
		_, rest, _ := strings.Cut(auth, "SignedHeaders=")
		list, _, _ := strings.Cut(rest, ",")
		hdr := r.Header.Clone()
		hdr.Set("Content-Length", fmt.Sprint(r.ContentLength))
		if want := referenceSign(r.Method, r.Host, r.URL.Path, hdr, strings.Split(list, ";"), body, "aps", "us-west-2", suiteAccessKey, suiteSecretKey, suiteTime); auth != want {
			problems = append(problems, fmt.Sprintf("attempt %d: Authorization %q, want %q", attempts, auth, want))
		}
		raw, err := wire.Decompress(nil, body, 1<<20)
		var req wire.WriteRequest
		if err == nil {
			err = wire.DecodeWriteRequest(raw, &req)
		}
		if err != nil || len(req.Series) != 3 {
			problems = append(problems, fmt.Sprintf("attempt %d: body decodes to %d series, err %v", attempts, len(req.Series), err))
		}
		if attempts == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	tr, err := New("us-west-2", credentials.NewStaticCredentialsProvider(suiteAccessKey, suiteSecretKey, ""), WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	c, err := remotewrite.New(srv.URL+"/workspaces/ws-1/api/v1/remote_write", remotewrite.WithTransport(tr),
		remotewrite.WithRetry(time.Millisecond, time.Millisecond, 3))
	if err != nil {
		t.Fatal(err)
	}
	var series []wire.TimeSeries
	for i := range 3 {
		series = append(series, wire.TimeSeries{
			Labels:  []wire.Label{{Name: "__name__", Value: "up"}, {Name: "instance", Value: fmt.Sprint(i)}},
			Samples: []wire.Sample{{Value: 1, Timestamp: 1767323045000}},
		})
	}
	res, err := c.Write(context.Background(), &wire.WriteRequest{Series: series})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || attempts != 2 {
		t.Errorf("attempts: client %d, server %d; want 2", res.Attempts, attempts)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
