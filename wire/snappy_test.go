package wire

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

func TestSnappyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 100000)
	rng.Read(random)
	big := benchBody(20000) // a few MB of realistic remote-write body
	for _, tc := range []struct {
		name string
		src  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{7}},
		{"short", []byte("remote write")},
		{"repetitive", bytes.Repeat([]byte("abcd"), 50000)},
		{"random", random},
		{"remote-write body", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, 0, MaxCompressedLen(len(tc.src)))
			c := Compress(dst, tc.src)
			if len(c) > 0 && &c[0] != &dst[:1][0] {
				t.Error("Compress allocated although cap(dst) >= MaxCompressedLen")
			}
			// Compatible with the reference decoder.
			ref, err := snappy.Decode(nil, c)
			if err != nil || !bytes.Equal(ref, tc.src) {
				t.Fatalf("golang/snappy.Decode(Compress(x)) != x (err %v)", err)
			}
			got, err := Decompress(nil, c, len(tc.src))
			if err != nil || !bytes.Equal(got, tc.src) {
				t.Fatalf("Decompress(Compress(x)) != x (err %v)", err)
			}
			// And we read the reference encoder's output.
			got, err = Decompress(make([]byte, 3), snappy.Encode(nil, tc.src), len(tc.src))
			if err != nil || !bytes.Equal(got, tc.src) {
				t.Fatalf("Decompress(golang/snappy.Encode(x)) != x (err %v)", err)
			}
			// Compress ignores dst's length: it does not append.
			again := Compress([]byte("junk"), tc.src)
			if !bytes.Equal(again, c) {
				t.Error("Compress with a non-empty dst differs")
			}
		})
	}
}

func TestCompressNoAllocs(t *testing.T) {
	src := benchBody(1000)
	dst := make([]byte, 0, MaxCompressedLen(len(src)))
	if n := testing.AllocsPerRun(20, func() { dst = Compress(dst, src) }); n != 0 {
		t.Errorf("Compress allocated %v times per run", n)
	}
}

func TestDecompressTooLarge(t *testing.T) {
	// A 5-byte header declaring 1 GiB, then nothing.
	src := appendVarint(nil, 1<<30)
	var err error
	allocs := testing.AllocsPerRun(10, func() { _, err = Decompress(nil, src, 32<<20) })
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("error = %v, want a *TooLargeError", err)
	}
	if tl.Declared != 1<<30 || tl.Limit != 32<<20 {
		t.Errorf("TooLargeError = %+v", tl)
	}
	if msg := err.Error(); !strings.Contains(msg, "1073741824") || !strings.Contains(msg, "33554432") {
		t.Errorf("message %q does not name both sizes", msg)
	}
	// One allocation: the error itself. A buffer of 1 GiB would show in
	// the byte count too, but the count alone already proves no decode.
	if allocs > 1 {
		t.Errorf("Decompress allocated %v times before refusing", allocs)
	}
}

func TestDecompressCorrupt(t *testing.T) {
	valid := Compress(nil, bytes.Repeat([]byte("remote write "), 100))
	for _, tc := range []struct {
		name string
		src  []byte
	}{
		{"empty", nil},
		{"bad header", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"truncated", valid[:len(valid)/2]},
		{"declares more than it can hold", append(appendVarint(nil, 1<<20), 0, 'x')},
		{"copy before start", []byte{4, 0x01, 0x00}},
		{"trailing garbage", append(append([]byte(nil), valid...), 1, 2, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decompress(nil, tc.src, 1<<30)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestDecompressRefusesProtobuf(t *testing.T) {
	// Uncompressed bodies must not pass for Snappy: `rwkit decode` tries
	// Decompress first and reads the body as raw protobuf when it fails.
	for _, g := range []string{"rw1_basic", "rw2_basic"} {
		var body []byte
		if g == "rw1_basic" {
			body = AppendWriteRequest(nil, forV1(richRequest()))
		} else {
			body = AppendRequestV2(nil, richRequest())
		}
		if _, err := Decompress(nil, body, 1<<20); err == nil {
			t.Errorf("Decompress(%s uncompressed) succeeded", g)
		}
	}
}
