package backendtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// expect is what one real server does in the cases every server is put
// through by conform.
type expect struct {
	// rw2 is the protocol a push asked as RW 2.0 ends on: wire.V2 where the
	// server takes RW 2.0, wire.V1 after its 415 and rwkit's fallback.
	rw2 wire.Version
	// fallbackStatus is the status of the RW 2.0 answer rwkit fell back
	// on (415, or a 2xx without the written-count headers); 0 for none.
	fallbackStatus int
	// The refusal cases, each in requests of its own after a first
	// accepted one where the case needs it:
	duplicate  answer // the same series and timestamp, another value
	outOfOrder answer // a sample ten minutes older than the series' last one
	badName    answer // a label name Prometheus' legacy rules refuse ("bad-name")
	badUTF8    answer // a label name that is not valid UTF-8
	longValue  answer // a label value of 5000 bytes
	tooOld     answer // a sample forty days old
}

// answer is a server's real answer to one case.
type answer struct {
	// status is the refusal's HTTP status; 0 when the write is accepted
	// (2xx).
	status int
	// reason is what remotewrite classifies the refusal body as; the hint
	// must be that reason's. Unset for an accepted write.
	reason validate.Reason
	// text is a part of the real refusal body.
	text string
	// read is what an instant query at the case's timestamp returns for
	// the case's metric afterwards: its value, or "" for nothing.
	read string
	// readQuery, when set, is the query read is the answer to, with %s
	// for the metric's selector; by default the selector alone.
	readQuery string
}

// conform runs the round trips and refusal cases against s and checks
// that the server does what want says.
func conform(t *testing.T, s *backendtest.Server, want expect) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)

	for _, v := range []wire.Version{wire.V1, wire.V2} {
		t.Run(fmt.Sprintf("push RW %v", v), func(t *testing.T) {
			roundTrip(ctx, t, s, v, now, want.rw2, want.fallbackStatus)
		})
	}

	client := newClient(t, s)
	type step struct {
		name    string
		labels  []wire.Label
		value   float64
		ts      time.Time
		refused *answer // nil: this step must be accepted
	}
	metric := func(name string, extra ...wire.Label) []wire.Label {
		return append([]wire.Label{{Name: "__name__", Value: name}, {Name: "job", Value: "backendtest"}}, extra...)
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"duplicate timestamp", []step{
			{"first", metric("rwkit_bt_dup"), 1, now, nil},
			{"new value, same timestamp", metric("rwkit_bt_dup"), 2, now, &want.duplicate},
		}},
		{"out of order", []step{
			{"first", metric("rwkit_bt_ooo"), 1, now, nil},
			{"ten minutes older", metric("rwkit_bt_ooo"), 2, now.Add(-10 * time.Minute), &want.outOfOrder},
		}},
		{"bad label name", []step{
			{"bad-name", metric("rwkit_bt_badname", wire.Label{Name: "bad-name", Value: "x"}), 1, now, &want.badName},
		}},
		{"label name not UTF-8", []step{
			{"bad\\xffname", metric("rwkit_bt_badutf8", wire.Label{Name: "bad\xffname", Value: "x"}), 1, now, &want.badUTF8},
		}},
		{"long label value", []step{
			{"5000 bytes", metric("rwkit_bt_longvalue", wire.Label{Name: "long", Value: strings.Repeat("v", 5000)}), 1, now, &want.longValue},
		}},
		{"too old", []step{
			{"forty days old", metric("rwkit_bt_old"), 1, now.Add(-40 * 24 * time.Hour), &want.tooOld},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, st := range tc.steps {
				lbls := append([]wire.Label(nil), st.labels...)
				sort.Slice(lbls, func(i, j int) bool { return lbls[i].Name < lbls[j].Name })
				_, err := client.Write(ctx, &wire.WriteRequest{Series: []wire.TimeSeries{{
					Labels:  lbls,
					Samples: []wire.Sample{{Value: st.value, Timestamp: st.ts.UnixMilli()}},
				}}})
				if st.refused == nil {
					if err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
					continue
				}
				checkAnswer(t, st.name, err, *st.refused)
				if err := s.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				q := fmt.Sprintf("{__name__=%q}", st.labels[0].Value)
				if st.refused.readQuery != "" {
					q = fmt.Sprintf(st.refused.readQuery, q)
				}
				if got := readValue(ctx, t, s, q, st.ts); got != st.refused.read {
					t.Errorf("%s: %s at the sample's timestamp reads %q, want %q", st.name, q, got, st.refused.read)
				}
			}
		})
	}
}

// checkAnswer compares a write's outcome with the server's expected
// answer: status, body text, and remotewrite's classification and hint.
func checkAnswer(t *testing.T, what string, err error, want answer) {
	t.Helper()
	if want.status == 0 {
		if err != nil {
			t.Errorf("%s: %v, want it accepted", what, err)
		} else {
			t.Logf("%s: accepted", what)
		}
		return
	}
	var rwErr *remotewrite.Error
	if !errors.As(err, &rwErr) {
		t.Errorf("%s: err = %v, want a refusal with %d", what, err, want.status)
		return
	}
	t.Logf("%s: %d %q -> %s", what, rwErr.StatusCode, rwErr.Body, rwErr.Reason)
	if rwErr.StatusCode != want.status {
		t.Errorf("%s: status %d, want %d", what, rwErr.StatusCode, want.status)
	}
	if !strings.Contains(rwErr.Body, want.text) {
		t.Errorf("%s: body %q does not contain %q", what, rwErr.Body, want.text)
	}
	if rwErr.Reason != want.reason || rwErr.Hint != want.reason.Hint() {
		t.Errorf("%s: classified as %q (hint %q), want %q (hint %q)", what, rwErr.Reason, rwErr.Hint, want.reason, want.reason.Hint())
	}
}

func newClient(t *testing.T, s *backendtest.Server, opts ...remotewrite.Option) *remotewrite.Client {
	t.Helper()
	if s.Tenant != "" {
		opts = append(opts, remotewrite.WithHeader(s.TenantHeader, s.Tenant))
	}
	// One attempt: a refusal is never retried anyway, and a 5xx should
	// fail the test at once rather than be retried for seconds.
	opts = append(opts, remotewrite.WithRetry(10*time.Millisecond, 10*time.Millisecond, 1))
	c, err := remotewrite.New(s.WriteURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip pushes a registry's gauges with push.Once as RW version v and
// reads them back with PromQL: the same series, labels and values.
// On RW 2.0 the push ends on rw2, after a fallback on fallbackStatus when
// rw2 is RW 1.0.
func roundTrip(ctx context.Context, t *testing.T, s *backendtest.Server, v wire.Version, ts time.Time, rw2 wire.Version, fallbackStatus int) {
	name := fmt.Sprintf("rwkit_bt_roundtrip_v%d", v)
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "backendtest round trip"}, []string{"k"})
	reg.MustRegister(g)
	want := map[string]float64{"a": 1.5, "b": -2, "c": 1e10}
	for k, val := range want {
		g.WithLabelValues(k).Set(val)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	opts := []push.Option{push.WithoutIdentity(), push.WithBatchTimestamp(ts), push.WithRWVersion(v),
		push.WithLogger(logger), push.WithClientOptions(remotewrite.WithLogger(logger))}
	if s.Tenant != "" {
		opts = append(opts, push.WithHeader(s.TenantHeader, s.Tenant))
	}
	res, err := push.Once(ctx, s.WriteURL, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("push RW %v: refused %v, failed %v", v, res.Refused, res.Failed)
	}
	wantVersion := v
	if v == wire.V2 {
		wantVersion = rw2
	}
	if res.Version != wantVersion {
		t.Errorf("push asked RW %v ended on RW %v, want RW %v", v, res.Version, wantVersion)
	}
	t.Logf("push RW %v: %d requests, ended on RW %v, stored %+v; log:\n%s", v, res.Requests, res.Version, res.Stored, logs.String())
	fellBack := res.Version == wire.V1 && strings.Contains(logs.String(), "falling back to 1.0")
	if wantFallback := v == wire.V2 && rw2 == wire.V1; fellBack != wantFallback {
		t.Errorf("fell back to RW 1.0: %v, want %v", fellBack, wantFallback)
	} else if fellBack && !strings.Contains(logs.String(), fmt.Sprintf("status=%d ", fallbackStatus)) {
		t.Errorf("fell back, but not on status %d", fallbackStatus)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, name, ts)
	if err != nil {
		t.Fatal(err)
	}
	gotByK := map[string]float64{}
	for _, smp := range got {
		wantLabels := map[string]string{"__name__": name, "k": smp.Metric["k"]}
		for k, v := range s.AddedLabels {
			wantLabels[k] = v
		}
		if diff := cmp.Diff(wantLabels, smp.Metric); diff != "" {
			t.Errorf("series labels (-want +got):\n%s", diff)
		}
		gotByK[smp.Metric["k"]] = smp.Value
	}
	if diff := cmp.Diff(want, gotByK); diff != "" {
		t.Errorf("read back %s (-want +got):\n%s", name, diff)
	}
}

// readValue returns the value an instant query returns at ts, "" for
// none.
func readValue(ctx context.Context, t *testing.T, s *backendtest.Server, query string, ts time.Time) string {
	t.Helper()
	got, err := s.Query(ctx, query, ts)
	if err != nil {
		t.Fatal(err)
	}
	switch len(got) {
	case 0:
		return ""
	case 1:
		return fmt.Sprint(got[0].Value)
	}
	t.Fatalf("%s: %d series, want at most 1: %v", query, len(got), got)
	return ""
}
