package wire

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// decoder reads protobuf wire format from b. Positions are absolute offsets
// into the whole input so that errors can name them. Every read is
// bounds-checked against the end of the enclosing message; nothing here
// panics on any input.
type decoder struct {
	b []byte
	i int
	// view: strings point into b instead of being copied (the *View
	// decoders).
	view bool
	// lim: the limits of a limited decode (decode_limits.go); nil for
	// none.
	lim *limiter
}

// maxGroupDepth bounds recursion when skipping nested (deprecated) groups.
const maxGroupDepth = 64

func (d *decoder) varint(end int) (uint64, error) {
	start := d.i
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.i >= end {
			return 0, decodeErr(start, "truncated varint")
		}
		c := d.b[d.i]
		d.i++
		if shift == 63 && c > 1 {
			return 0, decodeErr(start, "varint overflows 64 bits")
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, decodeErr(start, "varint overflows 64 bits")
}

// tag reads a field tag.
func (d *decoder) tag(end int) (num uint64, wt int, err error) {
	start := d.i
	v, err := d.varint(end)
	if err != nil {
		return 0, 0, err
	}
	num, wt = v>>3, int(v&7)
	if num == 0 {
		return 0, 0, decodeErr(start, "invalid field number 0")
	}
	if wt > wtFixed32 {
		return 0, 0, decodeErr(start, "invalid wire type "+strconv.Itoa(wt))
	}
	return num, wt, nil
}

func (d *decoder) fixed64(end int) (float64, error) {
	if end-d.i < 8 {
		return 0, decodeErr(d.i, "truncated fixed64")
	}
	v := binary.LittleEndian.Uint64(d.b[d.i:])
	d.i += 8
	return math.Float64frombits(v), nil
}

// length reads the length prefix of a length-delimited field and returns the
// absolute end of its payload, checked against end.
func (d *decoder) length(end int) (int, error) {
	start := d.i
	n, err := d.varint(end)
	if err != nil {
		return 0, err
	}
	if n > uint64(end-d.i) {
		return 0, decodeErr(start, "length "+strconv.FormatUint(n, 10)+" exceeds the "+strconv.Itoa(end-d.i)+" remaining bytes")
	}
	return d.i + int(n), nil
}

// str reads a length-delimited field as a string: copied, or with view
// set a view of b.
func (d *decoder) str(end int) (string, error) {
	e, err := d.length(end)
	if err != nil {
		return "", err
	}
	var s string
	switch {
	case e == d.i:
	case d.view:
		s = unsafe.String(&d.b[d.i], e-d.i)
	default:
		if d.lim != nil {
			if err := d.lim.charge(d.i, e-d.i, 1); err != nil {
				return "", err
			}
		}
		s = string(d.b[d.i:e])
	}
	d.i = e
	return s, nil
}

// wantType checks that a known field arrived with the wire type its
// definition gives it.
func (d *decoder) wantType(start int, name string, wt, want int) error {
	if wt != want {
		return decodeErr(start, "field "+name+" has wire type "+strconv.Itoa(wt)+", want "+strconv.Itoa(want))
	}
	return nil
}

// element checks that element idx of the repeated message field name
// (whose tag started at start) is length-delimited and returns where it
// ends; errors name the field and the element.
func (d *decoder) element(start int, name string, wt, end, idx int) (int, error) {
	if err := d.wantType(start, name, wt, wtBytes); err != nil {
		return 0, inField(err, name, idx)
	}
	e, err := d.length(end)
	if err != nil {
		return 0, inField(err, name, idx)
	}
	return e, nil
}

// varintField reads a varint field whose tag started at start.
func (d *decoder) varintField(start int, name string, wt, end int) (uint64, error) {
	if err := d.wantType(start, name, wt, wtVarint); err != nil {
		return 0, err
	}
	return d.varint(end)
}

// doubleField reads a fixed64 double field whose tag started at start.
func (d *decoder) doubleField(start int, name string, wt, end int) (float64, error) {
	if err := d.wantType(start, name, wt, wtFixed64); err != nil {
		return 0, err
	}
	return d.fixed64(end)
}

// The named readers read a field whose tag started at start, as
// varintField and doubleField do, but an error in the value itself is
// wrapped in the field's name (a wire-type error names it already): the
// form label, metadata and histogram fields have always reported.

func (d *decoder) namedVarint(start int, name string, wt, end int) (uint64, error) {
	if err := d.wantType(start, name, wt, wtVarint); err != nil {
		return 0, err
	}
	v, err := d.varint(end)
	if err != nil {
		return 0, inField(err, name, -1)
	}
	return v, nil
}

func (d *decoder) namedDouble(start int, name string, wt, end int) (float64, error) {
	if err := d.wantType(start, name, wt, wtFixed64); err != nil {
		return 0, err
	}
	v, err := d.fixed64(end)
	if err != nil {
		return 0, inField(err, name, -1)
	}
	return v, nil
}

func (d *decoder) namedString(start int, name string, wt, end int) (string, error) {
	if err := d.wantType(start, name, wt, wtBytes); err != nil {
		return "", err
	}
	s, err := d.str(end)
	if err != nil {
		return "", inField(err, name, -1)
	}
	return s, nil
}

// appendSample decodes a samples element (RW 1.0 TimeSeries field 2, RW 2.0
// field 2: the same message but for start_timestamp) onto dst.
func (d *decoder) appendSample(start, wt, end int, dst *[]Sample, v2 bool) error {
	idx := len(*dst)
	e, err := d.element(start, "samples", wt, end, idx)
	if err != nil {
		return err
	}
	var s Sample
	if err := d.sample(e, &s, v2); err != nil {
		return inField(err, "samples", idx)
	}
	*dst = append(*dst, s)
	return nil
}

// appendHistogram decodes a histograms element onto dst.
func (d *decoder) appendHistogram(start, wt, end int, dst *[]Histogram, v2 bool) error {
	e, h, err := nextElement(d, start, "histograms", wt, end, dst)
	if err != nil {
		return err
	}
	if err := d.histogram(e, h, v2); err != nil {
		return inField(err, "histograms", len(*dst)-1)
	}
	return nil
}

// nextElement checks element len(*dst) of the repeated message field name,
// whose tag started at start, and appends a slot for it to *dst with
// extend (the slot may hold a stale element: the caller resets it); it
// returns where the element ends. Errors name the field and the element.
func nextElement[T any](d *decoder, start int, name string, wt, end int, dst *[]T) (int, *T, error) {
	e, err := d.element(start, name, wt, end, len(*dst))
	if err != nil {
		return 0, nil, err
	}
	var p *T
	*dst, p = extend(*dst)
	return e, p, nil
}

// skip skips the payload of an unknown field.
func (d *decoder) skip(num uint64, wt int, end int, depth int) error {
	switch wt {
	case wtVarint:
		_, err := d.varint(end)
		return err
	case wtFixed64:
		if end-d.i < 8 {
			return decodeErr(d.i, "truncated fixed64")
		}
		d.i += 8
	case wtFixed32:
		if end-d.i < 4 {
			return decodeErr(d.i, "truncated fixed32")
		}
		d.i += 4
	case wtBytes:
		e, err := d.length(end)
		if err != nil {
			return err
		}
		d.i = e
	case wtStartGroup:
		if depth >= maxGroupDepth {
			return decodeErr(d.i, "groups nested too deeply")
		}
		for {
			start := d.i
			if d.i >= end {
				return decodeErr(d.i, "unterminated group "+strconv.FormatUint(num, 10))
			}
			n, w, err := d.tag(end)
			if err != nil {
				return err
			}
			if w == wtEndGroup {
				if n != num {
					return decodeErr(start, "mismatched end of group "+strconv.FormatUint(num, 10))
				}
				return nil
			}
			if err := d.skip(n, w, end, depth+1); err != nil {
				return err
			}
		}
	case wtEndGroup:
		return decodeErr(d.i, "unexpected end of group "+strconv.FormatUint(num, 10))
	}
	return nil
}

// packedVarints calls f for each varint of a packed (wt 2) or unpacked
// (wt 0) repeated varint field. A packed payload's count is exact: one
// varint ends at each byte below 0x80.
func (d *decoder) packedVarints(wt int, end int, f func(uint64)) error {
	if wt == wtVarint {
		v, err := d.varint(end)
		if err != nil {
			return err
		}
		f(v)
		return nil
	}
	e, err := d.length(end)
	if err != nil {
		return err
	}
	for d.i < e {
		v, err := d.varint(e)
		if err != nil {
			return err
		}
		f(v)
	}
	return nil
}

// countVarints is the number of varints in the payload b[i:e] (for
// preallocation; an unterminated last varint is counted, then the decode
// fails on it).
func countVarints(b []byte) int {
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// countFields returns how many times field num occurs, with wire type 2,
// in the message b[i:end]; it stops quietly at the first malformed field (the
// real decode reports it). Used to size slices exactly before decoding, so
// the count is bounded by the input size.
func countFields(b []byte, i, end int, num uint64) int {
	d := decoder{b: b, i: i}
	n := 0
	for d.i < end {
		f, wt, err := d.tag(end)
		if err != nil {
			return n
		}
		if f == num && wt == wtBytes {
			n++
		}
		if d.skip(f, wt, end, 0) != nil {
			return n
		}
	}
	return n
}
