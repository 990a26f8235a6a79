package remotewrite

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// lateCloser is a RoundTripper that closes each request body only when
// the next request comes (or the test ends), after RoundTrip has returned,
// as net/http's RoundTripper contract allows and its HTTP/2 transport does.
type lateCloser struct {
	mu   sync.Mutex
	open []io.Closer
}

func (l *lateCloser) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	l.close()
	l.mu.Lock()
	l.open = append(l.open, req.Body)
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(r)
}

func (l *lateCloser) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.open {
		c.Close()
	}
	l.open = nil
}

// Result.BytesCompressed is what went on the wire: the sum of the request
// bodies the receiver read, each delivered request once, whenever the
// transport lets go of a body.
func TestBytesCompressedIsWhatTheReceiverRead(t *testing.T) {
	req := &wire.WriteRequest{Series: series("rwkit_bytes_test_metric", 5000, 1_700_000_000_000)}
	for _, v := range []wire.Version{wire.V1, wire.V2} {
		t.Run(v.String(), func(t *testing.T) {
			var figures []int
			for run := range 2 {
				rc := newReceiver(t, func(_ int, got *received) (int, map[string]string, string) {
					return 200, written(got), ""
				})
				lc := &lateCloser{}
				t.Cleanup(lc.close)
				c := mustNew(t, rc.url(), WithVersion(v), WithMaxRequestBytes(16<<10), WithTransport(lc))
				res, err := c.Write(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				wireBytes, rawBytes := 0, 0
				reqs := rc.requests()
				for _, r := range reqs {
					wireBytes += r.Compressed
					rawBytes += r.RawLen
				}
				if res.Requests != len(reqs) || res.BytesCompressed != wireBytes || res.BytesUncompressed != rawBytes {
					t.Errorf("run %d: Result says %d requests, %d bytes snappy, %d raw; the receiver read %d requests, %d bytes snappy, %d raw",
						run, res.Requests, res.BytesCompressed, res.BytesUncompressed, len(reqs), wireBytes, rawBytes)
				}
				figures = append(figures, res.BytesCompressed)
			}
			if figures[0] != figures[1] {
				t.Errorf("BytesCompressed differs between two writes of the same input: %v", figures)
			}
		})
	}
}

// heldReader is a RoundTripper that answers 204 without reading a request
// body, and reads it only when the next request comes (or at the end),
// after RoundTrip has returned, which net/http's contract allows.
type heldReader struct {
	held   io.ReadCloser
	bodies [][]byte
}

func (h *heldReader) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := h.flush(); err != nil {
		return nil, err
	}
	h.held = req.Body
	return &http.Response{StatusCode: http.StatusNoContent, Status: "204 No Content", Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func (h *heldReader) flush() error {
	if h.held == nil {
		return nil
	}
	data, err := io.ReadAll(h.held)
	h.held.Close()
	h.held = nil
	h.bodies = append(h.bodies, data)
	return err
}

// A label-cache client's RW 1.0 writes (compressed while planned, every
// request of a write kept until sent) survive a transport that reads each
// body after RoundTrip returned, write after write: the bodies read late
// are those a new client sends.
func TestEncodedBodiesHeldByTheTransport(t *testing.T) {
	h := &heldReader{}
	opts := []Option{WithMaxRequestBytes(16 << 10), WithLabelCache()}
	c := mustNew(t, "http://receiver.invalid/write", append(opts, WithTransport(h))...)
	var want [][]byte
	for w := range 4 {
		req := &wire.WriteRequest{Series: series("held", 2000, int64(1_700_000_000_000+w*15000))}
		for i := range req.Series {
			req.Series[i].Samples[0].Value = float64(w*10 + i)
		}
		if _, err := c.Write(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		ref := &heldReader{}
		if _, err := mustNew(t, "http://receiver.invalid/write", append(opts, WithTransport(ref))...).Write(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if err := ref.flush(); err != nil {
			t.Fatal(err)
		}
		want = append(want, ref.bodies...)
	}
	if err := h.flush(); err != nil {
		t.Fatal(err)
	}
	if len(h.bodies) != len(want) || len(want) < 8 {
		t.Fatalf("%d bodies read, a new client's writes made %d (want at least 8)", len(h.bodies), len(want))
	}
	for i := range want {
		if !bytes.Equal(h.bodies[i], want[i]) {
			t.Fatalf("body %d, read after RoundTrip returned, differs from a new client's", i)
		}
	}
}
