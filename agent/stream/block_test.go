package stream

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// appendKeyLabel writes what wire.AppendLabel writes, on both sides of its
// one-byte-length fast path: derive finds a block's labels in a key by
// comparing them with wire.AppendLabel's.
func TestAppendKeyLabelIsWireAppendLabel(t *testing.T) {
	for _, n := range []int{0, 1, 60, 61, 62, 63, 64, 123, 124, 200} {
		for _, v := range []int{0, 1, 59, 60, 61, 62, 63, 130} {
			name, value := strings.Repeat("n", n), strings.Repeat("é", v/2)+strings.Repeat("v", v%2)
			if got, want := appendKeyLabel([]byte("x"), name, value), wire.AppendLabel([]byte("x"), name, value); !bytes.Equal(got, want) {
				t.Errorf("name of %d bytes, value of %d: %x, want %x", len(name), len(value), got, want)
			}
		}
	}
}

// collect is an Output that keeps the last scrape's series (by their
// labels) and their values.
type collect struct{ got map[string]float64 }

func (o *collect) Write(body []byte, _ int) error {
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(body, &req); err != nil {
		return err
	}
	for _, ts := range req.Series {
		o.got[validate.LabelsString(ts.Labels)] = ts.Samples[0].Value
	}
	return nil
}

// A target whose series churn while others stay: the texts of forgotten
// series are dropped from the chunks by compaction, which keeps the
// chunks at most about twice the texts in use, and the series that stay
// are written with their labels, made from their moved texts, as before.
func TestTextsAreCompacted(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k := n.Add(1)
		for i := range 20 {
			fmt.Fprintf(w, "stays{i=\"%d\"} %d\n", i, i)
			fmt.Fprintf(w, "churns{i=\"%d\",pad=\"%s\",scrape=\"%d\"} 1\n", i, strings.Repeat("p", 60), k)
		}
	}))
	defer srv.Close()
	cfg, err := config.Load(fmt.Sprintf("global:\n  external_labels: {region: eu}\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: [%q]\n",
		strings.TrimPrefix(srv.URL, "http://")), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := Targets(cfg.ScrapeConfigs[0])
	if err != nil {
		t.Fatal(err)
	}
	out := &collect{}
	l, err := New(cfg.ScrapeConfigs[0], targets[0], out, WithExternalLabels(cfg.GlobalConfig.ExternalLabels))
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for i := range 2000 { // 2000 scrapes 10 s apart: 5.5 hours
		out.got = map[string]float64{}
		if _, err := l.Scrape(context.Background(), time.UnixMilli(0).Add(time.Duration(i+1)*10*time.Second)); err != nil {
			t.Fatal(err)
		}
		most = max(most, l.c.txt.live+l.c.txt.dead)
	}
	if l.c.txt.gen == 0 {
		t.Fatalf("no compaction after %d bytes of texts dropped (%d in use)", l.c.txt.dead, l.c.txt.live)
	}
	if limit := 2*l.c.txt.live + 2*textChunk; most > limit {
		t.Errorf("the chunks held up to %d bytes of texts, %d in use at the end; want at most %d", most, l.c.txt.live, limit)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for i := range 20 {
		k := fmt.Sprintf(`{__name__="stays", i="%d", instance="%s", job="j", region="eu"}`, i, host)
		if v, ok := out.got[k]; !ok || v != float64(i) {
			t.Errorf("after %d compactions, %s = %v (written: %v); want %d", l.c.txt.gen, k, v, ok, i)
		}
	}
	derived := 0
	for _, e := range l.c.order {
		if e.flags&fDerived != 0 {
			derived++
		}
	}
	if derived != len(l.c.order) {
		t.Errorf("%d of the last scrape's %d series have their block made from their line text; want all", derived, len(l.c.order))
	}
}
