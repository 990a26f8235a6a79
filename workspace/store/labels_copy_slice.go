//go:build slicelabels || dedupelabels

package store

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// keepLabels copies labels the head or the exemplar storage keeps, strings
// included: with slicelabels, Copy shares them, and the wire labels they
// were built from may be views of a request buffer.
func keepLabels(ls labels.Labels) labels.Labels {
	var b labels.ScratchBuilder
	ls.Range(func(l labels.Label) { b.Add(strings.Clone(l.Name), strings.Clone(l.Value)) })
	return b.Labels()
}
