package wire

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Protobuf wire encoding, hand-written so that encoding appends into caller
// buffers without allocating. The output follows what gogo/protobuf's
// generated Marshal emits for prompb: fields in field-number order, proto3
// scalars omitted when zero (a double is omitted when v == 0, so -0.0 is
// dropped as gogo drops it), repeated scalars packed, and a set oneof member
// emitted even when zero.
// See https://protobuf.dev/programming-guides/encoding/.

// Wire types.
const (
	wtVarint     = 0
	wtFixed64    = 1
	wtBytes      = 2
	wtStartGroup = 3
	wtEndGroup   = 4
	wtFixed32    = 5
)

// sizeVarint is the encoded size of v as a base-128 varint.
func sizeVarint(v uint64) int {
	// (bits*9+64)/64 is 1 for 0..7 bits, 2 for 8..14, ... 10 for 64.
	return int(9*uint32(bits.Len64(v))+64) / 64
}

func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 { // inlined fast path: tags, lengths, small values
		return append(b, byte(v))
	}
	return appendVarintSlow(b, v)
}

func appendVarintSlow(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendFixed64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// appendBytesField appends a length-delimited field with a one-byte tag.
func appendString(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// sizeString is the size of a string field with a one-byte tag.
func sizeString(s string) int {
	return 1 + sizeVarint(uint64(len(s))) + len(s)
}

// sizeField is the size of a length-delimited field with a one-byte tag
// whose payload is n bytes.
func sizeField(n int) int {
	return 1 + sizeVarint(uint64(n)) + n
}

func zigzag32(v int32) uint64 { return uint64(uint32(v<<1) ^ uint32(v>>31)) }
func zigzag64(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag64(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }
func unzigzag32(v uint64) int32 { u := uint32(v); return int32(u>>1) ^ -int32(u&1) }

// sizePackedZigzag is the payload size of a packed sint64 field.
func sizePackedZigzag(vs []int64) int {
	n := 0
	for _, v := range vs {
		n += sizeVarint(zigzag64(v))
	}
	return n
}

// sizePackedUint32 is the payload size of a packed uint32 field.
func sizePackedUint32(vs []uint32) int {
	n := 0
	for _, v := range vs {
		n += sizeVarint(uint64(v))
	}
	return n
}
