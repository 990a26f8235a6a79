package validate

import "net/http"

// Discard is one refusal: why, what the backend answers, and how much it
// removed. The rules return at most one Discard per series because Cortex
// stops at the first problem of a series and drops the whole series.
type Discard struct {
	Reason Reason
	// Status is the HTTP status the backend answers for it: 400 or 429.
	// 0 means the backend drops the data without telling the client
	// (Cortex's user_label_removal_configuration, Prometheus' invalid
	// labels).
	Status int
	// Message is the backend's error text, byte for byte.
	Message string
	// WholeRequest means nothing of the request is ingested: Cortex's
	// "empty labels found", Prometheus' rollback on the first refused
	// sample.
	WholeRequest bool

	// Index is the position of the series (or metadata entry) in the
	// request; -1 when the refusal is about the request as a whole.
	Index int

	// Samples, Histograms, Exemplars and Metadata are what the refusal
	// removed from the request.
	Samples, Histograms, Exemplars, Metadata int
	// Counted is what the backend adds to its discarded-samples counter
	// (cortex_discarded_samples_total{reason}, AMP's DiscardedSamples):
	// Cortex counts 1 for a series refused for its labels or one bad
	// timestamp even when the series held more samples.
	Counted int
	// CountedExemplars is what Cortex adds to
	// cortex_discarded_exemplars_total{reason}.
	CountedExemplars int
	// CountedMetadata is what Cortex adds to
	// cortex_discarded_metadata_total{reason}.
	CountedMetadata int
}

// Error returns the backend's text, so a Discard can travel as an error.
func (d *Discard) Error() string { return d.Message }

// Status returns the HTTP status Cortex answers for a reason. Reasons that
// Cortex never reports to the client (it drops and counts) answer 0.
func Status(r Reason) int {
	switch r {
	case RateLimited, NativeHistogramRateLimited:
		return http.StatusTooManyRequests
	case DroppedByUserConfigurationOverride, DroppedByRelabelConfiguration, NativeHistogramSample, Unknown:
		return 0
	}
	return http.StatusBadRequest
}
