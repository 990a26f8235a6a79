package workspace

import (
	"encoding/binary"
	"fmt"

	"github.com/rwkit/rwkit/wire"
)

// Sizes of the decoded structures (unsafe.Sizeof on amd64, checked by
// TestDecodedSizes), to estimate a body's decoded memory before decoding.
const (
	sizeSeries    = 152
	sizeLabel     = 32
	sizeSample    = 24
	sizeHistogram = 256
	sizeExemplar  = 40
	sizeMetadata  = 56
	sizeSymbol    = 16
)

// bodyShape is what a pre-scan of a decoded (uncompressed) body found.
type bodyShape struct {
	series int   // time series, plus RW 1.0 metadata entries
	memory int64 // estimated bytes of the decoded wire.WriteRequest
}

// scanBody counts what decoding raw would allocate, walking tags and
// lengths only. It stops as soon as the series count passes maxSeries or
// the memory estimate passes maxMemory, and at the first malformed byte:
// the decoder then names the problem precisely.
func scanBody(raw []byte, v wire.Version, maxSeries int, maxMemory int64) bodyShape {
	var s bodyShape
	over := func() bool { return s.series > maxSeries || s.memory > maxMemory }
	eachField(raw, func(num uint64, wt int, val []byte) bool {
		if v == wire.V2 {
			switch num {
			case 4: // symbols
				s.memory += sizeSymbol
			case 5: // timeseries
				s.series++
				s.memory += sizeSeries
				eachField(val, func(num uint64, wt int, val []byte) bool {
					switch num {
					case 1: // labels_refs: each ref becomes a uint32 and a Label
						s.memory += int64(countRefs(wt, val)) * (sizeLabel + 4)
					case 2:
						s.memory += sizeSample
					case 3:
						s.memory += sizeHistogram
					case 4:
						s.memory += sizeExemplar
						eachField(val, func(num uint64, wt int, val []byte) bool {
							if num == 1 {
								s.memory += int64(countRefs(wt, val)) * (sizeLabel + 4)
							}
							return true
						})
					}
					return !over()
				})
			}
			return !over()
		}
		switch num {
		case 1: // timeseries
			s.series++
			s.memory += sizeSeries
			eachField(val, func(num uint64, wt int, val []byte) bool {
				switch num {
				case 1:
					s.memory += sizeLabel
				case 2:
					s.memory += sizeSample
				case 3:
					s.memory += sizeExemplar
					eachField(val, func(num uint64, _ int, _ []byte) bool {
						if num == 1 {
							s.memory += sizeLabel
						}
						return true
					})
				case 4:
					s.memory += sizeHistogram
				}
				return !over()
			})
		case 3: // metadata
			s.series++
			s.memory += sizeMetadata
		}
		return !over()
	})
	return s
}

// eachField calls f for each field of the protobuf message b (val is the
// payload of a length-delimited field, nil otherwise) until f returns
// false or the input ends or is malformed.
func eachField(b []byte, f func(num uint64, wt int, val []byte) bool) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		num, wt := tag>>3, int(tag&7)
		var val []byte
		switch wt {
		case 0:
			_, n = binary.Uvarint(b)
			if n <= 0 {
				return
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return
			}
			b = b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return
			}
			val, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return
			}
			b = b[4:]
		default: // groups: the decoder skips them; nothing here allocates
			return
		}
		if !f(num, wt, val) {
			return
		}
	}
}

// countRefs counts the varints of a packed (or single) repeated field.
func countRefs(wt int, val []byte) int {
	if wt != 2 {
		return 1
	}
	n := 0
	for _, c := range val {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// checkShape refuses a body whose shape is over the workspace's limits;
// it returns the 413 text and rwkit's hint, or "" to go on.
func (w *Workspace) checkShape(raw []byte, v wire.Version) (string, string) {
	maxMemory := int64(w.maxDecoded) * decodedMemoryFactor
	s := scanBody(raw, v, w.maxSeries, maxMemory)
	switch {
	case s.series > w.maxSeries:
		return fmt.Sprintf("received message with more than %d series (limit %d)", w.maxSeries, w.maxSeries),
			"rwkit: split the write into smaller requests (workspace.WithMaxSeriesPerRequest, rwkit serve --max-series-per-request)"
	case s.memory > maxMemory:
		return fmt.Sprintf("received message that decodes to more than %d bytes of series, labels and samples (limit %d: %d times the decoded size limit)", maxMemory, maxMemory, decodedMemoryFactor),
			"rwkit: the body holds unusually many tiny series, labels, samples or histograms for its size; split the write into smaller requests"
	}
	return "", ""
}
