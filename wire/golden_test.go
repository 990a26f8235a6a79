//go:build !noprompb

package wire

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from prompb and golang/snappy")

// goldens are written by prompb's gogo Marshal and golang/snappy (the
// reference implementations), never by this package, so checking them tests
// compatibility even without prompb at hand.
var goldens = []struct {
	name   string
	want   func() *WriteRequest
	ref    func(*WriteRequest) ([]byte, error)
	encode func(*WriteRequest) []byte
	decode func([]byte, *WriteRequest) error
}{
	{
		name:   "rw1_basic",
		want:   func() *WriteRequest { return forV1(richRequest()) },
		ref:    func(r *WriteRequest) ([]byte, error) { return toPrompb(r).Marshal() },
		encode: func(r *WriteRequest) []byte { return AppendWriteRequest(nil, r) },
		decode: DecodeWriteRequest,
	},
	{
		name:   "rw2_basic",
		want:   func() *WriteRequest { return forV2(richRequest()) },
		ref:    func(r *WriteRequest) ([]byte, error) { return toWritev2(r).Marshal() },
		encode: func(r *WriteRequest) []byte { return AppendRequestV2(nil, r) },
		decode: DecodeRequestV2,
	},
}

func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			pbPath := filepath.Join("testdata", g.name+".pb")
			snPath := pbPath + ".snappy"
			want := g.want()
			if *update {
				ref, err := g.ref(want)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(pbPath, ref, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(snPath, snappy.Encode(nil, ref), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(pbPath)
			if err != nil {
				t.Fatal(err)
			}
			compressed, err := os.ReadFile(snPath)
			if err != nil {
				t.Fatal(err)
			}

			var got WriteRequest
			if err := g.decode(golden, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, &got, cmpOpts); diff != "" {
				t.Errorf("decode(%s) mismatch (-want +got):\n%s", pbPath, diff)
			}
			checkBytes(t, "encode vs "+pbPath, g.encode(want), golden)

			raw, err := Decompress(nil, compressed, len(golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, golden) {
				t.Errorf("Decompress(%s) differs from %s", snPath, pbPath)
			}
			if ours, err := snappy.Decode(nil, Compress(nil, golden)); err != nil || !bytes.Equal(ours, golden) {
				t.Errorf("golang/snappy cannot read Compress(%s): %v", pbPath, err)
			}
			if v, err := DetectVersion(golden); err != nil || v.String() != g.name[2:3]+".0" {
				t.Errorf("DetectVersion(%s) = %v, %v", pbPath, v, err)
			}
		})
	}
}
