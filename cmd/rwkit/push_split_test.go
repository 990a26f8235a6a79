package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rwkit/rwkit/internal/cortextest"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/scrape"
)

// rwkit push and the library (push.Once) send the same input the same
// way: 2,001 series split into several requests, one in the middle
// holding a series whose 3,000-byte label value a real Cortex refuses
// (label_value_too_long). Both send every request, report the one
// refusal at the same place, and Cortex stores the same 2,000 series for
// each (its partial ingestion keeps the refused request's valid series).
func TestPushAndLibraryAgreeOnASplitWrite(t *testing.T) {
	cortex := cortextest.Start(t)
	var b strings.Builder
	b.WriteString("# TYPE aaa_metric gauge\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "aaa_metric{i=\"%04d\"} %d\n", i, i)
	}
	fmt.Fprintf(&b, "# TYPE bbb_big gauge\nbbb_big{big=%q} 1\n", strings.Repeat("x", 3000))
	b.WriteString("# TYPE ccc_metric gauge\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "ccc_metric{i=\"%04d\"} %d\n", i, i)
	}
	file := filepath.Join(t.TempDir(), "m.txt")
	os.WriteFile(file, []byte(b.String()), 0o644)
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	const maxBytes = 16 << 10

	stdout, stderr, code := runCLI(t, nil, nil, "push", "--url", cortex.PushURL, "--tenant", "cli", "--file", file,
		"--timestamp", fmt.Sprint(ts.UnixMilli()), "--max-request-bytes", fmt.Sprint(maxBytes), "--output", "json")
	if code != exitFailed {
		t.Fatalf("rwkit push: exit %d, want 1 (a request was refused)\n%s\n%s", code, stdout, stderr)
	}
	var rep struct {
		Requests        int `json:"requests"`
		AcceptedSamples int `json:"accepted_samples"`
		Refusals        []struct {
			Request  int    `json:"request"`
			Requests int    `json:"requests"`
			Series   int    `json:"series"`
			Reason   string `json:"reason"`
		} `json:"refusals"`
	}
	if err := unmarshalResult([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}

	f, _ := os.Open(file)
	fams, err := scrape.Parse(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Once(context.Background(), cortex.PushURL, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return fams, nil }),
		push.WithoutIdentity(), push.WithTenant("lib"), push.WithBatchTimestamp(ts),
		push.WithClientOptions(remotewrite.WithMaxRequestBytes(maxBytes)))
	if err != nil {
		t.Fatal(err)
	}

	if len(rep.Refusals) != 1 || len(res.Refused) != 1 {
		t.Fatalf("refusals: cli %d, library %d; want 1 each\n%s", len(rep.Refusals), len(res.Refused), stdout)
	}
	cli, lib := rep.Refusals[0], res.Refused[0]
	if cli.Request != lib.Request || cli.Requests != lib.Requests || cli.Series != lib.Series || cli.Reason != string(lib.Reason) ||
		rep.Requests != res.Requests || rep.AcceptedSamples != res.Stored.Samples {
		t.Errorf("cli refused request %d of %d (%d series, %s), %d requests, %d samples accepted;\nlibrary %d of %d (%d series, %s), %d requests, %d samples",
			cli.Request, cli.Requests, cli.Series, cli.Reason, rep.Requests, rep.AcceptedSamples,
			lib.Request, lib.Requests, lib.Series, lib.Reason, res.Requests, res.Stored.Samples)
	}
	if cli.Request <= 1 || cli.Request >= cli.Requests || cli.Reason != "label_value_too_long" {
		t.Errorf("refused request %d of %d, reason %q: want one in the middle, label_value_too_long", cli.Request, cli.Requests, cli.Reason)
	}
	for _, tenant := range []string{"cli", "lib"} {
		body, err := cortex.Query(context.Background(), tenant, `count({__name__=~"aaa_metric|ccc_metric|bbb_big"})`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"2000"`) {
			t.Errorf("tenant %s stores %s, want 2000 series", tenant, body)
		}
	}
}
