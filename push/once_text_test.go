package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/scrape"
	"github.com/rwkit/rwkit/wire"
)

// sortedExposition writes families sorted by name, as client_golang
// does: every type, series with a few labels, HELP text.
func sortedExposition(families, perFamily int) []byte {
	var b bytes.Buffer
	types := []string{"counter", "gauge", "histogram", "summary", "untyped"}
	for f := range families {
		name := fmt.Sprintf("fam_%04d", f)
		typ := types[f%len(types)]
		fmt.Fprintf(&b, "# HELP %s Family %d, with a \\\\ and a \\n.\n# TYPE %s %s\n", name, f, name, typ)
		for i := range perFamily {
			ls := fmt.Sprintf("path=\"/api/v%d/item\",code=\"%d\"", i%7, 200+i)
			switch typ {
			case "histogram":
				for _, le := range []string{"0.1", "1", "+Inf"} {
					fmt.Fprintf(&b, "%s_bucket{%s,le=\"%s\"} %d\n", name, ls, le, i)
				}
				fmt.Fprintf(&b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, ls, float64(i)/3, name, ls, i)
			case "summary":
				fmt.Fprintf(&b, "%s{%s,quantile=\"0.5\"} %g\n%s_sum{%s} 1\n%s_count{%s} 2\n", name, ls, float64(i)/7, name, ls, name, ls)
			default:
				fmt.Fprintf(&b, "%s{%s} %d 1700000000000\n", name, ls, i*f)
			}
		}
	}
	return b.Bytes()
}

type onceOutcome struct {
	res      *Result
	err      error
	series   []string
	metadata []wire.Metadata
}

func receivedSeries(rc *receiver) ([]string, []wire.Metadata) {
	var out []string
	var md []wire.Metadata
	for _, r := range rc.accepted() {
		md = append(md, r.Metadata...)
		for _, s := range r.Series {
			var b strings.Builder
			b.WriteString(wire.SeriesString(s.Labels))
			for _, x := range s.Samples {
				fmt.Fprintf(&b, " %x@%d", math.Float64bits(x.Value), x.Timestamp)
			}
			out = append(out, b.String())
		}
	}
	return out, md
}

func pushTree(t *testing.T, body []byte, respond func(int) (int, string), opts ...Option) onceOutcome {
	rc := newReceiver(t)
	rc.setRespond(respond)
	fams, err := scrape.Parse(bytes.NewReader(body), "")
	if err != nil {
		return onceOutcome{err: err}
	}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return fams, nil })
	res, err := Once(context.Background(), rc.url(), g, opts...)
	s, md := receivedSeries(rc)
	return onceOutcome{res: res, err: err, series: s, metadata: md}
}

func pushStream(t *testing.T, body []byte, respond func(int) (int, string), opts ...Option) onceOutcome {
	rc := newReceiver(t)
	rc.setRespond(respond)
	open := func() (io.Reader, error) { return bytes.NewReader(body), nil }
	res, err := OnceText(context.Background(), rc.url(), open, "", opts...)
	s, md := receivedSeries(rc)
	return onceOutcome{res: res, err: err, series: s, metadata: md}
}

// TestOnceTextIsOnce: the same requests, counts, refusals and series as
// Once of the parsed exposition, for an exposition sorted by name.
func TestOnceTextIsOnce(t *testing.T) {
	at := WithBatchTimestamp(time.UnixMilli(1_700_000_000_000))
	big := sortedExposition(40, 150)
	ok := func(int) (int, string) { return http.StatusNoContent, "" }
	refuse := func(n int) (int, string) {
		if n == 3 || n == 7 {
			return http.StatusBadRequest, "out of order sample"
		}
		return http.StatusNoContent, ""
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		respond func(int) (int, string)
		opts    []Option
	}{
		{"small", sortedExposition(5, 3), ok, nil},
		{"big by samples", big, ok, []Option{WithClientOptions(maxSamples(100))}},
		{"big by bytes", big, ok, []Option{WithClientOptions(remotewrite.WithMaxRequestBytes(5000))}},
		{"big default", big, ok, nil},
		{"big RW 2.0", big, ok, []Option{WithRWVersion(wire.V2), WithClientOptions(remotewrite.WithMaxRequestBytes(7000))}},
		{"refusals", big, refuse, []Option{WithClientOptions(maxSamples(300))}},
		{"labels and honor", big, ok, []Option{WithLabels(map[string]string{"env": "prod"}), WithHonorTimestamps(), WithClientOptions(maxSamples(250))}},
		{"empty", []byte("# HELP a A.\n"), ok, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]Option{WithoutIdentity(), at}, tc.opts...)
			want, got := pushTree(t, tc.body, tc.respond, opts...), pushStream(t, tc.body, tc.respond, opts...)
			if want.err != nil || got.err != nil {
				t.Fatalf("errors: Once %v, OnceText %v", want.err, got.err)
			}
			ignore := cmpopts.IgnoreFields(Result{}, "Duration", "Attempts")
			errs := cmpopts.IgnoreFields(remotewrite.Error{}, "URL", "Total", "DeliveredRequests", "Delivered", "Attempts")
			if diff := cmp.Diff(want.res, got.res, ignore, errs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Result (-Once +OnceText):\n%s", diff)
			}
			if diff := cmp.Diff(want.series, got.series); diff != "" {
				t.Errorf("series received (-Once +OnceText):\n%s", diff)
			}
			if diff := cmp.Diff(want.metadata, got.metadata, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("metadata received (-Once +OnceText):\n%s", diff)
			}
			if got.res.Requests < 2 && len(tc.body) > 100000 {
				t.Errorf("%d requests: the test wants a split write", got.res.Requests)
			}
		})
	}
}

// TestOnceTextUnsorted: families out of order go out in exposition order;
// the counts and the series are Once's.
func TestOnceTextUnsorted(t *testing.T) {
	body := []byte("z 1\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 2\na{x=\"1\"} 3\nb 4\na{x=\"2\"} 5\n")
	ok := func(int) (int, string) { return http.StatusNoContent, "" }
	opts := []Option{WithoutIdentity(), WithBatchTimestamp(time.UnixMilli(1_700_000_000_000)), WithClientOptions(maxSamples(2))}
	want, got := pushTree(t, body, ok, opts...), pushStream(t, body, ok, opts...)
	if diff := cmp.Diff(want.res.Converted, got.res.Converted); diff != "" {
		t.Errorf("Converted (-Once +OnceText):\n%s", diff)
	}
	if want.res.Stored != got.res.Stored || want.res.Requests != got.res.Requests {
		t.Errorf("stored %+v in %d requests, Once %+v in %d", got.res.Stored, got.res.Requests, want.res.Stored, want.res.Requests)
	}
	w, g := slices.Clone(want.series), slices.Clone(got.series)
	slices.Sort(w)
	slices.Sort(g)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("series (-Once +OnceText):\n%s", diff)
	}
}

// TestOnceTextRefusesBeforeSending: a body that fails to parse or convert
// in its last line sends nothing, with Once's errors.
func TestOnceTextRefusesBeforeSending(t *testing.T) {
	big := sortedExposition(20, 100)
	for name, body := range map[string][]byte{
		"parse error":     append(slices.Clone(big), "broken{ 1\n"...),
		"repeated series": append(slices.Clone(big), "fam_0000{path=\"/api/v0/item\",code=\"200\"} 1\n"...),
		"label conflict":  append(slices.Clone(big), "last{env=\"dev\"} 1\n"...),
	} {
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t)
			open := func() (io.Reader, error) { return bytes.NewReader(body), nil }
			opts := []Option{WithoutIdentity(), WithLabels(map[string]string{"env": "prod"}), WithClientOptions(maxSamples(100))}
			res, err := OnceText(context.Background(), rc.url(), open, "", opts...)
			if err == nil || res != nil {
				t.Fatalf("OnceText = %v, %v; want an error", res, err)
			}
			if rc.requests() != 0 {
				t.Errorf("%d requests sent before the error", rc.requests())
			}
			want := pushTree(t, body, nil, opts...)
			if want.err == nil {
				t.Fatal("Once took it")
			}
			_, isParse := err.(*gather.ParseError)
			if !isParse && err.Error() != want.err.Error() {
				t.Errorf("error %q, Once's %q", err, want.err)
			}
			if isParse && err.Error() != want.err.Error() {
				t.Errorf("parse error %q, scrape.Parse's %q", err, want.err)
			}
		})
	}
}

// TestOnceTextFailure: a request that fails stops the write; the Result
// says what was delivered and numbers the failure within the whole write.
func TestOnceTextFailure(t *testing.T) {
	body := sortedExposition(30, 100)
	rc := newReceiver(t)
	rc.setRespond(func(n int) (int, string) {
		if n >= 12 {
			return http.StatusServiceUnavailable, "down"
		}
		return http.StatusNoContent, ""
	})
	open := func() (io.Reader, error) { return bytes.NewReader(body), nil }
	res, err := OnceText(context.Background(), rc.url(), open, "", WithoutIdentity(),
		WithClientOptions(maxSamples(100)), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var e *remotewrite.Error
	if res.Failed == nil || !strings.Contains(res.Failed.Error(), "503") {
		t.Fatalf("Failed = %v", res.Failed)
	}
	if !asError(res.Failed, &e) || e.Request != 13 || e.DeliveredRequests != 12 || e.Requests < 13 {
		t.Errorf("failure numbered %d of %d (%d delivered before), want 13 of at least 13 (12)", e.Request, e.Requests, e.DeliveredRequests)
	}
	if res.Requests != 13 || res.Stored.Samples != 1200 || res.Converted.Series == 0 {
		t.Errorf("%d requests, %d samples stored, %d series converted; want 13, 1200, the whole exposition's", res.Requests, res.Stored.Samples, res.Converted.Series)
	}
}

func asError(err error, e **remotewrite.Error) bool {
	for err != nil {
		if x, ok := err.(*remotewrite.Error); ok {
			*e = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
