package workspace_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/workspace"
	"github.com/rwkit/rwkit/workspace/store"
)

// Queries cannot starve writes: with every query slot held by a query
// that burns a core until its timeout, and more queries waiting, remote
// writes are still answered promptly. The bound is generous (normal
// writes take milliseconds; this is a shared 2-core machine, maybe under
// the race detector): before query limits, 16 heavy queries held both
// cores and 1.9 GB.
func TestWritesStayFastUnderQueryLoad(t *testing.T) {
	const (
		slots        = 2
		queryTimeout = 4 * time.Second
		writeBound   = 2 * time.Second
	)
	lim, _ := validate.Profile("amp")
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{
		Registerer:          reg,
		QueryMaxConcurrency: slots,
		QueryTimeout:        queryTimeout,
		QueryMaxLength:      1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.New(st, workspace.WithLimits(lim), workspace.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	e := &env{ws: ws, srv: srv, reg: reg}
	defer func() {
		srv.Close()
		_ = ws.Close()
		_ = st.Close()
	}()

	// Evaluating 16,000 chained additions takes far longer than the
	// timeout (about 9 s of a core), so each slow query holds its slot
	// until it times out.
	slow := strings.Repeat("a+", 16_000) + "a"
	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, 3*slots)
	var wg sync.WaitGroup
	for range 3 * slots {
		wg.Go(func() {
			resp, err := http.PostForm(srv.URL+"/workspaces/ws-1/api/v1/query", url.Values{"query": {slow}})
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, string(b)}
		})
	}

	waitfor.True(t, "the queries to hold every slot", func() bool { return slotsHeld(t, dir) == slots })
	start := time.Now()
	var slowest time.Duration
	for i := range 20 {
		t0 := time.Now()
		r := e.push(t, "/workspaces/ws-1/api/v1/remote_write", rw1Body(series(float64(i), nowMs(), "__name__", "up", "service", "auth")))
		d := time.Since(t0)
		slowest = max(slowest, d)
		if r.status != http.StatusOK {
			t.Fatalf("write %d: %d %s", i, r.status, r.body)
		}
		if d > writeBound {
			t.Errorf("write %d took %s under query load; want under %s", i, d, writeBound)
		}
		if n := slotsHeld(t, dir); n > slots {
			t.Errorf("%d queries running, more than the %d slots", n, slots)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The writes were measured while every slot was taken.
	if n := slotsHeld(t, dir); n != slots {
		t.Fatalf("after %s of writes %d queries were running; the load ended before the writes did", time.Since(start), n)
	}
	t.Logf("20 writes with all %d query slots held and %d more queries waiting: slowest %s", slots, 2*slots, slowest)

	wg.Wait()
	close(answers)
	for a := range answers {
		var out struct{ Status, ErrorType, Error string }
		if err := json.Unmarshal([]byte(a.body), &out); err != nil {
			t.Fatalf("%d %s", a.code, a.body)
		}
		if a.code != http.StatusServiceUnavailable || out.ErrorType != "timeout" || !strings.Contains(out.Error, "store.Options.QueryTimeout") {
			t.Errorf("slow query: %d %s", a.code, a.body)
		}
	}
}

// slotsHeld counts the queries in the store's queries.active, where
// Prometheus's active query tracker writes each query that holds a slot
// (to parse or to evaluate it) and blanks it when the slot is freed. The
// engine's prometheus_engine_queries gauge also counts queries waiting for
// a slot.
func slotsHeld(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "queries.active"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte(`"query":`))
}
