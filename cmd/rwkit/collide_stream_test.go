package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/collide"
)

// collide --output json streams its report (collide.Found) into the
// envelope: the bytes are those of the envelope holding the whole Report.
func TestCollideEnvelopeStreamed(t *testing.T) {
	var sources []collide.Source
	for _, spec := range append(append([]string(nil), sixServices...), "dup=testdata/collide/duplicate.txt") {
		s, err := collide.ParseSource(spec)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, s)
	}
	for _, tc := range []struct {
		name    string
		sources []collide.Source
		err     error
		code    int
	}{
		{name: "collisions", sources: sources, err: reportedError(exitFound, errors.New("collide: <found>")), code: exitFound},
		{name: "none", sources: sources[:1], code: exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := collide.FindSourcesCompact(context.Background(), nil, tc.sources)
			if err != nil {
				t.Fatal(err)
			}
			var whole, streamed bytes.Buffer
			writeEnvelope(&whole, found.Report(), tc.err, tc.code)
			writeEnvelope(&streamed, found, tc.err, tc.code)
			if whole.String() != streamed.String() {
				t.Errorf("streamed envelope differs (-whole +streamed):\n%s", cmp.Diff(whole.String(), streamed.String()))
			}
			if tc.code == exitFound && found.NumCollisions() == 0 {
				t.Error("no collisions to stream")
			}
		})
	}
}
