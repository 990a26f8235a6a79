package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/s2"
)

// Remote write compresses bodies with the Snappy block format (not the
// framed stream format).
//
// Compress uses s2.EncodeSnappy from klauspost/compress: it emits plain
// Snappy blocks (no S2 extensions), so golang/snappy and every other Snappy
// decoder read them, and its assembly encoder is faster than
// golang/snappy.Encode on remote-write bodies (see bench/README.md).
// klauspost/compress/snappy.Encode is not used: it is EncodeSnappyBetter,
// slower for a few percent of size.
//
// Decompress uses golang/snappy's decoder, which is strict: it refuses the S2
// extensions that s2.Decode would accept, so a body rwkit accepts is one any
// receiver accepts.

// ErrCorrupt reports a Snappy block that cannot be decoded.
var ErrCorrupt = errors.New("corrupt snappy block")

// TooLargeError reports a Snappy block whose declared decoded length is over
// the caller's limit. It is returned before anything is allocated.
type TooLargeError struct {
	Declared int64 // decoded length the block declares (up to 2^32-1: an int64 on 32-bit platforms too)
	Limit    int   // the caller's maxDecodedLen
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("snappy block declares %d decoded bytes, over the limit of %d", e.Declared, e.Limit)
}

// MaxCompressedLen is the capacity Compress needs for n input bytes to
// not allocate.
func MaxCompressedLen(n int) int {
	return s2.MaxEncodedLen(n)
}

// Compress returns the Snappy block encoding of src in dst[:m], reusing
// dst's capacity; dst's length is ignored, as with snappy.Encode (it does
// not append). It allocates only when cap(dst) < MaxCompressedLen(len(src)).
func Compress(dst, src []byte) []byte {
	return s2.EncodeSnappy(dst[:cap(dst)], src)
}

// maxSnappyRatio bounds how much a valid Snappy block can expand: the
// densest element is a 3-byte copy of 64 bytes (21.3x). A block declaring
// more than this of its own size is corrupt, and is refused before the
// declared length is allocated.
const maxSnappyRatio = 22

// Decompress decodes the Snappy block src into dst[:n] (reusing dst's
// capacity, like snappy.Decode) after checking its declared length: over
// maxDecodedLen (negative counts as 0) it returns a *TooLargeError without
// allocating; a length src cannot possibly expand to, or any undecodable
// input, returns an error wrapping ErrCorrupt.
func Decompress(dst, src []byte, maxDecodedLen int) ([]byte, error) {
	maxDecodedLen = max(maxDecodedLen, 0)
	declared, hdr := binary.Uvarint(src)
	if hdr <= 0 || declared > 0xffffffff {
		return nil, fmt.Errorf("%w: bad length header", ErrCorrupt)
	}
	if declared > uint64(maxDecodedLen) {
		return nil, &TooLargeError{Declared: int64(declared), Limit: maxDecodedLen}
	}
	if declared > uint64(len(src)-hdr)*maxSnappyRatio {
		return nil, fmt.Errorf("%w: %d compressed bytes cannot decode to the declared %d", ErrCorrupt, len(src)-hdr, declared)
	}
	out, err := snappy.Decode(dst[:cap(dst)], src)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return out, nil
}
