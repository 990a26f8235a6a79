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
		case 1, 6, 4, 14, 15, 17:
			if num == 17 && !v2 {
				if err := d.skip(num, wt, end, 0); err != nil {
					return err
				}
				continue
			}
			name := histogramFieldName(num)
			if err := d.wantType(start, name, wt, wtVarint); err != nil {
				return err
			}
			v, err := d.varint(end)
			if err != nil {
				return inField(err, name, -1)
			}
			switch num {
			case 1:
				h.CountInt, h.CountFloat, countKind = v, 0, isInt
			case 6:
				h.ZeroCountInt, h.ZeroCountFloat, zeroKind = v, 0, isInt
			case 4:
				h.Schema = unzigzag32(v)
			case 14:
				h.ResetHint = ResetHint(int32(v))
			case 15:
				h.Timestamp = int64(v)
			case 17:
				h.StartTimestamp = int64(v)
			}
		case 2, 3, 5, 7:
			name := histogramFieldName(num)
			if err := d.wantType(start, name, wt, wtFixed64); err != nil {
				return err
			}
			v, err := d.fixed64(end)
			if err != nil {
				return inField(err, name, -1)
			}
			switch num {
			case 2:
				h.CountFloat, h.CountInt, countKind = v, 0, isFloat
			case 3:
				h.Sum = v
			case 5:
				h.ZeroThreshold = v
			case 7:
				h.ZeroCountFloat, h.ZeroCountInt, zeroKind = v, 0, isFloat
			}
		case 8, 11:
			spans := &h.NegativeSpans
			if num == 11 {
				spans = &h.PositiveSpans
			}
			name := histogramFieldName(num)
			idx := len(*spans)
			if err := d.wantType(start, name, wt, wtBytes); err != nil {
				return inField(err, name, idx)
			}
			var s BucketSpan
			e, err := d.length(end)
			if err == nil {
				err = d.span(e, &s)
			}
			if err != nil {
				return inField(err, name, idx)
			}
			*spans = append(*spans, s)
		case 9, 12:
			deltas := &h.NegativeDeltas
			if num == 12 {
				deltas = &h.PositiveDeltas
			}
			if err := d.packedZigzag(wt, end, deltas); err != nil {
				return inField(err, histogramFieldName(num), -1)
			}
		case 10, 13, 16:
			counts := &h.NegativeCounts
			switch num {
			case 13:
				counts = &h.PositiveCounts
			case 16:
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
	case 1:
		return "count_int"
	case 2:
		return "count_float"
	case 3:
		return "sum"
	case 4:
		return "schema"
	case 5:
		return "zero_threshold"
	case 6:
		return "zero_count_int"
	case 7:
		return "zero_count_float"
	case 8:
		return "negative_spans"
	case 9:
		return "negative_deltas"
	case 10:
		return "negative_counts"
	case 11:
		return "positive_spans"
	case 12:
		return "positive_deltas"
	case 13:
		return "positive_counts"
	case 14:
		return "reset_hint"
	case 15:
		return "timestamp"
	case 16:
		return "custom_values"
	case 17:
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
		case 1, 2:
			name := "offset"
			if num == 2 {
				name = "length"
			}
			if err := d.wantType(start, name, wt, wtVarint); err != nil {
				return err
			}
			v, err := d.varint(end)
			if err != nil {
				return err
			}
			if num == 1 {
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
