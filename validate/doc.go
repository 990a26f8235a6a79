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
// sample-out-of-bounds, sample-too-old) and the series limits are the
// ingester's, which rwkit's workspace plays; their texts are made here
// (ingester.go), and the ingester's first error replaces the distributor's
// in the answer.
//
// Not modelled: native_histogram_sample_size_bytes_exceeded (off by
// default), HA deduplication, relabelling, drop_labels, and the native
// histogram rate limiter (unlimited by default).
//
// # Prometheus
//
// Limits with BackendPrometheus follow Prometheus v0.316's RW 1.0 receiver:
// bad label sets are skipped without an error, and the first refused sample
// fails the whole request with 400 and the TSDB's own text
// (prometheusSeries in validate.go, then workspace/ingest.go
// Workspace.rolledBack). RW 2.0 is another rule in Prometheus 3: every bad
// series (no __name__, an empty label set, invalid UTF-8, a duplicate
// name, exemplars or metadata only) and every refused sample adds a line
// to one 400, and the rest is written (ValidateRequestV2 and
// PrometheusV2Message in prometheus.go).
//
// # Mimir
//
// Limits with BackendMimir (profile "mimir") follow Grafana Mimir's
// distributor and ingester (mimir.go): Cortex's shape with Mimir's order
// of checks, its defaults, and its texts ending in the error ID
// ("(err-mimir-sample-duplicate-timestamp)"), which MimirErrors lists with
// their reasons for remotewrite.Classify. Unlike Cortex, a series without
// labels is dropped silently, a second sample at one timestamp in one
// series is dropped and counted as sample_duplicate_timestamp without an
// error, invalid exemplars are dropped silently and a HELP over the
// metadata limit is cut.
//
// # Where each reason is decided
//
// Every reason is a constant in reason.go and its advice is Reason.Hint
// (hint.go). A backend's refusal text is turned back into a reason by
// remotewrite.Classify (remotewrite/classify.go, the rules list). Where
// each is decided and where its text is made:
//
//	reason                                decided in                                  text made in
//	missing_metric_name,                  rules.go missingMetricName,                 the rule (rules.go)
//	metric_name_invalid                   invalidMetricName (nameRules), run by
//	                                      validate.go cortexSeries
//	max_label_names_per_series,           rules.go tooManyLabels, invalidLabelName,   the rule (rules.go)
//	label_invalid, label_name_too_long,   labelNameTooLong, labelValueTooLong,
//	label_value_too_long,                 duplicateLabelName, labelsNotSorted,
//	duplicate_label_names,                labelsTooBig, run by validate.go
//	labels_not_sorted,                    checkLabels
//	labels_size_bytes_exceeded
//	greater_than_max_sample_age,          rules.go tooOld, tooFarInFuture             the rule (rules.go)
//	too_far_in_future                     (timestampRules)
//	exemplar_labels_missing,              rules.go exemplarLabelsMissing,             the rule (rules.go)
//	exemplar_timestamp_invalid,           exemplarTimestampMissing,
//	exemplar_labels_too_long              exemplarLabelsTooLong
//	native_histogram_invalid_schema,      rules.go histogramSchema, histogram.go      the rule
//	native_histogram_invalid,             histogramInvalid (ValidateHistogram),
//	native_histogram_buckets_exceeded     rules.go histogramBuckets
//	user_label_removal_configuration      validate.go cortexSeries                    none (silent)
//	metric_name_too_long, help_too_long,  validate.go ValidateMetadata                validate.go metadataTooLong
//	unit_too_long
//	rate_limited                          ratelimit.go RateLimiter.Allow, asked by    ratelimit.go RateLimitedMessage
//	                                      workspace/ingest.go batch.distribute        (validate.go Result.RateLimited)
//	new-value-for-timestamp,              workspace/store/errors.go reasonOf (the     ingester.go IngesterMessage
//	sample-out-of-order                   TSDB's refusal); workspace/store/pending.go
//	                                      pendingSample.conflict (a sample against
//	                                      a batch still being committed; within
//	                                      one request Cortex drops it silently:
//	                                      workspace/rules.go dropWithinRequest)
//	sample-out-of-bounds, sample-too-old  workspace/store/errors.go reasonOf;         ingester.go IngesterMessage;
//	                                      prometheus profile, a sample too far        validate.go outOfBoundsAhead
//	                                      ahead: validate.go outOfBoundsAhead
//	per_user_series_limit,                workspace/ingest.go tenant.admit            ingester.go PerUserSeriesLimitMessage,
//	per_metric_series_limit                                                           PerMetricSeriesLimitMessage
//	native-histogram-sample               workspace/ingest.go batch.appendHistograms  none (silent)
//	                                      (Limits.EnableNativeHistograms off)
//	too_many_ha_clusters                  workspace/hatracker.go batch.deduplicate    hatracker.go (Cortex's
//	                                      (Limits.HAMaxClusters)                      TooManyReplicaGroupsError)
//	sample_duplicate_timestamp (Mimir)    mimir.go mimirSeries                        none (200, counted)
//
// The other constants (per_labelset_series_limit,
// native_histogram_rate_limited, ...) are names rwkit recognises in a
// backend's answer or AMP's CloudWatch metric but does not decide itself.
package validate
