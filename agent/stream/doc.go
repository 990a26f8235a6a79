// Package stream is a streaming scrape-to-wire loop for the Prometheus
// text format: each scrape's body is parsed as it arrives, every sample
// is appended to its series in a compact pending list, and once the
// scrape is over the samples are encoded into RW 1.0 requests a few
// thousand series at a time. rwkit agent runs
// it for every job it covers, and Prometheus' scrape loop for the others
// (package agent says which).
//
//	cfg, _ := agent.LoadFile("prometheus.yml")
//	sc := cfg.ScrapeConfigs[0]
//	targets, err := stream.Targets(sc) // static_configs, after relabel_configs
//	if err != nil {
//		return err
//	}
//	l, err := stream.New(sc, targets[0], out, // out.Write(body, samples) takes each scrape's requests
//		stream.WithExternalLabels(cfg.GlobalConfig.ExternalLabels),
//		stream.WithWriteRelabel(cfg.RemoteWriteConfigs[0].WriteRelabelConfigs))
//	if err != nil {
//		return err
//	}
//	go l.Run(ctx) // or l.Scrape(ctx, now) for one scrape and its Report
//
// # What a scrape does
//
// It GETs the target with Prometheus' HTTP client configuration (auth,
// TLS, proxy; github.com/prometheus/common/config), asking only for the
// text formats of scrape_protocols, with gzip when enable_compression is
// on, under scrape_timeout and body_size_limit. scrape.TextParser reads
// the body from reused buffers. Each sample line is looked up in the
// target's cache by its text (name and labels as written, as Prometheus'
// scrape cache keys it): a hit reuses the series' encoded label block; a
// miss builds the labels once, as Prometheus' scrape loop and rwkit's
// agent storage do together (the target's labels with honor_labels or
// exported_<name>, metric_relabel_configs, the checks of label_limit,
// label_name_length_limit, label_value_length_limit and the metric name
// validation scheme, then external labels where missing and
// write_relabel_configs) and encodes them. The key of a line text is its
// name and labels as RW 1.0 label fields, in the order written; when the
// series' label block is those fields with only the target's labels and
// the external labels put between them (a line whose labels are sorted,
// no relabelling that changes them, no bound), the cache keeps where those
// go rather than the block, and makes the block again when it writes the
// series. The texts are packed into large chunks in the order the target
// exposes its series, so that a scrape reads them in sequence; when
// series churn, the chunks are compacted once the forgotten texts outweigh
// the rest. The sample is then appended to the scrape's pending list (24
// bytes: its series, timestamp and value).
// When the scrape is over (its stale markers and report series appended
// last), the list is encoded, label block and sample by
// wire.AppendTimeSeriesLabels, into requests of WithWriteSeries series,
// each handed to the Output before the next is encoded: the loop holds
// one such request, not one of the whole scrape, and a scrape that fails
// hands over none of its body's samples.
//
// The rules are Prometheus' (checked by a differential test against the
// agent running Prometheus' scrape loop, over counters, gauges,
// histograms, summaries, untyped series, timestamps, odd bodies, vanishing
// series, failing targets and the limits): the report series up,
// scrape_duration_seconds, scrape_samples_scraped,
// scrape_samples_post_metric_relabeling and scrape_series_added; a stale
// marker at the scrape's time for each series of the last scrape that is
// absent (every series when the scrape failed; a body that fails to parse
// spares the series read before the failing line, as Prometheus does);
// sample_limit and the 10 minutes' bound on timestamps ahead;
// honor_timestamps and track_timestamps_staleness; the head's in-order
// rules, as the agent's storage applies them: a second sample of a series
// at one timestamp is refused and counted (the first is kept), as is an
// older one, and the same sample again is not written again. A line text
// not read for 10 minutes of scrape time is forgotten, so a target whose
// series churn does not grow the cache.
//
// # Not covered: what stays on Prometheus' scrape loop
//
// OpenMetrics and protobuf scraping (the loop asks for the text formats
// only; such a body, if served anyway, goes to Prometheus' parser without
// native histograms, exemplars, created timestamps or NHCB conversion),
// metadata (RW 2.0 output), target_limit, service discovery other than
// static_configs (so a target that disappears, and its end-of-run stale
// markers), one remote_write per loop (a series has one label block), and
// self-metrics (counts are in each Report). StaleAll writes the stale
// markers of a shutdown. Run waits Offset before its first scrape, as
// Prometheus' loop waits its scrape offset, so that an agent's targets
// are scraped spread over the interval.
//
// # Bodies the stream parser does not take
//
// The stream parser is expfmt's, stricter than Prometheus' in places (a
// second TYPE or HELP line, TYPE after samples, an unparsable le or
// quantile, duplicate label names, a space after the value). A body it
// fails, or whose Content-Type is not the text format, is parsed again,
// whole, by Prometheus' own parser (model/textparse, with the job's
// fallback_scrape_protocol) through the same cache, as Prometheus' scrape
// loop would parse it: the scrape's result is Prometheus'. The body is
// fetched a second time for that, in the same scrape, rather than a copy
// of every body kept in case (the target is asked twice, that once, and
// may answer a later body), and the target's later bodies go straight to
// Prometheus' parser (slower: every body whole in memory, its labels
// built for each line). The other way,
// the stream parser still takes a few bodies Prometheus refuses (a TYPE
// with two spaces, in upper case or gaugehistogram, a TYPE without type,
// a negative timestamp): TestWhereTheParsersDisagree lists them. The le
// and quantile of a gauge histogram are written in OpenMetrics' float
// form where Prometheus keeps them as exposed; scrape_timeout bounds the
// parse too.
//
// # Cost
//
// BenchmarkScrape100k puts the loop beside Prometheus' scrape loop and
// the agent's storage on bench/cmd/agents' 100k-series exposition, in one
// run, and prints CPU, allocations and heap held per series and their
// ratios.
package stream
