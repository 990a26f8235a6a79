package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/disktest"
	"github.com/rwkit/rwkit/wire"
)

// TestServeDiskFullKeepsAcknowledgedWrites is issue 15's reproduction as a
// test: `rwkit serve` on a 5 MiB tmpfs, concurrent writers until the disk
// is full, the tmpfs grown, more writes, then a stop and a restart on the
// same --data. Every sample answered 2xx, before and after the disk was
// full, must be found after the restart; while the disk is full /-/ready
// answers 503 naming the workspace, the refusals show no server path, and
// the failure is logged once, not once per write. With serve's default
// --disk-reserve-bytes (a twentieth of this disk, 256 KiB) the writes are
// refused before a commit fails: the path a user's server takes; the
// failed-commit path is tested in workspace and workspace/store. It needs root (a tmpfs
// mount) and skips without it unless CI=true or RWKIT_REQUIRE_ROOT=1.
func TestServeDiskFullKeepsAcknowledgedWrites(t *testing.T) {
	fs := disktest.Mount(t, 5<<20)
	data := fs.Dir + "/data"
	addr, stop := startServe(t, "--data", data, "--limits", "prometheus")
	base := "http://" + addr
	writeURL := base + "/workspaces/ws-1/api/v1/remote_write"
	t0 := time.Now().Add(-time.Minute).UnixMilli()

	var (
		mu       sync.Mutex
		acked    = map[string]bool{} // every sample answered 2xx
		statuses = map[int]int{}
		bodies5  []string
	)
	record := func(code int, body string, req *wire.WriteRequest) {
		mu.Lock()
		defer mu.Unlock()
		statuses[code]++
		switch {
		case code/100 == 2:
			for i := range req.Series {
				for _, s := range req.Series[i].Samples {
					acked[sampleKey(req.Series[i].Labels, s)] = true
				}
			}
		case code/100 == 5 && len(bodies5) < 5:
			bodies5 = append(bodies5, body)
		}
	}

	// Phase 1: 4 writers, 200 new series per request, until the disk is
	// full and then 30 requests more each (answered while full).
	const writers = 4
	var full sync.Once
	fullc := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			after := -1
			for r := 0; r < 5000 && after != 0; r++ {
				req := fillRequest("disk_fill", w, r, 200, t0+int64(r))
				code, body := postWriteRequest(t, writeURL, req)
				record(code, body, req)
				if code/100 == 5 {
					full.Do(func() { close(fullc) })
				}
				select {
				case <-fullc:
					if after < 0 {
						after = 30
					}
					after--
				default:
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-fullc:
	default:
		t.Fatalf("the 5 MiB disk never filled up: %v", statuses)
	}
	ackedBefore := len(acked)

	code, body := get(t, base+"/-/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "ws-1") {
		t.Errorf("/-/ready while the disk is full: %d %q, want 503 naming ws-1", code, body)
	}
	for _, b := range bodies5 {
		if strings.Contains(b, fs.Dir) || !strings.Contains(b, "cannot write to its disk") {
			t.Errorf("5xx body while the disk is full: %q; want the disk named as the cause, without the server's path", b)
		}
	}

	// Phase 2: the operator frees space; 4 writers, 50 new series per
	// request, retrying a refused request as a remote-write client does.
	fs.Resize(60 << 20)
	phase1 := fmt.Sprint(statuses)
	statuses = map[int]int{}
	deadline := time.Now().Add(30 * time.Second)
	for w := range writers {
		wg.Go(func() {
			for r := 0; r < 100; r++ {
				req := fillRequest("disk_after", w, r, 50, t0+10_000+int64(r))
				for {
					code, body := postWriteRequest(t, writeURL, req)
					record(code, body, req)
					if code/100 != 5 || time.Now().After(deadline) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	ackedAfter := len(acked) - ackedBefore
	if want := writers * 100 * 50; ackedAfter != want {
		t.Errorf("after the disk grew, %d samples acknowledged, want %d (%v)", ackedAfter, want, statuses)
	}
	if code, body := get(t, base+"/-/ready"); code != http.StatusOK {
		t.Errorf("/-/ready after the disk grew: %d %q, want 200", code, body)
	}

	logs := stop()
	for _, l := range strings.Split(logs, "\n") {
		if l != "" && (!strings.Contains(l, "level=INFO") || strings.Contains(l, "failed_writes=") || strings.Contains(l, "repair")) {
			t.Logf("serve: %.400s", l)
		}
	}
	if n := strings.Count(logs, "level=ERROR"); n > 2 {
		t.Errorf("%d ERROR lines for one disk-full episode; want the failure logged once per state change:\n%.3000s", n, logs)
	}
	if !strings.Contains(logs, "failed_writes=") {
		t.Errorf("no recovery line with the count of failed writes:\n%.3000s", logs)
	}

	addr, _ = startServe(t, "--data", data, "--limits", "prometheus")
	found := map[string]bool{}
	for _, metric := range []string{"disk_fill", "disk_after"} {
		for k := range querySamples(t, "http://"+addr+"/workspaces/ws-1", metric+"[1h]", t0+20_000) {
			found[k] = true
		}
	}
	lostBefore, lostAfter := 0, 0
	for k := range acked {
		if found[k] {
			continue
		}
		if strings.HasPrefix(k, "disk_fill") {
			lostBefore++
		} else {
			lostAfter++
		}
	}
	t.Logf("phase 1 (filling 5 MiB): answers %s, %d samples acknowledged, %d of them found after restart", phase1, ackedBefore, ackedBefore-lostBefore)
	t.Logf("phase 2 (60 MiB): answers %v, %d samples acknowledged, %d of them found after restart", statuses, ackedAfter, ackedAfter-lostAfter)
	if lostBefore+lostAfter > 0 {
		t.Errorf("acknowledged samples lost at restart: %d of %d written before the disk grew, %d of %d after", lostBefore, ackedBefore, lostAfter, ackedAfter)
	}
}

// fillRequest is n new series {__name__=metric, w, r, s} with one sample
// each at ts.
func fillRequest(metric string, w, r, n int, ts int64) *wire.WriteRequest {
	req := &wire.WriteRequest{Series: make([]wire.TimeSeries, n)}
	for s := range n {
		req.Series[s] = wire.TimeSeries{
			Labels: []wire.Label{
				{Name: "__name__", Value: metric},
				{Name: "r", Value: strconv.Itoa(r)},
				{Name: "s", Value: strconv.Itoa(s)},
				{Name: "w", Value: strconv.Itoa(w)},
			},
			Samples: []wire.Sample{{Timestamp: ts, Value: float64(r*1000 + s)}},
		}
	}
	return req
}

func sampleKey(ls []wire.Label, s wire.Sample) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Value)
		b.WriteByte('/')
	}
	fmt.Fprintf(&b, "@%d=%g", s.Timestamp, s.Value)
	return b.String()
}

// querySamples runs a range-vector instant query and returns the keys
// (as sampleKey makes them) of every sample in its answer.
func querySamples(t *testing.T, base, q string, ts int64) map[string]bool {
	t.Helper()
	var result []struct {
		Metric map[string]string
		Values [][2]json.RawMessage
	}
	queryAt(t, base, q, ts, &result)
	keys := map[string]bool{}
	for _, s := range result {
		ls := []wire.Label{{Value: s.Metric["__name__"]}, {Value: s.Metric["r"]}, {Value: s.Metric["s"]}, {Value: s.Metric["w"]}}
		for _, p := range s.Values {
			var sec float64
			var v string
			if json.Unmarshal(p[0], &sec) != nil || json.Unmarshal(p[1], &v) != nil {
				t.Fatalf("query %q: bad point %s", q, p)
			}
			f, _ := strconv.ParseFloat(v, 64)
			keys[sampleKey(ls, wire.Sample{Timestamp: int64(sec*1000 + 0.5), Value: f})] = true
		}
	}
	return keys
}
