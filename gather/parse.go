package gather

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseText parses the Prometheus text exposition format (version 0.0.4)
// and returns its families sorted by name, metrics in input order.
//
// Names are parsed with UTF-8 validation, so quoted UTF-8 names as
// Prometheus 3 writes them are read; Convert then applies the name
// validation its Options ask for. A syntax error is an expfmt.ParseError
// (errors.As) whose message carries the line number. The text format has no
// exemplars, units, created timestamps or native histograms.
//
// prometheus/common's parser panics on some bodies (a summary's _sum line
// written with its name inside the braces after another family's line,
// for one); that panic is returned as an error naming the parser.
func ParseText(r io.Reader) (fams []*dto.MetricFamily, err error) {
	defer func() {
		if v := recover(); v != nil {
			fams, err = nil, fmt.Errorf("gather: parse text exposition: prometheus/common's text parser panicked on this body (%v): rwkit cannot read it", v)
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("gather: parse text exposition: %w", err)
	}
	fams = make([]*dto.MetricFamily, 0, len(m))
	for _, f := range m {
		fams = append(fams, f)
	}
	sortFamilies(fams)
	return fams, nil
}

// ParseOpenMetrics parses OpenMetrics 1.0 text (which must end with
// "# EOF") with prometheus/common's parser and returns its families sorted
// by name. Unlike the Prometheus text format it carries units, exemplars
// and created timestamps.
func ParseOpenMetrics(r io.Reader) ([]*dto.MetricFamily, error) {
	dec := expfmt.NewDecoder(r, expfmt.FmtOpenMetrics_1_0_0.WithEscapingScheme(model.NoEscaping))
	var fams []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		err := dec.Decode(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gather: parse OpenMetrics exposition: %w", err)
		}
		if len(f.GetMetric()) > 0 {
			fams = append(fams, f)
		}
	}
	sortFamilies(fams)
	return fams, nil
}

func sortFamilies(fams []*dto.MetricFamily) {
	slices.SortStableFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
}
