package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace/internal/costtest"
)

// maxEmptyTenantBytes is what a tenant that holds no data may cost.
const maxEmptyTenantBytes = 256 << 10

// tsdbOf returns tn's TSDB, nil when it has none open.
func tsdbOf(tn *Tenant) *tsdb.DB {
	tn.dbMu.RLock()
	defer tn.dbMu.RUnlock()
	return tn.db
}

// invalidHistogram fails Validate: its count is below its buckets'.
func invalidHistogram(ts int64) *wire.Histogram {
	h := intHistogram(ts)
	h.CountInt = 1
	return h
}

// emptyTenantQueries are the API calls that must answer for a tenant
// without a TSDB as for one whose TSDB holds nothing.
var emptyTenantQueries = []apiCase{
	{path: "query", params: url.Values{"query": {"up"}, "time": {"1704067200"}}},
	{path: "query", params: url.Values{"query": {"vector(1)"}, "time": {"1704067200"}}},
	{path: "query_range", params: url.Values{"query": {"up"}, "start": {"1704067200"}, "end": {"1704067500"}, "step": {"60"}}},
	{path: "series", params: url.Values{"match[]": {"up"}}},
	{path: "labels"},
	{path: "label/__name__/values"},
	{path: "metadata"},
}

func queryTenant(t testing.TB, h http.Handler, id string) []string {
	t.Helper()
	var bodies []string
	for _, q := range emptyTenantQueries {
		q.path = "/workspaces/" + id + "/api/v1/" + q.path
		code, body := serve(t, h, q)
		bodies = append(bodies, fmt.Sprintf("%d %s", code, body))
	}
	return bodies
}

// touchEmpty uses tenant id every way that must not open its TSDB: a batch
// whose only sample the TSDB would refuse, an exemplar, Resolve, the
// series count, a Querier and the query API.
func touchEmpty(t testing.TB, s *Store, h http.Handler, id string) {
	t.Helper()
	tn := tenant(t, s, id)
	ls := series("rpc_seconds")
	if refs := tn.Resolve(context.Background(), []wire.TimeSeries{{Labels: ls}}, nil); len(refs) != 1 {
		t.Fatalf("Resolve: %d refs", len(refs))
	}
	a := tn.Appender(context.Background())
	var ae *AppendError
	if err := a.AppendHistogram(ls, invalidHistogram(base)); !errors.As(err, &ae) {
		t.Fatalf("invalid histogram: %v, want an *AppendError", err)
	}
	if err := a.AppendExemplar(ls, &wire.Exemplar{Value: 1, Timestamp: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("exemplar of a series with no sample: %v, want ErrNotFound as an empty TSDB answers", err)
	}
	commit(t, a)
	if n := tn.NumSeries(); n != 0 {
		t.Fatalf("NumSeries = %d", n)
	}
	q, err := tn.Querier(0, base)
	if err != nil {
		t.Fatal(err)
	}
	_ = q.Close()
	queryTenant(t, h, id)
}

// A tenant costs at most maxEmptyTenantBytes and no open file until it
// holds data, whatever is asked of it; its queries answer as those of a
// tenant whose TSDB is open and empty.
func TestEmptyTenantIsCheap(t *testing.T) {
	s, dir := openStore(t, Options{Registerer: prometheus.NewRegistry()})
	h := s.APIHandler(nil)
	touchEmpty(t, s, h, "warm-up") // the first query builds what every query shares

	const n = 64
	heap0, fds0 := costtest.HeapInUse(), costtest.OpenFiles(t)
	for i := range n {
		touchEmpty(t, s, h, fmt.Sprintf("ws-%d", i))
	}
	heap1, fds1 := costtest.HeapInUse(), costtest.OpenFiles(t)
	perTenant := (int64(heap1) - int64(heap0)) / n
	t.Logf("%d tenants without data: %d bytes of heap and %.2f open files each", n, perTenant, float64(fds1-fds0)/n)
	if perTenant > maxEmptyTenantBytes {
		t.Errorf("a tenant without data costs %d bytes of heap; the bound is %d", perTenant, maxEmptyTenantBytes)
	}
	if fds1 > fds0 {
		t.Errorf("%d tenants without data opened %d files", n, fds1-fds0)
	}
	if _, err := os.Stat(filepath.Join(dir, "ws-0")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a tenant without data has a directory: %v", err)
	}
	if diff := cmp.Diff(n+1, len(s.Tenants())); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}

	// As a tenant with an open, empty TSDB answers (what every tenant was
	// before TSDBs were opened on the first sample).
	opened := tenant(t, s, "opened")
	if _, err := opened.open(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(queryTenant(t, h, "opened"), queryTenant(t, h, "ws-0")); diff != "" {
		t.Errorf("queries of a tenant without a TSDB (-open and empty +none):\n%s", diff)
	}
	// The refusal is the one the TSDB gives. The batches are rolled back:
	// one on a TSDB holds it open until it ends, and Close waits for that.
	refusal := func(tn *Tenant) error {
		a := tn.Appender(context.Background())
		defer func() { _ = a.Rollback() }()
		return a.AppendHistogram(series("rpc_seconds"), invalidHistogram(base))
	}
	want, got := refusal(opened), refusal(tenant(t, s, "ws-1"))
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Errorf("invalid histogram without a TSDB: %v; with one: %v", got, want)
	}
}

// The first accepted sample opens the TSDB; what it holds is found at the
// next Open, which opens the TSDBs of tenants with data only.
func TestTenantOpensOnFirstSample(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant(t, s, "ws-data")
	fds0 := costtest.OpenFiles(t)
	a := tn.Appender(context.Background())
	if err := a.AppendHistogram(series("rpc_seconds"), invalidHistogram(base)); err == nil {
		t.Fatal("invalid histogram accepted")
	}
	if tsdbOf(tn) != nil {
		t.Fatal("a refused sample opened the TSDB")
	}
	if err := a.Append(series("up"), base, 1); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	if tsdbOf(tn) == nil || costtest.OpenFiles(t) <= fds0 {
		t.Fatalf("the first accepted sample did not open the TSDB (open files %d, before %d)", costtest.OpenFiles(t), fds0)
	}

	// Metadata alone is kept beside the TSDB without opening it.
	meta := tenant(t, s, "ws-metadata")
	a = meta.Appender(context.Background())
	if err := a.UpdateMetadata(series("up"), wire.Metadata{Type: wire.MetricTypeGauge, Help: "Up."}); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	// A TSDB opened and closed without a sample (what every tenant written
	// to got before TSDBs were opened on the first sample).
	old := tenant(t, s, "ws-old")
	if _, err := old.open(); err != nil {
		t.Fatal(err)
	}
	tenant(t, s, "ws-never")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if tsdbOf(meta) != nil {
		t.Error("metadata opened the TSDB")
	}

	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if diff := cmp.Diff([]string{"ws-data", "ws-metadata", "ws-old"}, s2.Tenants()); diff != "" {
		t.Errorf("Tenants after restart (-want +got):\n%s", diff)
	}
	for id, wantOpen := range map[string]bool{"ws-data": true, "ws-metadata": false, "ws-old": false} {
		if got := tsdbOf(tenant(t, s2, id)) != nil; got != wantOpen {
			t.Errorf("%s: TSDB open after restart = %v, want %v", id, got, wantOpen)
		}
	}
	if diff := cmp.Diff(map[string][]point{`{__name__="up"}`: {{T: base, V: 1}}}, read(t, tenant(t, s2, "ws-data"), "up")); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	if got := tenant(t, s2, "ws-metadata").metadata("up"); len(got["up"]) != 1 {
		t.Errorf("metadata after restart: %+v", got)
	}
	// A tenant whose TSDB is on disk but unopened takes samples as any.
	old2 := tenant(t, s2, "ws-old")
	a = old2.Appender(context.Background())
	if err := a.Append(series("up"), base, 2); err != nil {
		t.Fatal(err)
	}
	commit(t, a)
	if got := read(t, old2, "up"); len(got) != 1 {
		t.Errorf("ws-old after its first sample: %v", got)
	}
}

// A tenant with one series costs what its TSDB needs for it, not what
// Prometheus sizes for a server's single TSDB (see tsdbOptions): measured
// 0.80 MB with the store's options, 8.5 MB with Prometheus's defaults.
func TestTenantWithOneSeriesCost(t *testing.T) {
	const maxBytes = 3 << 19 // 1.5 MiB
	s, _ := openStore(t, Options{})
	const n = 16
	heap0 := costtest.HeapInUse()
	for i := range n {
		tn := tenant(t, s, fmt.Sprintf("ws-%d", i))
		a := tn.Appender(context.Background())
		// 300 samples: the first chunk (120) is full and, once mapped,
		// written to chunks_head through the write buffer.
		for j := range 300 {
			if err := a.Append(series("up"), base+int64(j)*15_000, 1); err != nil {
				t.Fatal(err)
			}
		}
		commit(t, a)
		tsdbOf(tn).ForceHeadMMap()
	}
	perTenant := (int64(costtest.HeapInUse()) - int64(heap0)) / n
	t.Logf("a tenant with one series of 300 samples: %d bytes of heap", perTenant)
	if perTenant > maxBytes {
		t.Errorf("a tenant with one series costs %d bytes of heap; the bound is %d", perTenant, maxBytes)
	}
}
