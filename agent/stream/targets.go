package stream

import (
	"errors"
	"fmt"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/model/labels"
	promscrape "github.com/prometheus/prometheus/scrape"
)

// Targets are the targets of cfg's static_configs, with their labels
// after relabel_configs, as Prometheus' scrape manager makes them: what
// New takes. A target relabel_configs drop is left out.
func Targets(cfg *config.ScrapeConfig) ([]*promscrape.Target, error) {
	var all []*promscrape.Target
	var errs []error
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, d := range cfg.ServiceDiscoveryConfigs {
		sd, ok := d.(discovery.StaticConfig)
		if !ok {
			return nil, fmt.Errorf("stream: job %q: %s discovery: the stream loop takes static_configs only", cfg.JobName, d.Name())
		}
		for _, g := range sd {
			ts, fails := promscrape.TargetsFromGroup(g, cfg, nil, lb)
			errs = append(errs, fails...)
			for _, t := range ts {
				if !t.Labels(lb).IsEmpty() {
					all = append(all, t)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stream: job %q: %w", cfg.JobName, err)
	}
	return all, nil
}
