package wire

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The View decoders decode exactly what the copying ones do; only where
// the strings live differs.
func TestDecodeViewMatchesCopy(t *testing.T) {
	in := richRequest()
	for _, tc := range []struct {
		name       string
		body       []byte
		copy, view func([]byte, *WriteRequest) error
	}{
		{"v1", AppendWriteRequest(nil, forV1(in)), DecodeWriteRequest, DecodeWriteRequestView},
		{"v2", AppendRequestV2(nil, forV2(in)), DecodeRequestV2, DecodeRequestV2View},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got WriteRequest
			if err := tc.copy(tc.body, &want); err != nil {
				t.Fatal(err)
			}
			data := append([]byte(nil), tc.body...)
			if err := tc.view(data, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, &got, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("view decode differs (-copy +view):\n%s", diff)
			}
			// The strings are views: overwriting data changes them, and
			// leaves the copied ones alone.
			for i := range data {
				data[i] = 'x'
			}
			if name := got.Series[0].Labels[0].Name; name == want.Series[0].Labels[0].Name {
				t.Errorf("label name %q did not change with data: not a view", name)
			}
		})
	}
}

func TestDecodeViewErrorsMatchCopy(t *testing.T) {
	body := AppendWriteRequest(nil, forV1(richRequest()))
	for n := 0; n < len(body); n += 7 {
		var a, b WriteRequest
		e1, e2 := DecodeWriteRequest(body[:n], &a), DecodeWriteRequestView(body[:n], &b)
		if (e1 == nil) != (e2 == nil) || (e1 != nil && e1.Error() != e2.Error()) {
			t.Fatalf("truncated at %d: copy %v, view %v", n, e1, e2)
		}
	}
}

func BenchmarkDecodeView(b *testing.B) {
	body := benchBody(10_000)
	var req WriteRequest
	for _, tc := range []struct {
		name string
		f    func([]byte, *WriteRequest) error
	}{{"copy", DecodeWriteRequest}, {"view", DecodeWriteRequestView}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := tc.f(body, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
