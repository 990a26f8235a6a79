package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every decoder is fuzzed: no input may panic, and whatever decodes must
// survive encode -> decode unchanged in value (bytes may differ: the input
// need not be canonical). The decoders are also run with limits
// (fuzzLimits): they decode the same or return the limit's *LimitError.

func addGoldenSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzDecodeWriteRequest(f *testing.F) {
	addGoldenSeeds(f, "rw1_basic.pb")
	f.Add(AppendWriteRequest(nil, &WriteRequest{Series: benchSeries(3)}))
	f.Add([]byte(pb{}.bytes(1, pb{}.unknown().bytes(4, pb{}.double(13, 1).varint(9, 3)))))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLimits(t, data, false, false)
		var req WriteRequest
		if err := DecodeWriteRequest(data, &req); err != nil {
			return
		}
		enc := AppendWriteRequest(nil, &req)
		fuzzLimits(t, enc, false, true)
		var again WriteRequest
		if err := DecodeWriteRequest(enc, &again); err != nil {
			t.Fatalf("decoding our own encoding failed: %v", err)
		}
		if diff := cmp.Diff(&req, &again, cmpOpts); diff != "" {
			t.Fatalf("encode/decode changed the value (-first +second):\n%s", diff)
		}
		if enc2 := AppendWriteRequest(nil, &again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %s", firstDiff(enc2, enc))
		}
	})
}

func FuzzDecodeRequestV2(f *testing.F) {
	addGoldenSeeds(f, "rw2_basic.pb")
	f.Add(AppendRequestV2(nil, &WriteRequest{Series: benchSeries(3)}))
	f.Add([]byte(pb{}.bytes(5, pb{}.varint(6, 9).bytes(2, nil).varint(1, 0).varint(1, 0)).str(4, "")))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLimits(t, data, true, false)
		var req WriteRequest
		if err := DecodeRequestV2(data, &req); err != nil {
			return
		}
		enc := AppendRequestV2(nil, &req)
		fuzzLimits(t, enc, true, true)
		var again WriteRequest
		if err := DecodeRequestV2(enc, &again); err != nil {
			t.Fatalf("decoding our own encoding failed: %v", err)
		}
		if diff := cmp.Diff(&req, &again, cmpOpts); diff != "" {
			t.Fatalf("encode/decode changed the value (-first +second):\n%s", diff)
		}
	})
}

func FuzzDecompress(f *testing.F) {
	addGoldenSeeds(f, "rw1_basic.pb.snappy", "rw2_basic.pb.snappy", "rw1_basic.pb")
	f.Add([]byte{})
	f.Add(appendVarint(nil, 1<<30))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 20
		out, err := Decompress(nil, data, limit)
		if err != nil && !isTooLarge(err) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is neither *TooLargeError nor ErrCorrupt", err)
		}
		if err != nil {
			return
		}
		if len(out) > limit {
			t.Fatalf("decoded %d bytes over the limit %d", len(out), limit)
		}
		back, err := Decompress(nil, Compress(nil, out), limit)
		if err != nil || !bytes.Equal(back, out) {
			t.Fatalf("Compress round trip failed: %v", err)
		}
	})
}

func isTooLarge(err error) bool {
	_, ok := err.(*TooLargeError)
	return ok
}
