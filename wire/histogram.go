package wire

// Native histograms have the same message in RW 1.0 and RW 2.0 except for
// start_timestamp (field 17), which only RW 2.0 has.

// Histogram field tags.
const (
	tagHCountInt       = fieldHCountInt<<3 | wtVarint
	tagHCountFloat     = fieldHCountFloat<<3 | wtFixed64
	tagHSum            = fieldHSum<<3 | wtFixed64
	tagHSchema         = fieldHSchema<<3 | wtVarint
	tagHZeroThreshold  = fieldHZeroThreshold<<3 | wtFixed64
	tagHZeroCountInt   = fieldHZeroCountInt<<3 | wtVarint
	tagHZeroCountFloat = fieldHZeroCountFloat<<3 | wtFixed64
	tagHNegSpans       = fieldHNegSpans<<3 | wtBytes
	tagHNegDeltas      = fieldHNegDeltas<<3 | wtBytes
	tagHNegCounts      = fieldHNegCounts<<3 | wtBytes
	tagHPosSpans       = fieldHPosSpans<<3 | wtBytes
	tagHPosDeltas      = fieldHPosDeltas<<3 | wtBytes
	tagHPosCounts      = fieldHPosCounts<<3 | wtBytes
	tagHResetHint      = fieldHResetHint<<3 | wtVarint
	tagHTimestamp      = fieldHTimestamp<<3 | wtVarint
	// Fields 16 and 17 need two-byte tags.
	tagHCustomValues   = fieldHCustomValues<<3 | wtBytes    // 0x82 0x01
	tagHStartTimestamp = fieldHStartTimestamp<<3 | wtVarint // 0x88 0x01

	tagSpanOffset = fieldSpanOffset<<3 | wtVarint
	tagSpanLength = fieldSpanLength<<3 | wtVarint
)

func sizeSpan(s *BucketSpan) int {
	n := 0
	if s.Offset != 0 {
		n += 1 + sizeVarint(zigzag32(s.Offset))
	}
	if s.Length != 0 {
		n += 1 + sizeVarint(uint64(s.Length))
	}
	return n
}

func sizeSpans(spans []BucketSpan) int {
	n := 0
	for i := range spans {
		n += sizeField(sizeSpan(&spans[i]))
	}
	return n
}

// sizeHistogram is the size of the Histogram message; v2 adds
// start_timestamp.
func sizeHistogram(h *Histogram, v2 bool) int {
	n := 0
	if h.IsFloat {
		n += 9 + 9 // count_float and zero_count_float are always set
	} else {
		n += 1 + sizeVarint(h.CountInt) + 1 + sizeVarint(h.ZeroCountInt)
	}
	if h.Sum != 0 {
		n += 9
	}
	if h.Schema != 0 {
		n += 1 + sizeVarint(zigzag32(h.Schema))
	}
	if h.ZeroThreshold != 0 {
		n += 9
	}
	n += sizeSpans(h.NegativeSpans)
	if len(h.NegativeDeltas) > 0 {
		n += sizeField(sizePackedZigzag(h.NegativeDeltas))
	}
	if len(h.NegativeCounts) > 0 {
		n += sizeField(8 * len(h.NegativeCounts))
	}
	n += sizeSpans(h.PositiveSpans)
	if len(h.PositiveDeltas) > 0 {
		n += sizeField(sizePackedZigzag(h.PositiveDeltas))
	}
	if len(h.PositiveCounts) > 0 {
		n += sizeField(8 * len(h.PositiveCounts))
	}
	if h.ResetHint != 0 {
		n += 1 + sizeVarint(uint64(h.ResetHint))
	}
	if h.Timestamp != 0 {
		n += 1 + sizeVarint(uint64(h.Timestamp))
	}
	if len(h.CustomValues) > 0 {
		n += 1 + sizeField(8*len(h.CustomValues))
	}
	if v2 && h.StartTimestamp != 0 {
		n += 2 + sizeVarint(uint64(h.StartTimestamp))
	}
	return n
}

func appendSpans(dst []byte, tag byte, spans []BucketSpan) []byte {
	for i := range spans {
		s := &spans[i]
		dst = append(dst, tag)
		dst = appendVarint(dst, uint64(sizeSpan(s)))
		if s.Offset != 0 {
			dst = append(dst, tagSpanOffset)
			dst = appendVarint(dst, zigzag32(s.Offset))
		}
		if s.Length != 0 {
			dst = append(dst, tagSpanLength)
			dst = appendVarint(dst, uint64(s.Length))
		}
	}
	return dst
}

func appendPackedZigzag(dst []byte, tag byte, vs []int64) []byte {
	if len(vs) == 0 {
		return dst
	}
	dst = append(dst, tag)
	dst = appendVarint(dst, uint64(sizePackedZigzag(vs)))
	for _, v := range vs {
		dst = appendVarint(dst, zigzag64(v))
	}
	return dst
}

func appendPackedDoubles(dst []byte, vs []float64) []byte {
	dst = appendVarint(dst, uint64(8*len(vs)))
	for _, v := range vs {
		dst = appendFixed64(dst, v)
	}
	return dst
}

// appendHistogram appends the Histogram message body (no tag or length).
func appendHistogram(dst []byte, h *Histogram, v2 bool) []byte {
	if h.IsFloat {
		dst = append(dst, tagHCountFloat)
		dst = appendFixed64(dst, h.CountFloat)
	} else {
		dst = append(dst, tagHCountInt)
		dst = appendVarint(dst, h.CountInt)
	}
	if h.Sum != 0 {
		dst = append(dst, tagHSum)
		dst = appendFixed64(dst, h.Sum)
	}
	if h.Schema != 0 {
		dst = append(dst, tagHSchema)
		dst = appendVarint(dst, zigzag32(h.Schema))
	}
	if h.ZeroThreshold != 0 {
		dst = append(dst, tagHZeroThreshold)
		dst = appendFixed64(dst, h.ZeroThreshold)
	}
	if h.IsFloat {
		dst = append(dst, tagHZeroCountFloat)
		dst = appendFixed64(dst, h.ZeroCountFloat)
	} else {
		dst = append(dst, tagHZeroCountInt)
		dst = appendVarint(dst, h.ZeroCountInt)
	}
	dst = appendSpans(dst, tagHNegSpans, h.NegativeSpans)
	dst = appendPackedZigzag(dst, tagHNegDeltas, h.NegativeDeltas)
	if len(h.NegativeCounts) > 0 {
		dst = append(dst, tagHNegCounts)
		dst = appendPackedDoubles(dst, h.NegativeCounts)
	}
	dst = appendSpans(dst, tagHPosSpans, h.PositiveSpans)
	dst = appendPackedZigzag(dst, tagHPosDeltas, h.PositiveDeltas)
	if len(h.PositiveCounts) > 0 {
		dst = append(dst, tagHPosCounts)
		dst = appendPackedDoubles(dst, h.PositiveCounts)
	}
	if h.ResetHint != 0 {
		dst = append(dst, tagHResetHint)
		dst = appendVarint(dst, uint64(h.ResetHint))
	}
	if h.Timestamp != 0 {
		dst = append(dst, tagHTimestamp)
		dst = appendVarint(dst, uint64(h.Timestamp))
	}
	if len(h.CustomValues) > 0 {
		dst = append(dst, byte(tagHCustomValues)|0x80, byte(tagHCustomValues>>7))
		dst = appendPackedDoubles(dst, h.CustomValues)
	}
	if v2 && h.StartTimestamp != 0 {
		dst = append(dst, byte(tagHStartTimestamp)|0x80, byte(tagHStartTimestamp>>7))
		dst = appendVarint(dst, uint64(h.StartTimestamp))
	}
	return dst
}
