package wire

// histogram decodes a Histogram message into h, reusing h's slices.
//
// The two oneofs (count, zero_count) map onto Histogram.IsFloat: the kind of
// the count oneof decides, an absent count meaning an integer histogram (as
// Prometheus' and Cortex's IsFloatHistogram decide), and a zero_count of
// the other kind reads as zero, which is what Prometheus'
// GetZeroCountInt/GetZeroCountFloat getters return for it.
func (d *decoder) histogram(end int, h *Histogram, v2 bool) error {
	*h = Histogram{
		NegativeSpans:  h.NegativeSpans[:0],
		NegativeDeltas: h.NegativeDeltas[:0],
		NegativeCounts: h.NegativeCounts[:0],
		PositiveSpans:  h.PositiveSpans[:0],
		PositiveDeltas: h.PositiveDeltas[:0],
		PositiveCounts: h.PositiveCounts[:0],
		CustomValues:   h.CustomValues[:0],
	}
	if d.lim != nil {
		if err := d.sizeHistogram(end, h); err != nil {
			return err
		}
	}
	const (
		none = iota
		isInt
		isFloat
	)
	countKind, zeroKind := none, none
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldHCountInt, fieldHZeroCountInt, fieldHSchema, fieldHResetHint, fieldHTimestamp, fieldHStartTimestamp:
			if num == fieldHStartTimestamp && !v2 {
				if err := d.skip(num, wt, end, 0); err != nil {
					return err
				}
				continue
			}
			v, err := d.namedVarint(start, histogramFieldName(num), wt, end)
			if err != nil {
				return err
			}
			switch num {
			case fieldHCountInt:
				h.CountInt, h.CountFloat, countKind = v, 0, isInt
			case fieldHZeroCountInt:
				h.ZeroCountInt, h.ZeroCountFloat, zeroKind = v, 0, isInt
			case fieldHSchema:
				h.Schema = unzigzag32(v)
			case fieldHResetHint:
				h.ResetHint = ResetHint(int32(v))
			case fieldHTimestamp:
				h.Timestamp = int64(v)
			case fieldHStartTimestamp:
				h.StartTimestamp = int64(v)
			}
		case fieldHCountFloat, fieldHSum, fieldHZeroThreshold, fieldHZeroCountFloat:
			v, err := d.namedDouble(start, histogramFieldName(num), wt, end)
			if err != nil {
				return err
			}
			switch num {
			case fieldHCountFloat:
				h.CountFloat, h.CountInt, countKind = v, 0, isFloat
			case fieldHSum:
				h.Sum = v
			case fieldHZeroThreshold:
				h.ZeroThreshold = v
			case fieldHZeroCountFloat:
				h.ZeroCountFloat, h.ZeroCountInt, zeroKind = v, 0, isFloat
			}
		case fieldHNegSpans, fieldHPosSpans:
			spans := &h.NegativeSpans
			if num == fieldHPosSpans {
				spans = &h.PositiveSpans
			}
			name := histogramFieldName(num)
			idx := len(*spans)
			e, err := d.element(start, name, wt, end, idx)
			if err != nil {
				return err
			}
			var s BucketSpan
			if err := d.span(e, &s); err != nil {
				return inField(err, name, idx)
			}
			*spans = append(*spans, s)
		case fieldHNegDeltas, fieldHPosDeltas:
			deltas := &h.NegativeDeltas
			if num == fieldHPosDeltas {
				deltas = &h.PositiveDeltas
			}
			if err := d.packedZigzag(wt, end, deltas); err != nil {
				return inField(err, histogramFieldName(num), -1)
			}
		case fieldHNegCounts, fieldHPosCounts, fieldHCustomValues:
			counts := &h.NegativeCounts
			switch num {
			case fieldHPosCounts:
				counts = &h.PositiveCounts
			case fieldHCustomValues:
				counts = &h.CustomValues
			}
			if err := d.packedDoubles(wt, end, counts); err != nil {
				return inField(err, histogramFieldName(num), -1)
			}
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	h.IsFloat = countKind == isFloat
	if h.IsFloat && zeroKind == isInt {
		h.ZeroCountInt = 0
	}
	if !h.IsFloat && zeroKind == isFloat {
		h.ZeroCountFloat = 0
	}
	return nil
}

func histogramFieldName(num uint64) string {
	switch num {
	case fieldHCountInt:
		return "count_int"
	case fieldHCountFloat:
		return "count_float"
	case fieldHSum:
		return "sum"
	case fieldHSchema:
		return "schema"
	case fieldHZeroThreshold:
		return "zero_threshold"
	case fieldHZeroCountInt:
		return "zero_count_int"
	case fieldHZeroCountFloat:
		return "zero_count_float"
	case fieldHNegSpans:
		return "negative_spans"
	case fieldHNegDeltas:
		return "negative_deltas"
	case fieldHNegCounts:
		return "negative_counts"
	case fieldHPosSpans:
		return "positive_spans"
	case fieldHPosDeltas:
		return "positive_deltas"
	case fieldHPosCounts:
		return "positive_counts"
	case fieldHResetHint:
		return "reset_hint"
	case fieldHTimestamp:
		return "timestamp"
	case fieldHCustomValues:
		return "custom_values"
	case fieldHStartTimestamp:
		return "start_timestamp"
	}
	return "unknown"
}

func (d *decoder) span(end int, s *BucketSpan) error {
	for d.i < end {
		start := d.i
		num, wt, err := d.tag(end)
		if err != nil {
			return err
		}
		switch num {
		case fieldSpanOffset, fieldSpanLength:
			name := "offset"
			if num == fieldSpanLength {
				name = "length"
			}
			if err := d.wantType(start, name, wt, wtVarint); err != nil {
				return err
			}
			v, err := d.varint(end)
			if err != nil {
				return err
			}
			if num == fieldSpanOffset {
				s.Offset = unzigzag32(v)
			} else {
				s.Length = uint32(v)
			}
		default:
			if err := d.skip(num, wt, end, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// packedZigzag appends a packed or unpacked repeated sint64 field.
func (d *decoder) packedZigzag(wt, end int, dst *[]int64) error {
	switch wt {
	case wtVarint:
		v, err := d.varint(end)
		if err != nil {
			return err
		}
		*dst = append(*dst, unzigzag64(v))
		return nil
	case wtBytes:
		e, err := d.length(end)
		if err != nil {
			return err
		}
		s := *dst
		if n := countVarints(d.b[d.i:e]); cap(s)-len(s) < n {
			s = append(make([]int64, 0, len(s)+n), s...)
		}
		for d.i < e {
			v, err := d.varint(e)
			if err != nil {
				*dst = s
				return err
			}
			s = append(s, unzigzag64(v))
		}
		*dst = s
		return nil
	}
	return decodeErr(d.i, "wire type "+itoa(wt)+" for a repeated sint64, want 0 or 2")
}

// packedDoubles appends a packed or unpacked repeated double field.
func (d *decoder) packedDoubles(wt, end int, dst *[]float64) error {
	switch wt {
	case wtFixed64:
		v, err := d.fixed64(end)
		if err != nil {
			return err
		}
		*dst = append(*dst, v)
		return nil
	case wtBytes:
		start := d.i
		e, err := d.length(end)
		if err != nil {
			return err
		}
		if (e-d.i)%8 != 0 {
			return decodeErr(start, "packed doubles of "+itoa(e-d.i)+" bytes, not a multiple of 8")
		}
		s := *dst
		if n := (e - d.i) / 8; cap(s)-len(s) < n {
			s = append(make([]float64, 0, len(s)+n), s...)
		}
		for d.i < e {
			v, _ := d.fixed64(e)
			s = append(s, v)
		}
		*dst = s
		return nil
	}
	return decodeErr(d.i, "wire type "+itoa(wt)+" for a repeated double, want 1 or 2")
}
