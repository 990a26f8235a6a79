// Package validate holds the rules remote-write backends apply to incoming
// series and samples, the names of the reasons they give when they discard
// data, and the limit profiles of the backends rwkit imitates.
//
//	l, _ := validate.Profile("amp")
//	res := validate.ValidateRequest(&l, req, time.Now())
//	// store res.Series ...; then answer like Cortex:
//	if d := res.FirstError(); d != nil {
//		http.Error(w, d.Message, d.Status) // 400, after the valid series were stored
//	}
//
// # What follows Cortex v1.21.1
//
// The distributor's order (pkg/distributor/distributor.go
// prepareSeriesKeys and validateSeries; pkg/util/validation/validate.go):
//
//  1. a series without labels refuses the whole request: "empty labels found";
//  2. metric name (EnforceMetricName): missing_metric_name, metric_name_invalid,
//     counting every sample, histogram and exemplar of the series;
//  3. labels with empty values are removed (none left:
//     user_label_removal_configuration, silent) and labels are sorted;
//  4. ValidateLabels: max_label_names_per_series, then for each label
//     label_invalid, label_name_too_long, label_value_too_long,
//     duplicate_label_names, labels_not_sorted, then labels_size_bytes_exceeded;
//  5. each float sample: greater_than_max_sample_age, too_far_in_future;
//  6. each exemplar: exemplar_labels_missing, exemplar_timestamp_invalid,
//     exemplar_labels_too_long;
//  7. each histogram: the timestamp checks, native_histogram_invalid_schema,
//     native_histogram_invalid (Prometheus' histogram.Validate, see
//     ValidateHistogram), then max_native_histogram_buckets: a histogram
//     with more buckets is stored at the highest lower resolution where it
//     fits (LimitHistogramBuckets), or refused as
//     native_histogram_buckets_exceeded when schema -4 is not enough.
//
// Any of 4-7 drops the whole series and counts 1 (Cortex's Inc()), however
// many samples the series held. The first refusal of the request is the
// 400 answer, sent after the valid series were stored; metadata are checked
// after all series (ValidateMetadata). Then the tenant's rate limiter is
// asked for RateCost tokens, only when something passed; a refusal drops
// everything that passed and answers 429 (Result.RateLimited). What the
// TSDB then refuses (new-value-for-timestamp, sample-out-of-order,
// sample-out-of-bounds, sample-too-old, series limits) is the store's to
// find; IngesterMessage, PerUserSeriesLimitMessage and
// PerMetricSeriesLimitMessage give Cortex's texts, and the ingester's first
// error replaces the distributor's in the answer.
//
// Not modelled: native_histogram_sample_size_bytes_exceeded (off by
// default), HA deduplication, relabelling, drop_labels, and the native
// histogram rate limiter (unlimited by default).
//
// # Prometheus
//
// Limits with BackendPrometheus follow Prometheus v0.316's RW 1.0 receiver:
// bad label sets are skipped without an error, and the first refused sample
// fails the whole request with 400 (see PrometheusMessage).
package validate
