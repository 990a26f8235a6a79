package remotewrite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// received is one request as the test receiver saw and decoded it.
type received struct {
	Version    wire.Version
	Header     http.Header
	RawLen     int // uncompressed body bytes
	Raw        []byte
	Compressed int
	Req        wire.WriteRequest
}

// reply is what the test receiver answers to the n-th request (0-based).
type reply func(n int, got *received) (status int, header map[string]string, body string)

// receiver is an httptest server that decodes every request with the wire
// package, as a real receiver would, and answers with reply.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []*received
	reply reply
}

func newReceiver(t *testing.T, r reply) *receiver {
	t.Helper()
	rc := &receiver{t: t, reply: r}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	comp, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	raw, err := wire.Decompress(nil, comp, 64<<20)
	if err != nil {
		http.Error(w, "decompress: "+err.Error(), 400)
		return
	}
	got := &received{Header: r.Header.Clone(), RawLen: len(raw), Raw: raw, Compressed: len(comp)}
	switch ct := r.Header.Get("Content-Type"); ct {
	case wire.V2.ContentType():
		got.Version = wire.V2
		err = wire.DecodeRequestV2(raw, &got.Req)
	case wire.V1.ContentType():
		got.Version = wire.V1
		err = wire.DecodeWriteRequest(raw, &got.Req)
	default:
		err = fmt.Errorf("unexpected Content-Type %q", ct)
	}
	if err != nil {
		http.Error(w, "decode: "+err.Error(), 400)
		return
	}
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, got)
	rc.mu.Unlock()
	status, hdr, body := 200, map[string]string(nil), ""
	if rc.reply != nil {
		status, hdr, body = rc.reply(n, got)
	}
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (rc *receiver) requests() []*received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*received(nil), rc.reqs...)
}

func (rc *receiver) url() string { return rc.srv.URL + "/api/v1/push" }

// written answers like an RW 2.0 receiver that wrote everything.
func written(got *received) map[string]string {
	var s, h, e int
	for _, ts := range got.Req.Series {
		s += len(ts.Samples)
		h += len(ts.Histograms)
		e += len(ts.Exemplars)
	}
	return map[string]string{
		wire.HeaderSamplesWritten:    fmt.Sprint(s),
		wire.HeaderHistogramsWritten: fmt.Sprint(h),
		wire.HeaderExemplarsWritten:  fmt.Sprint(e),
	}
}

// sleeps records the waits the client asks for, without waiting.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func identity(d time.Duration) time.Duration { return d }

// testOpts makes retries deterministic and instant.
func testOpts(s *sleeps, more ...Option) []Option {
	return append([]Option{WithSleep(s.sleep), WithJitter(identity)}, more...)
}

// series builds n single-sample series named metric with an id label.
func series(metric string, n int, ts int64) []wire.TimeSeries {
	out := make([]wire.TimeSeries, n)
	for i := range out {
		out[i] = wire.TimeSeries{
			Labels:   []wire.Label{{Name: "__name__", Value: metric}, {Name: "id", Value: fmt.Sprint(i)}},
			Samples:  []wire.Sample{{Value: float64(i), Timestamp: ts}},
			Metadata: wire.Metadata{Type: wire.MetricTypeGauge, Help: "test gauge"},
		}
	}
	return out
}

func label(ts *wire.TimeSeries, name string) string {
	for _, l := range ts.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

func mustNew(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func containsAll(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%q\ndoes not contain %q", s, w)
		}
	}
}
