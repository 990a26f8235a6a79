package remotewrite

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/validate"
)

// Bodies as each receiver writes them, built from the format strings in
// the files named in classify.go.
var classifyCases = []struct {
	name   string
	status int
	body   string
	want   validate.Reason
}{
	// Cortex (and AMP) ingester: errTSDBIngest wrapping Prometheus TSDB
	// errors, prefixed with the user by wrapWithUser.
	{"cortex duplicate", 400, `user=ws-1234: err: duplicate sample for timestamp. timestamp=2026-01-02T03:04:05.123Z, series={__name__="jvm_threads_live_threads"}`, validate.NewValueForTimestamp},
	{"cortex duplicate with values (prometheus 3 tsdb)", 400, `user=ws-1: err: duplicate sample for timestamp 1767323045123; overrides not allowed: existing 21, new value 14. timestamp=2026-01-02T03:04:05.123Z, series={__name__="jvm_threads_live_threads"}`, validate.NewValueForTimestamp},
	{"cortex out of order", 400, `user=ws-1: err: out of order sample. timestamp=2026-01-02T03:04:05Z, series={__name__="up", job="a"}`, validate.SampleOutOfOrder},
	{"cortex out of bounds", 400, `user=ws-1: err: out of bounds. timestamp=2020-01-02T03:04:05Z, series={__name__="up"}`, validate.SampleOutOfBounds},
	{"cortex too old (ooo window)", 400, `user=ws-1: err: too old sample. timestamp=2026-01-01T03:04:05Z, series={__name__="up"}`, validate.SampleTooOld},
	{"cortex chunks-era out of order", 400, `sample timestamp out of order; last timestamp: 1.5, incoming timestamp: 1.2 for series {__name__="up"}`, validate.SampleOutOfOrder},
	{"cortex chunks-era duplicate", 400, `sample with repeated timestamp but different value; last value: 1, incoming value: 2 for series {__name__="up"}`, validate.NewValueForTimestamp},
	// Cortex distributor: pkg/util/validation/errors.go.
	{"cortex label name too long", 400, `label name too long: "aaaaaaaa" metric "up{aaaaaaaa=\"1\"}"`, validate.LabelNameTooLong},
	{"cortex label value too long", 400, `label value too long for metric: "up{path=\"/x\"}" label value: "/xxxxxxxx"`, validate.LabelValueTooLong},
	{"cortex invalid label", 400, `sample invalid label: "0bad" metric "up{0bad=\"1\"}"`, validate.InvalidLabel},
	{"cortex duplicate label", 400, `duplicate label name: "job" metric "up{job=\"a\", job=\"b\"}"`, validate.DuplicateLabelNames},
	{"cortex labels not sorted", 400, `labels not sorted: "a" metric "up{b=\"1\", a=\"2\"}"`, validate.LabelsNotSorted},
	{"cortex too many labels (AMP quota text)", 400, `series has too many labels (actual: 71, limit: 70) series: 'up{a="1", ...}'`, validate.MaxLabelNamesPerSeries},
	{"cortex missing name", 400, `sample missing metric name`, validate.MissingMetricName},
	{"cortex invalid name", 400, `sample invalid metric name: "0up"`, validate.InvalidMetricName},
	{"cortex timestamp too old", 400, `timestamp too old: 1577934245000 metric: "up"`, validate.GreaterThanMaxSampleAge},
	{"cortex timestamp too new", 400, `timestamp too new: 1893456000000 metric: "up"`, validate.TooFarInFuture},
	// Cortex limiter and distributor limits, as AMP's docs quote them.
	{"amp per-user series", 400, `user=ws-1: per-user series limit of 2000000 exceeded, please contact administrator to raise it (local limit: 0 global limit: 2000000 actual local limit: 500000)`, validate.PerUserSeriesLimit},
	{"amp per-user series 429", 429, `user=accountid_workspace_id: per-user series limit (local limit: 0 global limit: 3000000 actual local limit: 500000) exceeded`, validate.PerUserSeriesLimit},
	{"amp per-metric series", 400, `user=ws-1: per-metric series limit of 2000000 exceeded, please contact administrator to raise it (local limit: 0 global limit: 2000000 actual local limit: 100000) for series {__name__="http_requests_total"}`, validate.PerMetricSeriesLimit},
	{"cortex per-labelset", 400, `user=ws-1: per-labelset series limit of 10 exceeded (labelSet: {team="a"}, local limit: 10 global limit: 10 actual)`, validate.PerLabelsetSeriesLimit},
	{"amp ingestion rate", 429, `ingestion rate limit (6666.666666666667) exceeded while adding 499 samples and 0 metadata`, validate.RateLimited},
	{"amp burst", 429, `ingestion burst size limit (...) exceeded`, validate.RateLimited},
	// Prometheus remote-write receiver (storage/interface.go, storage/errors.go).
	{"prometheus out of order", 400, "out of order sample\n", validate.SampleOutOfOrder},
	{"prometheus out of bounds", 400, "out of bounds\n", validate.SampleOutOfBounds},
	{"prometheus too old", 400, "too old sample\n", validate.SampleTooOld},
	{"prometheus duplicate", 400, "duplicate sample for timestamp 1767323045123; overrides not allowed: existing 1, new value 2\n", validate.NewValueForTimestamp},
	{"prometheus rw2 partial", 400, `out of order sample for series {__name__="up", job="a"}`, validate.SampleOutOfOrder},
	// Mimir (pkg/util/globalerror IDs).
	{"mimir duplicate", 400, `failed pushing to ingester: user=anonymous: the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested (err-mimir-sample-duplicate-timestamp). The affected sample has timestamp 2026-01-02T03:04:05Z and is from series {__name__="up"}`, validate.NewValueForTimestamp},
	{"mimir out of order", 400, `the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order). The affected sample has timestamp ...`, validate.SampleOutOfOrder},
	{"mimir too old", 400, `the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). The affected sample has timestamp ...`, validate.SampleOutOfBounds},
	{"mimir too old ooo", 400, `the sample has been rejected because another sample with a more recent timestamp has already been ingested and this sample is beyond the out-of-order time window of 10m (err-mimir-sample-timestamp-too-old). The affected sample ...`, validate.SampleTooOld},
	{"mimir future", 400, `received a sample whose timestamp is too far in the future, timestamp: 1893456000000 series: 'up' (err-mimir-too-far-in-future)`, validate.TooFarInFuture},
	{"mimir past", 400, `received a sample whose timestamp is too far in the past, timestamp: 1 series: 'up' (err-mimir-too-far-in-past)`, validate.GreaterThanMaxSampleAge},
	{"mimir max labels", 400, `received a series whose number of labels exceeds the limit (actual: 31, limit: 30) series: 'up{...}' (err-mimir-max-label-names-per-series). To adjust the related per-tenant limit, configure -validation.max-label-names-per-series, or contact your service administrator.`, validate.MaxLabelNamesPerSeries},
	{"mimir label value too long", 400, `received a series whose label value length exceeds the limit, label: 'path', value: '/x' (truncated) series: 'up' (err-mimir-label-value-too-long). To adjust the related per-tenant limit, configure -validation.max-length-label-value, or contact your service administrator.`, validate.LabelValueTooLong},
	{"mimir series per user", 400, `per-user series limit of 150000 exceeded (err-mimir-max-series-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator.`, validate.PerUserSeriesLimit},
	{"mimir series per metric", 400, `per-metric series limit of 20000 exceeded (err-mimir-max-series-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-metric, or contact your service administrator. This is for series {__name__="up"}`, validate.PerMetricSeriesLimit},
	{"mimir rate limited", 429, `the request has been rejected because the tenant exceeded the ingestion rate limit, set to 10000 items/s with a maximum allowed burst of 200000. This limit is applied on the total number of samples, exemplars and metadata received across all distributors (err-mimir-tenant-max-ingestion-rate). To adjust the related per-tenant limits, configure -distributor.ingestion-rate-limit and -distributor.ingestion-burst-size, or contact your service administrator.`, validate.RateLimited},
	// Real answers, as internal/backendtest receives them from each server.
	{"real prometheus 3.16 duplicate", 400, "duplicate sample for timestamp 1796603299088; overrides not allowed: existing 1, new value 2\n", validate.NewValueForTimestamp},
	{"real prometheus 3.16 out of order", 400, "out of order sample\n", validate.SampleOutOfOrder},
	{"real prometheus 3.16 out of bounds", 400, "out of bounds\n", validate.SampleOutOfBounds},
	{"real mimir duplicate", 400, `send data to ingesters: failed pushing to ingester vm: user=rwkit-backendtest: duplicate sample for timestamp 1796604352969; overrides not allowed: existing 1, new value 2 (err-mimir-sample-duplicate-timestamp). The affected sample has timestamp 2026-12-07T00:45:52.969Z and is from series rwkit_bt_dup{job="backendtest"} (sampled 1/10)`, validate.NewValueForTimestamp},
	{"real mimir out of order", 400, `send data to ingesters: failed pushing to ingester vm: user=rwkit-backendtest: the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order). The affected sample has timestamp 2026-12-07T00:35:52.969Z and is from series rwkit_bt_ooo{job="backendtest"} (sampled 1/10)`, validate.SampleOutOfOrder},
	{"real mimir invalid label", 400, `received a series with an invalid label: 'bad-name' series: 'rwkit_bt_badname{bad-name="x", job="backendtest"}' (err-mimir-label-invalid)`, validate.InvalidLabel},
	{"real mimir label value too long", 400, `received a series whose label value length of 5000 exceeds the limit of 2048, label: 'long', value: 'vvvv' (truncated) series: 'rwkit_bt_longvalue{job="backendtest", long="vvvv"}' (err-mimir-label-value-too-long)`, validate.LabelValueTooLong},
	{"real mimir too old", 400, `send data to ingesters: failed pushing to ingester vm: user=rwkit-backendtest: the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). The affected sample has timestamp 2026-10-28T00:45:52.969Z and is from series rwkit_bt_old{job="backendtest"} (sampled 1/10)`, validate.SampleOutOfBounds},
	{"real thanos duplicate", 409, "forwarding request to endpoint addr: , capnp_addr: , az: : writing locally: add 1 samples: duplicate sample for timestamp\n", validate.NewValueForTimestamp},
	{"real thanos out of order", 409, "forwarding request to endpoint addr: , capnp_addr: , az: : writing locally: add 1 samples: out of order sample\n", validate.SampleOutOfOrder},
	{"real thanos out of bounds", 409, "forwarding request to endpoint addr: , capnp_addr: , az: : writing locally: add 1 samples: out of bounds\n", validate.SampleOutOfBounds},
	// rwkit's workspace names the reason verbatim.
	{"workspace", 400, `1 of 3 samples discarded: new-value-for-timestamp: jvm_threads_live_threads{} at 1767323045123 has 21 from writer auth, got 14`, validate.NewValueForTimestamp},
	// Nothing recognisable.
	{"amp empty 400", 400, "", validate.Unknown},
	{"amp 403", 403, `{"message":"Missing Authentication Token"}`, validate.Unknown},
	{"404", 404, "404 page not found", validate.Unknown},
	{"unknown 400", 400, "something else went wrong", validate.Unknown},
	{"bare 429", 429, "", validate.Unknown},
	{"500", 500, "rpc error: code = Unavailable", validate.Unknown},
}

func TestClassify(t *testing.T) {
	for _, tt := range classifyCases {
		t.Run(tt.name, func(t *testing.T) {
			got, hint := Classify(tt.status, tt.body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Classify(%d, %q) reason (-want +got):\n%s", tt.status, tt.body, diff)
			}
			if hint == "" || strings.Contains(hint, "\n") {
				t.Errorf("hint %q: want one non-empty line", hint)
			}
		})
	}
}

func TestClassifyHints(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{400, `err: duplicate sample for timestamp.`, "add a per-writer label such as instance (e.g. rwkit push --label instance=$HOSTNAME)"},
		{400, "", "rwkit discards"},
		{400, "  \n", "DiscardedSamples by Reason"},
		{403, `{"message":"Missing Authentication Token"}`, "SigV4"},
		{403, `{"message":"Signature expired: 20260101T000000Z is now earlier than ..."}`, "clock"},
		{403, `{"message":"The request signature we calculated does not match the signature you provided."}`, "region"},
		{401, ``, "credentials"},
		{404, ``, "/workspaces/<id>/api/v1/remote_write"},
		{413, ``, "WithMaxRequestBytes"},
		{415, ``, "WithVersion(wire.V1)"},
		{429, ``, "ingestion rate"},
		{503, ``, "retried"},
		{400, `series has too many labels (actual: 71, limit: 70)`, "max_label_names_per_series"},
		{400, `label value too long for metric`, "max_label_value_length"},
	}
	for _, tt := range tests {
		_, hint := Classify(tt.status, tt.body)
		if !strings.Contains(hint, tt.want) {
			t.Errorf("Classify(%d, %q) hint = %q, want it to contain %q", tt.status, tt.body, hint, tt.want)
		}
	}
}

func TestEveryReasonHasAHint(t *testing.T) {
	for _, r := range rules {
		if r.reason.Hint() == "" {
			t.Errorf("reason %q (from %q) has no hint", r.reason, r.text)
		}
		if r.text != strings.ToLower(r.text) {
			t.Errorf("rule text %q is not lowercase", r.text)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, tt := range classifyCases {
		f.Add(tt.status, tt.body)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		reason, hint := Classify(status, body)
		if reason != validate.Unknown && reason.Hint() == "" {
			t.Errorf("reason %q without a hint", reason)
		}
		if strings.Contains(hint, "\n") {
			t.Errorf("hint has a newline: %q", hint)
		}
	})
}
