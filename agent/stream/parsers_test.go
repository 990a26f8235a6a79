package stream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// The bodies on which the stream parser (scrape.TextParser, which accepts
// what prometheus/common's expfmt accepts) and Prometheus' own text parser
// disagree. The stream loop fails none that Prometheus accepts: it parses
// them again with Prometheus' parser. It still accepts a few that
// Prometheus refuses (acceptsMore, listed in the package doc); the test
// fails when either side changes its mind.
func TestWhereTheParsersDisagree(t *testing.T) {
	for _, tc := range []struct {
		body        string
		prom        bool // Prometheus' parser accepts it
		acceptsMore bool // the stream loop accepts it all the same
	}{
		// The stream parser fails these; Prometheus' takes them.
		{"# TYPE a gauge\n# TYPE a counter\na 1\n", true, false},
		{"a 1\n# TYPE a gauge\n", true, false},
		{"# HELP a x\n# HELP a y\na 1\n", true, false},
		{"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", true, false},
		{"# TYPE s summary\ns{quantile=\"x\"} 1\n", true, false},
		{"# TYPE h histogram\nh_count -1\n", true, false},
		{"a{x=\"1\",x=\"2\"} 1\n", true, false},
		{"a{__name__=\"b\"} 1\n", true, false},
		{"a 1 \n", true, false}, // a space after the value
		// The stream parser takes these; Prometheus' refuses them.
		{"# TYPE a  gauge\na 1\n", false, true},
		{"# TYPE a GAUGE\na 1\n", false, true},
		{"# TYPE a gaugehistogram\na 1\n", false, true},
		{"# TYPE a\na 1\n", false, true},
		{"a 1 -5\n", false, true},
		// Both agree here.
		{"a\t1\n", true, false},
		{"a 1", true, false},
		{"a 1 1.5\n", false, false},
		{"a 0x1p3\n", false, false},
		{"a 1_000\n", false, false},
	} {
		t.Run(fmt.Sprintf("%q", tc.body), func(t *testing.T) {
			if got := promAccepts(tc.body); got != tc.prom {
				t.Errorf("Prometheus' parser accepts: %v, want %v", got, tc.prom)
			}
			tg := newTarget(t, []answer{{body: tc.body}})
			l := newLoop(t, loadConfig(t, tg, "", "", ""), &lastBody{})
			_, err := l.Scrape(context.Background(), time.Now())
			if want := tc.prom || tc.acceptsMore; (err == nil) != want {
				t.Errorf("stream loop's scrape error %v, want success %v", err, want)
			}
		})
	}
}

func promAccepts(body string) bool {
	p, err := textparse.New([]byte(body), "text/plain", labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		panic(err)
	}
	for {
		if _, err := p.Next(); err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}
