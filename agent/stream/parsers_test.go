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

// The bodies on which the stream loop's parser (scrape.TextParser, which
// accepts what prometheus/common's expfmt accepts) and Prometheus' own
// text parser disagree: what switching rwkit agent to the stream loop
// would change for a target exposing them. The test fails when either
// side changes its mind.
func TestWhereTheParsersDisagree(t *testing.T) {
	for _, tc := range []struct {
		body           string
		prom, streamOK bool
	}{
		{"# TYPE a gauge\n# TYPE a counter\na 1\n", true, false},
		{"a 1\n# TYPE a gauge\n", true, false},
		{"# HELP a x\n# HELP a y\na 1\n", true, false},
		{"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", true, false},
		{"# TYPE s summary\ns{quantile=\"x\"} 1\n", true, false},
		{"# TYPE h histogram\nh_count -1\n", true, false},
		{"a{x=\"1\",x=\"2\"} 1\n", true, false},
		{"a{__name__=\"b\"} 1\n", true, false},
		{"a 1 \n", true, false}, // a space after the value
		{"# TYPE a  gauge\na 1\n", false, true},
		// Both agree here.
		{"a\t1\n", true, true},
		{"a 1", true, true},
		{"a 1 1.5\n", false, false},
	} {
		t.Run(fmt.Sprintf("%q", tc.body), func(t *testing.T) {
			if got := promAccepts(tc.body); got != tc.prom {
				t.Errorf("Prometheus' parser accepts: %v, want %v", got, tc.prom)
			}
			tg := newTarget(t, []answer{{body: tc.body}})
			l := newLoop(t, loadConfig(t, tg, "", "", ""), &lastBody{})
			_, err := l.Scrape(context.Background(), time.Now())
			if (err == nil) != tc.streamOK {
				t.Errorf("stream loop's scrape error %v, want success %v", err, tc.streamOK)
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
