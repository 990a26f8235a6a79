package remotewrite

import (
	"net/http"
	"strings"

	"github.com/rwkit/rwkit/validate"
)

// A rule maps a text a receiver puts in its refusal body to a reason.
type rule struct {
	text   string // lowercase; matched as a substring of the lowercased body
	reason validate.Reason
}

// rules are tried in order; the first text found in the body wins. Sources,
// read for these exact strings:
//
//   - Mimir: pkg/util/globalerror/user.go, whose IDs every message ends
//     with as "(err-mimir-<id>)" (validate.MimirErrors). They are the most
//     specific, so they come first.
//   - rwkit's own workspace and anything else that names Cortex's reason
//     verbatim (validate's constants).
//   - Cortex: pkg/util/validation/errors.go (distributor validation),
//     pkg/ingester/ingester.go (errTSDBIngest "err: %v. timestamp=%s,
//     series=%s" wrapping the TSDB errors below) and pkg/ingester/limiter.go
//     (series limits), pkg/distributor (ingestion rate limit). AMP runs
//     Cortex and answers with the same texts, as its troubleshooting page
//     shows (e.g. "ingestion rate limit (6666.666666666667) exceeded while
//     adding 499 samples and 0 metadata").
//   - Prometheus: storage/interface.go and storage/errors.go (v3.x: "out of
//     order sample", "out of bounds", "too old sample", "duplicate sample for
//     timestamp[ %d; overrides not allowed: existing %g, new value %g]"),
//     which its remote-write receiver returns with 400, and Thanos Receive
//     with 409 Conflict after its own context ("writing locally: add 1
//     samples: out of bounds"). Both held against the real servers by
//     internal/backendtest.
//   - Cortex before TSDB blocks (chunks storage): "sample timestamp out of
//     order", "sample with repeated timestamp but different value".
var rules = append(mimirRules(), []rule{
	{string(validate.NewValueForTimestamp), validate.NewValueForTimestamp},
	{string(validate.SampleOutOfOrder), validate.SampleOutOfOrder},
	{string(validate.SampleOutOfBounds), validate.SampleOutOfBounds},
	{string(validate.SampleTooOld), validate.SampleTooOld},
	{string(validate.PerUserSeriesLimit), validate.PerUserSeriesLimit},
	{string(validate.PerMetricSeriesLimit), validate.PerMetricSeriesLimit},
	{string(validate.PerLabelsetSeriesLimit), validate.PerLabelsetSeriesLimit},
	{string(validate.MissingMetricName), validate.MissingMetricName},
	{string(validate.InvalidMetricName), validate.InvalidMetricName},
	{string(validate.InvalidLabel), validate.InvalidLabel},
	{string(validate.DuplicateLabelNames), validate.DuplicateLabelNames},
	{string(validate.LabelsNotSorted), validate.LabelsNotSorted},
	{string(validate.MaxLabelNamesPerSeries), validate.MaxLabelNamesPerSeries},
	{string(validate.LabelNameTooLong), validate.LabelNameTooLong},
	{string(validate.LabelValueTooLong), validate.LabelValueTooLong},
	{string(validate.TooFarInFuture), validate.TooFarInFuture},
	{string(validate.GreaterThanMaxSampleAge), validate.GreaterThanMaxSampleAge},
	{string(validate.RateLimited), validate.RateLimited},

	{"duplicate sample for timestamp", validate.NewValueForTimestamp},
	{"sample with repeated timestamp but different value", validate.NewValueForTimestamp},
	{"out of order sample", validate.SampleOutOfOrder},
	{"sample timestamp out of order", validate.SampleOutOfOrder},
	{"too old sample", validate.SampleTooOld},
	{"out of bounds", validate.SampleOutOfBounds},
	{"timestamp too old", validate.GreaterThanMaxSampleAge},
	{"timestamp too new", validate.TooFarInFuture},
	{"series has too many labels", validate.MaxLabelNamesPerSeries},
	{"label name too long", validate.LabelNameTooLong},
	{"label value too long", validate.LabelValueTooLong},
	{"sample invalid label", validate.InvalidLabel},
	{"duplicate label name", validate.DuplicateLabelNames},
	{"labels not sorted", validate.LabelsNotSorted},
	{"sample missing metric name", validate.MissingMetricName},
	{"sample invalid metric name", validate.InvalidMetricName},
	{"per-user series limit", validate.PerUserSeriesLimit},
	{"per-metric series limit", validate.PerMetricSeriesLimit},
	{"per-labelset series limit", validate.PerLabelsetSeriesLimit},
	{"ingestion rate limit", validate.RateLimited},
	{"ingestion burst size limit", validate.RateLimited},
}...)

// mimirRules are Mimir's error IDs, whose one home is validate.MimirErrors,
// as rules. sample-timestamp-too-old is left to Classify, which tells its two
// meanings apart by the text.
func mimirRules() []rule {
	var out []rule
	for _, e := range validate.MimirErrors() {
		if e.ID != "sample-timestamp-too-old" {
			out = append(out, rule{e.Text(), e.Reason})
		}
	}
	return out
}

// discardsHint is where to look when the receiver says nothing: AMP counts
// every discarded sample by reason in CloudWatch even when its 400 has an
// empty body (the seed incident).
const discardsHint = "the receiver gave no reason; AMP answers 400 with an empty body and counts the discards by reason: run `rwkit discards --workspace-id <id> --region <region>` or read CloudWatch AWS/Prometheus DiscardedSamples by Reason"

// Classify returns the discard reason a refusal body names and a one-line
// hint on how to fix it: the reason's validate.Reason.Hint, so that advice
// has one home. Only the text-to-reason rules above live here. It
// recognises the texts of Cortex (and AMP, which runs it), Mimir,
// Prometheus' remote-write receiver and rwkit's workspace; see the rules'
// sources. With no known text, the hint follows the status: an empty 400
// (AMP's answer) points at the discards by reason, 401/403 at credentials
// and SigV4, 404 at the URL path, 413 at the request size, 415 at the
// protocol version, 429 and 5xx at retrying.
func Classify(status int, body string) (validate.Reason, string) {
	if body != "" {
		lower := strings.ToLower(body)
		// Mimir uses one ID for TSDB's ErrOutOfBounds and, with an
		// out-of-order window, ErrTooOldSample; its message tells them apart.
		if strings.Contains(lower, "err-mimir-sample-timestamp-too-old") {
			if strings.Contains(lower, "out-of-order time window") {
				return validate.SampleTooOld, validate.SampleTooOld.Hint()
			}
			return validate.SampleOutOfBounds, validate.SampleOutOfBounds.Hint()
		}
		for _, r := range rules {
			if strings.Contains(lower, r.text) {
				return r.reason, r.reason.Hint()
			}
		}
	}
	return validate.Unknown, statusHint(status, body)
}

func statusHint(status int, body string) string {
	lower := strings.ToLower(body)
	switch {
	case status == http.StatusBadRequest && strings.TrimSpace(body) == "":
		return discardsHint
	case status == http.StatusBadRequest:
		return "the receiver refused the request as invalid; its body says why, and rwkit discards shows AMP's reasons"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		switch {
		case strings.Contains(lower, "signature expired"), strings.Contains(lower, "request time"):
			return "the request signature is too old or from the future; check this host's clock (NTP)"
		case strings.Contains(lower, "missing authentication token"):
			return "the request was not signed; AMP needs SigV4 (push.WithSigV4(region) or a sigv4.Transport via WithTransport)"
		case strings.Contains(lower, "signature we calculated does not match"), strings.Contains(lower, "credential should be scoped"):
			return "the SigV4 signature does not match: check the signing region (the one in the URL) and service name (aps)"
		}
		return "check credentials: AMP needs SigV4 with an identity allowed aps:RemoteWrite on the workspace; Cortex/Mimir may need X-Scope-OrgID or basic auth"
	case status == http.StatusNotFound:
		return "check the URL path: AMP wants /workspaces/<id>/api/v1/remote_write, Cortex and Mimir /api/v1/push, Prometheus /api/v1/write (with --web.enable-remote-write-receiver)"
	case status == http.StatusRequestEntityTooLarge:
		return "the request is larger than the receiver accepts; lower WithMaxRequestBytes"
	case status == http.StatusUnsupportedMediaType:
		return "the receiver does not accept this protocol version or encoding; use Remote-Write 1.0 (WithVersion(wire.V1))"
	case status == http.StatusTooManyRequests:
		return validate.RateLimited.Hint()
	case status >= 500:
		return "the receiver failed; it was retried with backoff: check the receiver's health and retry later"
	case status >= 400:
		return "the receiver refused the request; this status is not retried (remote-write spec)"
	}
	return ""
}
