package stream_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// lastBody is an Output that keeps the last body, decoded.
type lastBody struct {
	req     wire.WriteRequest
	samples int
	err     error
}

func (o *lastBody) Write(body []byte, samples int) error {
	o.req = wire.WriteRequest{}
	o.samples, o.err = samples, wire.DecodeWriteRequest(body, &o.req)
	return nil
}

// FuzzScrape feeds arbitrary bodies to a loop, twice each (the second
// time from its cache): no panic, a failure is a clear error naming the
// target, and what is written is a valid request whose series all have
// a name, sorted labels and the target's job.
func FuzzScrape(f *testing.F) {
	for _, s := range []string{typesBody, typesBody2, oddBody, labelsBody, "a 1\nb 2\n!!bad\n", "", "a{b=\"\\x\"} 1\n",
		"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", "{\"\"} 1\n", "a 1 99999999999999999999\n"} {
		f.Add(s)
	}
	var mu sync.Mutex
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	tg := &target{Server: srv}
	cfg := loadConfig(f, tg, "  body_size_limit: 64KiB", "    sample_limit: 1000", "")
	out := &lastBody{}
	l := newLoop(f, cfg, out)
	now := time.Now()
	var step int
	f.Fuzz(func(t *testing.T, b string) {
		mu.Lock()
		body = b
		mu.Unlock()
		for range 2 {
			step++
			r, err := l.Scrape(context.Background(), now.Add(time.Duration(step)*time.Second))
			if err != r.Err {
				t.Fatalf("Scrape error %v, report's %v", err, r.Err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "scrape "+srv.URL) {
				t.Fatalf("error does not name the target: %v", err)
			}
			checkWritten(t, out, r.Written)
		}
	})
}

func checkWritten(t *testing.T, out *lastBody, written int) {
	t.Helper()
	if out.err != nil {
		t.Fatalf("the body written does not decode: %v", out.err)
	}
	if out.samples != written {
		t.Fatalf("Output got %d samples, the report says %d", out.samples, written)
	}
	n := 0
	for _, ts := range out.req.Series {
		n += len(ts.Samples)
		names := make([]string, len(ts.Labels))
		for i, l := range ts.Labels {
			names[i] = l.Name
		}
		if !slices.IsSorted(names) || !slices.Contains(names, "__name__") || !slices.Contains(names, "job") {
			t.Fatalf("series %v: labels unsorted, or without __name__ or job", ts.Labels)
		}
	}
	if n != written {
		t.Fatalf("the body has %d samples, the report says %d", n, written)
	}
}
