package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rwkit/rwkit/agent"
	"github.com/rwkit/rwkit/agent/stream"
	"github.com/rwkit/rwkit/wire"
)

// printer is an Output that prints each series written.
type printer struct{}

func (printer) Write(body []byte, _ int) error {
	var req wire.WriteRequest
	if err := wire.DecodeWriteRequest(body, &req); err != nil {
		return err
	}
	for _, ts := range req.Series {
		if ts.Labels[0].Value == "requests_total" {
			fmt.Println(ts.Labels, ts.Samples[0].Value)
		}
	}
	return nil
}

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE requests_total counter\nrequests_total{code=\"200\"} 7\n")
	}))
	defer srv.Close()
	cfg, err := agent.Load([]byte(`
global:
  external_labels: {region: eu}
scrape_configs:
  - job_name: app
    static_configs: [{targets: [`+strings.TrimPrefix(srv.URL, "http://")+`], labels: {instance: app-1}}]
remote_write:
  - url: http://127.0.0.1:9009/api/v1/push
`), "prometheus.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := cfg.ScrapeConfigs[0]
	targets, err := stream.Targets(sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := stream.New(sc, targets[0], printer{}, stream.WithExternalLabels(cfg.GlobalConfig.ExternalLabels))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := l.Scrape(context.Background(), time.Now())
	fmt.Println(r.Scraped, r.SeriesAdded, r.Written, err)
	// Output:
	// [{__name__ requests_total} {code 200} {instance app-1} {job app} {region eu}] 7
	// 1 1 6 <nil>
}
