package gather

import (
	"fmt"
	"math"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/wire"
)

// isNative follows Prometheus's protobuf parser: a histogram is native when
// it has spans, a zero threshold or a zero count. Instrumentation libraries
// add a no-op span to a native histogram without observations
// (client_golang does) so that it still reads as native.
func isNative(h *dto.Histogram) bool {
	return len(h.GetPositiveSpan()) > 0 || len(h.GetNegativeSpan()) > 0 ||
		h.GetZeroThreshold() > 0 || h.GetZeroCount() > 0 || h.GetZeroCountFloat() > 0
}

// isFloatNative follows Prometheus: float bucket counts or a float count
// make a float histogram, even when every count is zero.
func isFloatNative(h *dto.Histogram) bool {
	return h.GetSampleCountFloat() > 0 || h.GetZeroCountFloat() > 0 ||
		len(h.GetPositiveCount()) > 0 || len(h.GetNegativeCount()) > 0
}

// count and cumulative counts: the float field overrides the integer one
// when it is > 0 (client_model's documented rule).
func histCount(h *dto.Histogram) float64 {
	if f := h.GetSampleCountFloat(); f > 0 {
		return f
	}
	return float64(h.GetSampleCount())
}

func bucketCount(b *dto.Bucket) float64 {
	if f := b.GetCumulativeCountFloat(); f > 0 {
		return f
	}
	return float64(b.GetCumulativeCount())
}

func (c *Converter) histogram(req *wire.WriteRequest, fam *dto.MetricFamily, m *dto.Metric, md *wire.Metadata, h *dto.Histogram, ts int64) (lossy bool, err error) {
	name := fam.GetName()
	st := c.start(h.GetCreatedTimestamp())
	native := isNative(h)
	if native && c.opts.NativeHistograms {
		return false, c.native(req, fam, m, md, h, ts, st)
	}
	// Classic: the buckets, the +Inf bucket when the exposition leaves it
	// implicit (client_golang does; the text format writes it), _sum and
	// _count. A native histogram without classic buckets comes out as a
	// lone +Inf bucket, as Prometheus stores it with native histograms off.
	n := c.familyNames(name)
	count := histCount(h)
	infSeen := false
	for _, b := range h.GetBucket() {
		if b == nil {
			continue
		}
		ub := b.GetUpperBound()
		s, err := c.series(req, md, n.bucket, model.BucketLabel, c.formatFloat(ub))
		if err != nil {
			return false, err
		}
		c.sample(s, bucketCount(b), ts, st)
		c.exemplar(s, b.GetExemplar(), ts)
		if math.IsInf(ub, +1) {
			infSeen = true
		}
	}
	if !infSeen {
		s, err := c.series(req, md, n.bucket, model.BucketLabel, "+Inf")
		if err != nil {
			return false, err
		}
		c.sample(s, count, ts, st)
	}
	if err := c.simple(req, md, n.sum, h.GetSampleSum(), ts, st); err != nil {
		return false, err
	}
	if err := c.simple(req, md, n.count, count, ts, st); err != nil {
		return false, err
	}
	return native && len(h.GetBucket()) == 0, nil
}

func (c *Converter) native(req *wire.WriteRequest, fam *dto.MetricFamily, m *dto.Metric, md *wire.Metadata, h *dto.Histogram, ts, st int64) error {
	name := fam.GetName()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("gather: family %q series %s: native histogram: %s", name, metricString(name, m), fmt.Sprintf(format, args...))
	}
	// Exponential schemas -4..8 are what Prometheus accepts from a scrape;
	// custom-bucket histograms (-53) need custom values that client_model
	// cannot carry.
	if s := h.GetSchema(); s < -4 || s > 8 {
		return bad("schema %d is outside -4..8", s)
	}
	wh := wire.Histogram{
		Sum:            h.GetSampleSum(),
		Schema:         h.GetSchema(),
		ZeroThreshold:  h.GetZeroThreshold(),
		Timestamp:      ts,
		StartTimestamp: st,
		PositiveSpans:  spans(h.GetPositiveSpan()),
		NegativeSpans:  spans(h.GetNegativeSpan()),
	}
	if fam.GetType() == dto.MetricType_GAUGE_HISTOGRAM {
		wh.ResetHint = wire.ResetHintGauge
	}
	pos, neg := 0, 0
	if isFloatNative(h) {
		wh.IsFloat = true
		wh.CountFloat = h.GetSampleCountFloat()
		wh.ZeroCountFloat = h.GetZeroCountFloat()
		wh.PositiveCounts = h.GetPositiveCount()
		wh.NegativeCounts = h.GetNegativeCount()
		pos, neg = len(wh.PositiveCounts), len(wh.NegativeCounts)
	} else {
		wh.CountInt = h.GetSampleCount()
		wh.ZeroCountInt = h.GetZeroCount()
		wh.PositiveDeltas = h.GetPositiveDelta()
		wh.NegativeDeltas = h.GetNegativeDelta()
		pos, neg = len(wh.PositiveDeltas), len(wh.NegativeDeltas)
	}
	if n := spanLength(wh.PositiveSpans); n != pos {
		return bad("positive spans cover %d buckets but %d are given", n, pos)
	}
	if n := spanLength(wh.NegativeSpans); n != neg {
		return bad("negative spans cover %d buckets but %d are given", n, neg)
	}

	s, err := c.series(req, md, name, "", "")
	if err != nil {
		return err
	}
	s.Histograms = append(s.Histograms, wh)
	c.report.Histograms++
	if c.opts.Exemplars {
		// Prometheus reads a native histogram's exemplars from its
		// Exemplars field, else from its classic buckets.
		if exs := h.GetExemplars(); len(exs) > 0 {
			for _, e := range exs {
				c.exemplar(s, e, ts)
			}
		} else {
			for _, b := range h.GetBucket() {
				c.exemplar(s, b.GetExemplar(), ts)
			}
		}
	}
	return nil
}

// spans converts bucket spans, folding zero-length spans (client_golang's
// no-op span on an empty native histogram) into the next span's offset, as
// Prometheus's Compact does, so receivers never see empty spans.
func spans(in []*dto.BucketSpan) []wire.BucketSpan {
	if len(in) == 0 {
		return nil
	}
	out := make([]wire.BucketSpan, 0, len(in))
	var carry int32
	for _, sp := range in {
		if sp.GetLength() == 0 {
			carry += sp.GetOffset()
			continue
		}
		out = append(out, wire.BucketSpan{Offset: sp.GetOffset() + carry, Length: sp.GetLength()})
		carry = 0
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func spanLength(ss []wire.BucketSpan) int {
	n := 0
	for _, s := range ss {
		n += int(s.Length)
	}
	return n
}
