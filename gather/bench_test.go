package gather

import (
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// TestConverterReuseAllocs checks the steady state of a push loop: a
// Converter and a truncated request reused for the same families.
func TestConverterReuseAllocs(t *testing.T) {
	fams, err := parityRegistry(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, share := range []bool{false, true} {
		c := mustConverter(t, Options{Timestamp: ts0, ExtraLabels: []wire.Label{{Name: "service", Value: "a"}}, ShareLabels: share})
		req := &wire.WriteRequest{}
		for range 2 {
			req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
			if _, err := c.Append(req, fams); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(20, func() {
			req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
			if _, err := c.Append(req, fams); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ShareLabels=%v: steady-state Append allocates %v times per run, want 0", share, allocs)
		}
	}
}

func BenchmarkConverterAppend(b *testing.B) {
	fams, err := parityRegistry(&testing.T{}).Gather()
	if err != nil {
		b.Fatal(err)
	}
	c := mustConverter(b, Options{Timestamp: ts0, ExtraLabels: []wire.Label{{Name: "service", Value: "a"}, {Name: "instance", Value: "i"}}})
	req := &wire.WriteRequest{}
	b.ReportAllocs()
	for b.Loop() {
		req.Series, req.Metadata = req.Series[:0], req.Metadata[:0]
		if _, err := c.Append(req, fams); err != nil {
			b.Fatal(err)
		}
	}
}
