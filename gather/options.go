package gather

import (
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// ConflictPolicy says what Convert does when an extra label (an identity
// label such as service or instance, or a user label) has the same name as a
// label the metric already carries.
type ConflictPolicy int

const (
	// ConflictError refuses the conversion with a *LabelConflictError that
	// lists every family and label that collides. It is the default: a
	// silently resolved collision is how several writers end up on one series.
	ConflictError ConflictPolicy = iota
	// ConflictRename keeps the extra label and renames the metric's own label
	// to "exported_<name>" (repeating the prefix until the name is free), as
	// Prometheus does for target labels with honor_labels: false.
	ConflictRename
)

func (p ConflictPolicy) String() string {
	switch p {
	case ConflictError:
		return "error"
	case ConflictRename:
		return "rename"
	}
	return fmt.Sprintf("ConflictPolicy(%d)", int(p))
}

// Options control a conversion. The zero value is not usable: Timestamp is
// required.
type Options struct {
	// Timestamp is the batch timestamp in milliseconds since the epoch. Every
	// sample and native histogram of the conversion carries it (see
	// HonorTimestamps). Required: 0 is refused.
	Timestamp int64

	// ExtraLabels are added to every series: identity labels (service,
	// instance) and user labels. Names must be valid, unique, not
	// "__name__", "le" or "quantile"; values must not be empty.
	ExtraLabels []wire.Label

	// ConflictPolicy applies when an extra label's name is already a label
	// of a metric. Default ConflictError.
	ConflictPolicy ConflictPolicy

	// HonorTimestamps uses a metric's own timestamp (TimestampMs in the
	// exposition) instead of Timestamp when it has one. Off by default: a
	// push is a snapshot and all of it happened at the batch time; mixed
	// timestamps within one push only invite out-of-order refusals.
	HonorTimestamps bool

	// NativeHistograms sends native histograms as native histograms. Turn it
	// on only when the target accepts them. When off, a native histogram is
	// sent as its classic buckets if it has any, else as _sum and _count
	// only, with a Note in the Report.
	NativeHistograms bool

	// Exemplars attaches exemplars of counters, classic buckets and native
	// histograms to their series.
	Exemplars bool

	// StartTimestamps copies created timestamps of counters, summaries and
	// histograms into StartTimestamp (sent by RW 2.0 only).
	StartTimestamps bool

	// UTF8Names allows any UTF-8 metric and label name. By default names
	// must match the legacy charset [a-zA-Z_:][a-zA-Z0-9_:]*, which every
	// backend accepts.
	UTF8Names bool

	// ShareLabels lets a Converter's series share the labels it keeps
	// between conversions instead of copying them: an unchanged series of
	// a registry costs no label copy. The labels of the series an Append
	// makes then stay valid only until the Converter's next Append (clone
	// them to keep a request longer), and the Converter keeps labels only
	// for an Append into an empty request. For callers that send each
	// request before converting the next, as package push does.
	ShareLabels bool
}

func (o *Options) scheme() model.ValidationScheme {
	if o.UTF8Names {
		return model.UTF8Validation
	}
	return model.LegacyValidation
}

// validate checks the options and returns the extra labels sorted by name.
func (o *Options) validate() ([]wire.Label, error) {
	if o.Timestamp == 0 {
		return nil, errors.New("gather: Options.Timestamp is 0; set it to the batch time in milliseconds, e.g. time.Now().UnixMilli()")
	}
	switch o.ConflictPolicy {
	case ConflictError, ConflictRename:
	default:
		return nil, fmt.Errorf("gather: unknown Options.ConflictPolicy %d; use ConflictError or ConflictRename", int(o.ConflictPolicy))
	}
	scheme := o.scheme()
	extra := slices.Clone(o.ExtraLabels)
	slices.SortFunc(extra, wire.CompareLabels)
	for i, l := range extra {
		switch {
		case l.Name == model.MetricNameLabel || l.Name == model.BucketLabel || l.Name == model.QuantileLabel:
			return nil, fmt.Errorf("gather: extra label %q is reserved (it names a metric, a bucket or a quantile); choose another name", l.Name)
		case !scheme.IsValidLabelName(l.Name):
			return nil, fmt.Errorf("gather: extra label name %q is invalid under %s name validation", l.Name, scheme)
		case l.Value == "":
			return nil, fmt.Errorf("gather: extra label %q has an empty value (an empty label is an absent label); give it a value or leave it out", l.Name)
		case !model.LabelValue(l.Value).IsValid():
			return nil, fmt.Errorf("gather: extra label %q has a value that is not valid UTF-8", l.Name)
		case i > 0 && extra[i-1].Name == l.Name:
			return nil, fmt.Errorf("gather: extra label %q is given twice (%q and %q)", l.Name, extra[i-1].Value, l.Value)
		}
	}
	return extra, nil
}
