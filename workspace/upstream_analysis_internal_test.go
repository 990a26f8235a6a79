package workspace

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rwkit/rwkit/wire"
)

// passThrough is a workspace in pass-through mode in front of an upstream
// that answers 204, served over HTTP.
func passThrough(t *testing.T, store bool, opts ...Option) (*Workspace, string) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(up.Close)
	w, err := Open(t.TempDir(), append([]Option{WithUpstream(Upstream{URL: up.URL + "/api/v1/push", Store: store})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(func() { srv.Close(); _ = w.Close() })
	return w, srv.URL + "/workspaces/ws-1/api/v1/remote_write"
}

// freshWrite is a RW 1.0 body of n series never sent before (ids from
// first), one sample each at ts.
func freshWrite(first, n int, ts int64) []byte {
	req := &wire.WriteRequest{Series: make([]wire.TimeSeries, n)}
	for i := range req.Series {
		req.Series[i] = wire.TimeSeries{
			Labels:  []wire.Label{{Name: "__name__", Value: "churn"}, {Name: "id", Value: fmt.Sprint(first + i)}},
			Samples: []wire.Sample{{Timestamp: ts, Value: 1}},
		}
	}
	return wire.Compress(nil, wire.AppendWriteRequest(nil, req))
}

func postWrite(t *testing.T, url string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", wire.V1.ContentType())
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d, want the upstream's 204", resp.StatusCode)
	}
}

// Without Upstream.Store, what the workspace keeps of forwarded series is
// bounded by WithMaxTrackedSeries however many distinct series it
// forwards: no series in the store's head, none in the series limits'
// tables, at most the limit in the last-writer table. With Store the
// head holds them all (which shows the counts are the ones that grow).
func TestUpstreamMemoryBoundedByTrackedSeries(t *testing.T) {
	const limit, perWrite, writes = 1000, 500, 12
	for _, store := range []bool{false, true} {
		w, url := passThrough(t, store, WithMaxTrackedSeries(limit))
		ts := time.Now().UnixMilli()
		for i := range writes {
			postWrite(t, url, freshWrite(i*perWrite, perWrite, ts))
		}
		w.waitAnalyses()
		tn, err := w.tenant("ws-1")
		if err != nil {
			t.Fatal(err)
		}
		tn.mu.Lock()
		head, tracked, known := tn.db.NumSeries(), tn.series.len(), len(tn.known)
		tn.mu.Unlock()
		if store {
			if head != writes*perWrite {
				t.Errorf("Store: %d series in the head, want all %d", head, writes*perWrite)
			}
			continue
		}
		if head != 0 || known != 0 {
			t.Errorf("without Store, after %d distinct series: %d in the head, %d in the series limits' table; want none", writes*perWrite, head, known)
		}
		if tracked > limit || tracked < perWrite {
			t.Errorf("without Store: %d series in the last-writer table, want between the last write's %d and the limit %d", tracked, perWrite, limit)
		}
	}
}

// A write that finds the analysis queue full is forwarded and answered as
// always, counted in rwkit_upstream_analyses_skipped_total and logged
// once; the next write queued is logged too.
func TestUpstreamAnalysisQueueFull(t *testing.T) {
	var log syncLog
	w, url := passThrough(t, false, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	// The worker stopped, the queue fills up and stays full.
	w.stopAnalyses()
	ts := time.Now().UnixMilli()
	for i := range analysisQueueLen + 2 {
		postWrite(t, url, freshWrite(i, 1, ts))
	}
	w.waitAnalyses() // with the worker stopped: waits for the handlers
	if got := testutil.ToFloat64(w.metrics.upstreamSkipped.WithLabelValues("ws-1")); got != 2 {
		t.Errorf("rwkit_upstream_analyses_skipped_total %v, want 2", got)
	}
	if n := strings.Count(log.String(), "upstream analysis queue full"); n != 1 {
		t.Errorf("%d 'queue full' lines, want 1:\n%s", n, log.String())
	}
	// Room again: the next write is queued and the log says so.
	<-w.analyses.jobs
	postWrite(t, url, freshWrite(0, 1, ts))
	w.waitAnalyses()
	if !strings.Contains(log.String(), "upstream analyses resumed") || !strings.Contains(log.String(), "skipped=2") {
		t.Errorf("no 'resumed' line with skipped=2:\n%s", log.String())
	}
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
