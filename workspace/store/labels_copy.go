//go:build !slicelabels && !dedupelabels

package store

import "github.com/prometheus/prometheus/model/labels"

// keepLabels copies labels the head or the exemplar storage keeps: the
// wire labels they were built from may be views of a request buffer
// (wire.DecodeWriteRequestView). With stringlabels, Prometheus' default,
// Copy copies the bytes.
func keepLabels(ls labels.Labels) labels.Labels { return ls.Copy() }
