package store

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The JSON shapes of web/api/v1/json_codec.go and util/jsonutil, written
// with append-style encoders.

func appendValue(b []byte, v parser.Value) []byte {
	switch v := v.(type) {
	case promql.Vector:
		return appendList(b, v, appendSample)
	case promql.Matrix:
		return appendList(b, v, appendSeries)
	case promql.Scalar:
		return appendFPoint(b, promql.FPoint{T: v.T, F: v.V})
	case promql.String:
		b = openPoint(b, v.T)
		b = appendString(b, v.V)
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendList writes xs as a JSON array, each element by appendElem.
func appendList[T any](b []byte, xs []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, x)
	}
	return append(b, ']')
}

// openPoint writes the "[t," that opens every point: a float, a histogram,
// a scalar or a string.
func openPoint(b []byte, t int64) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, t)
	return append(b, ',')
}

// appendFPoint writes a float point as [t,"v"].
func appendFPoint(b []byte, p promql.FPoint) []byte {
	b = openPoint(b, p.T)
	return append(appendFloat(b, p.F), ']')
}

// appendHPoint writes a histogram point as [t,{...}].
func appendHPoint(b []byte, p promql.HPoint) []byte {
	b = openPoint(b, p.T)
	return append(appendHistogram(b, p.H), ']')
}

// appendSample writes {"metric":{...},"value":[t,"v"]} or, for a native
// histogram, {"metric":{...},"histogram":[t,{...}]}.
func appendSample(b []byte, s promql.Sample) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if s.H == nil {
		b = append(b, `,"value":`...)
		b = appendFPoint(b, promql.FPoint{T: s.T, F: s.F})
	} else {
		b = append(b, `,"histogram":`...)
		b = appendHPoint(b, promql.HPoint{T: s.T, H: s.H})
	}
	return append(b, '}')
}

// appendSeries writes {"metric":{...},"values":[...],"histograms":[...]},
// leaving out an empty values or histograms list.
func appendSeries(b []byte, s promql.Series) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if len(s.Floats) > 0 {
		b = append(b, `,"values":`...)
		b = appendList(b, s.Floats, appendFPoint)
	}
	if len(s.Histograms) > 0 {
		b = append(b, `,"histograms":`...)
		b = appendList(b, s.Histograms, appendHPoint)
	}
	return append(b, '}')
}

// appendHistogram follows jsonutil.MarshalHistogram: count, sum and the
// non-empty buckets as [boundaries, lower, upper, count], where boundaries
// is 0 (upper inclusive), 1 (lower inclusive), 2 (open) or 3 (closed).
func appendHistogram(b []byte, h *histogram.FloatHistogram) []byte {
	b = append(b, `{"count":`...)
	b = appendFloat(b, h.Count)
	b = append(b, `,"sum":`...)
	b = appendFloat(b, h.Sum)
	first := true
	it := h.AllBucketIterator()
	for it.Next() {
		bucket := it.At()
		if bucket.Count == 0 {
			continue
		}
		if first {
			b = append(b, `,"buckets":[`...)
			first = false
		} else {
			b = append(b, ',')
		}
		boundaries := 2
		switch {
		case bucket.LowerInclusive && bucket.UpperInclusive:
			boundaries = 3
		case bucket.LowerInclusive:
			boundaries = 1
		case bucket.UpperInclusive:
			boundaries = 0
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(boundaries), 10)
		b = append(b, ',')
		b = appendFloat(b, bucket.Lower)
		b = append(b, ',')
		b = appendFloat(b, bucket.Upper)
		b = append(b, ',')
		b = appendFloat(b, bucket.Count)
		b = append(b, ']')
	}
	if !first {
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendTimestamp writes milliseconds as seconds with up to three decimals
// (jsonutil.MarshalTimestamp).
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	if frac := t % 1000; frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, frac, 10)
	}
	return b
}

// appendFloat writes a sample value as a JSON string the way
// jsonutil.MarshalFloat does: 'f' formatting, 'e' below 1e-6 and from 1e21,
// and "NaN", "+Inf", "-Inf".
func appendFloat(b []byte, f float64) []byte {
	b = append(b, '"')
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	return append(b, '"')
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte { return appendList(b, ss, appendString) }

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as encoding/json does
// (HTML-safe, invalid UTF-8 replaced by U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
