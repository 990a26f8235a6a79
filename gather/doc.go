// Package gather turns a snapshot of metrics into remote-write series: the
// families of a prometheus.Gatherer, or a parsed exposition, become
// wire.TimeSeries with identity labels and one batch timestamp.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(collectors.NewGoCollector()) // client_golang/prometheus/collectors
//	req, report, err := gather.FromGatherer(reg, gather.Options{
//		Timestamp:   time.Now().UnixMilli(),
//		ExtraLabels: []wire.Label{{Name: "service", Value: "auth"}, {Name: "instance", Value: "10.0.0.7:8080"}},
//	})
//	// req.Series is ready for the wire encoder; report.Notes says what
//	// could not be sent as exposed.
//
// What it produces, per family type:
//   - counter, gauge, untyped: one series named as the family (client_golang
//     counters already end in _total);
//   - summary: name{quantile="q"} per quantile, name_sum, name_count;
//   - classic histogram (and classic gauge histogram): name_bucket{le="b"}
//     per bucket plus le="+Inf" when the exposition leaves it implicit (its
//     value is the count), name_sum, name_count;
//   - native histogram: one wire.Histogram on series name when
//     Options.NativeHistograms is set (ResetHintGauge for gauge histograms);
//     otherwise its classic buckets, or, when it has none, _sum, _count and
//     a lone +Inf bucket (what Prometheus stores with native histograms off)
//     together with a Note in the Report.
//
// Decisions a user can rely on:
//   - le and quantile values are formatted as Prometheus 3 stores them
//     (labels.FormatOpenMetricsFloat): "0.005", "1.0", "1e+06", "+Inf". The
//     text exposition writes "1" but Prometheus 3 normalizes every scrape
//     format to "1.0", so a pushed series and a scraped one are the same
//     series.
//   - One batch timestamp (Options.Timestamp) for every sample and native
//     histogram. The exposition's own timestamps are ignored unless
//     Options.HonorTimestamps is set: a push is a snapshot. Exemplars keep
//     their own timestamp and take the batch timestamp when they have none.
//   - Options.ExtraLabels colliding with a metric's label is an error
//     (*LabelConflictError listing every family and label) unless
//     Options.ConflictPolicy is ConflictRename, which keeps the metric's
//     value as exported_<name> like Prometheus's honor_labels: false.
//   - Labels are sorted by name with __name__ included; labels with empty
//     values are dropped (Prometheus treats them as absent); duplicate label
//     names, invalid names (legacy charset unless Options.UTF8Names),
//     invalid UTF-8 values and two metrics producing the same series
//     (ErrDuplicateSeries) are errors that name the family and the series.
//   - Output order is input order: families as given (Gatherers and
//     ParseText sort them by name), metrics in family order.
//
// A Converter keeps caches and reuses a WriteRequest's storage between
// pushes; Convert and FromGatherer are one-shot conveniences. StreamText
// converts a text exposition as scrape.TextParser reads it, in batches,
// without the MetricFamily tree: the same series, for expositions too
// large to hold.
package gather
