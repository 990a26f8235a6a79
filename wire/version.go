package wire

import (
	"fmt"
	"strconv"
)

// Version of the remote-write protocol.
type Version int

// Remote-write protocol versions.
const (
	V1 Version = 1 // prometheus.WriteRequest
	V2 Version = 2 // io.prometheus.write.v2.Request
)

// String returns "1.0" or "2.0".
func (v Version) String() string {
	switch v {
	case V1:
		return "1.0"
	case V2:
		return "2.0"
	}
	return "Version(" + strconv.Itoa(int(v)) + ")"
}

// DetectVersion guesses the protocol of an uncompressed body from its first
// field: WriteRequest uses fields 1 and 3, Request fields 4 and 5, both
// length-delimited. An empty body is an empty RW 1.0 request.
func DetectVersion(body []byte) (Version, error) {
	if len(body) == 0 {
		return V1, nil
	}
	d := decoder{b: body}
	num, wt, err := d.tag(len(body))
	if err != nil {
		return 0, fmt.Errorf("detect remote-write version: %w", err)
	}
	if wt == wtBytes {
		switch num {
		case fieldWRTimeSeries, fieldWRMetadata:
			return V1, nil
		case fieldReqSymbols, fieldReqTimeSeries:
			return V2, nil
		}
	}
	return 0, fmt.Errorf("detect remote-write version: first field is %d with wire type %d; want 1 or 3 (RW 1.0) or 4 or 5 (RW 2.0), length-delimited", num, wt)
}
