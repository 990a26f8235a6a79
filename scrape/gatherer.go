package scrape

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gatherer is a prometheus.Gatherer that scrapes a /metrics URL on every
// Gather: it lets the push library push any process's metrics (the agent),
// through the same path a Go service's own registry takes.
type Gatherer struct {
	url     string
	client  *http.Client
	timeout time.Duration
}

var _ prometheus.Gatherer = (*Gatherer)(nil)

// NewGatherer returns a Gatherer scraping url with client (nil: a client
// with a 10 s timeout). Each Gather is bounded by timeout (0: 10 s).
func NewGatherer(url string, client *http.Client, timeout time.Duration) *Gatherer {
	if client == nil {
		client = &http.Client{}
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Gatherer{url: url, client: client, timeout: timeout}
}

// URL is the scraped URL.
func (g *Gatherer) URL() string { return g.url }

// Gather scrapes the URL once and returns its families sorted by name.
func (g *Gatherer) Gather() ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	return Fetch(ctx, g.client, g.url)
}
