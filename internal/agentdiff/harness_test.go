package agentdiff

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/wire"
)

func sample(name, target string, ts int64, v float64) Sample {
	ls := []wire.Label{{Name: "__name__", Value: name}, {Name: "job", Value: "j"}, {Name: TargetLabel, Value: target}}
	return Sample{Labels: ls, Key: SeriesKey(ls), Value: v, Timestamp: ts}
}

func TestObserveAlignsToScrapes(t *testing.T) {
	stale := math.Float64frombits(wire.StaleNaN)
	// Target a is scraped at 1000, 2000, 3000, 4000; target b at 1500, 2500.
	in := []Sample{
		sample("up", "a", 1000, 1), sample("m", "a", 1000, 1), sample("m", "a", 1000, 2),
		sample("up", "b", 1500, 1), sample("m", "b", 1500, math.NaN()),
		sample("up", "a", 2000, 1), sample("m", "a", 2000, stale), sample("x", "a", 900, 7),
		sample("up", "b", 2500, 0), sample("m", "b", 2500, stale),
		sample("up", "a", 3000, 0),
		sample("up", "a", 4000, 1), sample("m", "a", 4000, 5), // after the compared scrapes
		sample("late", "a", 4000, 1),
		sample("scrape_duration_seconds", "a", 1000, 0.003), sample("scrape_duration_seconds", "a", 2000, 20),
	}
	got := Observe(in, nil, nil, 3, 0)
	want := Observation{
		Series: map[string]Points{
			`up{job="j",target="a"}`:                      {ByScrape: []string{"1", "1", "0"}},
			`m{job="j",target="a"}`:                       {ByScrape: []string{"1,2", "stale", ""}},
			`x{job="j",target="a"}`:                       {ByScrape: []string{"", "", ""}, Explicit: []string{"@+900ms=7"}},
			`up{job="j",target="b"}`:                      {ByScrape: []string{"1", "0", ""}},
			`m{job="j",target="b"}`:                       {ByScrape: []string{"NaN", "stale", ""}},
			`scrape_duration_seconds{job="j",target="a"}`: {ByScrape: []string{"d", "20", ""}},
		},
		Metadata: map[string][]string{},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Observe (-want +got):\n%s", d)
	}
}

func TestObserveProblems(t *testing.T) {
	noTarget := Sample{Labels: []wire.Label{{Name: "__name__", Value: "y"}}, Key: `y{}`, Timestamp: 1}
	unsorted := []wire.Label{{Name: "__name__", Value: "z"}, {Name: TargetLabel, Value: "a"}, {Name: "job", Value: "j"}}
	empty := []wire.Label{{Name: "__name__", Value: "e"}, {Name: "job", Value: ""}, {Name: TargetLabel, Value: "a"}}
	in := []Sample{
		sample("up", "a", 2000, 1), sample("up", "a", 1000, 1), sample("up", "a", 1000, 1),
		noTarget, noTarget,
		{Labels: unsorted, Key: SeriesKey(unsorted), Timestamp: 1000}, {Labels: unsorted, Key: SeriesKey(unsorted), Timestamp: 1000},
		{Labels: empty, Key: SeriesKey(empty), Timestamp: 1000},
	}
	got := Observe(in, nil, []string{"decode: bad"}, 2, 0).Problems
	want := []string{
		`e{job="",target="a"}: label job has an empty value`,
		`receiver refused a request: decode: bad`,
		`up{job="j",target="a"}: timestamp went back from @+2000ms to @+1000ms in arrival order`,
		`up{job="j",target="a"}: two samples at timestamp @+1000ms`,
		`y{}: no target label: not from a scripted target`,
		`z{job="j",target="a"}: labels not sorted by name, or repeated: job after target`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

func TestCompare(t *testing.T) {
	base := Observation{
		Series: map[string]Points{
			`h{le="1"}`: {ByScrape: []string{"1", "2"}},
			`up{}`:      {ByScrape: []string{"1", "1"}},
		},
		Metadata: map[string][]string{"h": {"type=histogram"}},
	}
	renamed := base.Clone()
	_ = Rename(`h{le="1"}`, `h{le="1.0"}`)(&renamed)
	leKnown := Known{Why: "le normalized", Patch: Rename(`h{le="1"}`, `h{le="1.0"}`)}

	for _, tc := range []struct {
		name  string
		got   Observation
		known []Known
		want  []string // substrings of the report; none: agree
	}{
		{name: "equal", got: base.Clone()},
		{name: "value differs", got: func() Observation {
			o := base.Clone()
			o.Series[`up{}`] = Points{ByScrape: []string{"1", "0"}}
			return o
		}(), want: []string{"b differs from a:", "up{}", "a: 1 1", "b: 1 0"}},
		{name: "metadata differs", got: func() Observation {
			o := base.Clone()
			o.Metadata["h"] = nil
			return o
		}(), want: []string{"metadata h", "b: (none)"}},
		{name: "known difference applies", got: renamed, known: []Known{leKnown}},
		{name: "known difference does not show", got: base.Clone(), known: []Known{leKnown},
			want: []string{`known difference "le normalized" did not show`}},
		{name: "known difference does not apply", got: renamed, known: []Known{{Why: "gone", Patch: Delete("nope{}")}},
			want: []string{`known difference "gone" does not apply to a's observation: delete: no series nope{}`}},
		{name: "beyond the known difference", got: func() Observation {
			o := renamed.Clone()
			o.Series[`up{}`] = Points{ByScrape: []string{"0", "1"}}
			return o
		}(), known: []Known{leKnown}, want: []string{"with the 1 known differences applied", "without the known differences"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			report := Compare(base, tc.got, "a", "b", tc.known)
			if len(tc.want) == 0 {
				if report != "" {
					t.Errorf("report = %q, want none", report)
				}
				return
			}
			norm := strings.Join(strings.Fields(report), " ")
			for _, w := range tc.want {
				if !strings.Contains(norm, w) {
					t.Errorf("report does not contain %q:\n%s", w, report)
				}
			}
		})
	}
}

func TestReceiver(t *testing.T) {
	r := NewReceiver(t)
	ls := []wire.Label{{Name: "__name__", Value: "m"}, {Name: "target", Value: "a"}}
	req := &wire.WriteRequest{
		Series:   []wire.TimeSeries{{Labels: ls, Samples: []wire.Sample{{Value: 1, Timestamp: 10}, {Value: 2, Timestamp: 20}}}},
		Metadata: []wire.Metadata{{Type: wire.MetricTypeGauge, FamilyName: "m", Help: "h"}},
	}
	post := func(body []byte, contentType string) *http.Response {
		t.Helper()
		resp, err := http.Post(r.URL, contentType, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	r.RefuseFirst(503)
	if resp := post(wire.Compress(nil, wire.AppendWriteRequest(nil, req)), wire.V1.ContentType()); resp.StatusCode != 503 || r.Refused() != 1 {
		t.Errorf("refused: status %d, %d refused; want 503, 1", resp.StatusCode, r.Refused())
	}
	if resp := post(wire.Compress(nil, wire.AppendWriteRequest(nil, req)), wire.V1.ContentType()); resp.StatusCode != 200 {
		t.Errorf("RW 1.0: status %d, want 200", resp.StatusCode)
	}
	req.Series[0].Metadata = req.Metadata[0]
	req.Series[0].Samples = req.Series[0].Samples[:1]
	resp := post(wire.Compress(nil, wire.AppendRequestV2(nil, req)), wire.V2.ContentType())
	if resp.StatusCode != 204 || resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written") != "1" {
		t.Errorf("RW 2.0: status %d, samples written %q; want 204, 1", resp.StatusCode, resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"))
	}
	if resp := post([]byte("not snappy"), wire.V1.ContentType()); resp.StatusCode != 400 {
		t.Errorf("garbage: status %d, want 400", resp.StatusCode)
	}
	var got []string
	for _, s := range r.Samples() {
		got = append(got, s.Key+" "+formatValue(s))
	}
	if d := cmp.Diff([]string{`m{target="a"} 1`, `m{target="a"} 2`, `m{target="a"} 1`}, got); d != "" {
		t.Errorf("samples (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string][]string{"m": {`type=gauge help="h" unit=""`}}, r.Metadata()); d != "" {
		t.Errorf("metadata (-want +got):\n%s", d)
	}
	if n := len(r.Errors()); n != 1 {
		t.Errorf("%d errors recorded, want 1", n)
	}
	if n := r.CountWhere(func(ls map[string]string) bool { return ls["target"] == "a" }); n != 3 {
		t.Errorf("CountWhere = %d, want 3", n)
	}
}

func TestTarget(t *testing.T) {
	tg := StartTarget(t, func(n int) Response {
		if n == 2 {
			return Response{Body: "x 1\n"}
		}
		return Response{Status: 500, ContentType: "text/plain", Body: "boom"}
	}, 2)
	var got []string
	// The third request comes at once after the second: the same scrape
	// asked again, answered the same.
	for _, pause := range []time.Duration{0, sameScrape + 50*time.Millisecond, 0, sameScrape + 50*time.Millisecond} {
		time.Sleep(pause)
		resp, err := http.Get("http://" + tg.Addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, resp.Status+" ["+resp.Header.Get("Content-Type")+"] "+strings.TrimSpace(string(b)))
	}
	want := []string{
		"500 Internal Server Error [text/plain] boom",
		"200 OK [] x 1",
		"200 OK [] x 1",
		"503 Service Unavailable [text/plain; charset=utf-8] script ended after scrape 2",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("answers (-want +got):\n%s", d)
	}
	if tg.Scrapes() != 3 {
		t.Errorf("Scrapes() = %d, want 3", tg.Scrapes())
	}
}
