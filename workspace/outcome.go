package workspace

import (
	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

// counts are the RW 2.0 X-Prometheus-Remote-Write-*-Written values.
type counts struct{ samples, histograms, exemplars int }

// requestCounts counts req's float samples, native histogram samples and
// exemplars.
func requestCounts(req *wire.WriteRequest) counts {
	var n counts
	for i := range req.Series {
		s := &req.Series[i]
		n.samples += len(s.Samples)
		n.histograms += len(s.Histograms)
		n.exemplars += len(s.Exemplars)
	}
	return n
}

// data is the number of samples a backend counts: floats and native
// histograms.
func (c counts) data() int { return c.samples + c.histograms }

type reasonCount struct {
	reason validate.Reason
	n      int
}

// outcome is what one request did: its answer, what was written and what
// was refused.
type outcome struct {
	status  int    // 0: success
	message string // the backend's text for status (Cortex's or Prometheus')
	written counts
	refused []reasonCount // samples and histograms removed, by reason, in order of first refusal
	// dropped are samples the backend drops without a word
	// (policy.dropWithinRequest), by reason: X-Rwkit-Dropped.
	dropped []reasonCount
	// refusedWhole: valid samples not stored because the request was
	// refused as a whole.
	refusedWhole int
	notes        []string // rwkit's lines: which writers collided
	hidden       int      // notes not shown
	// collisions: at least one new-value-for-timestamp was recorded.
	collisions bool
	// first is the request's first new-value-for-timestamp, with its
	// group's key: pass-through mode names its series and writers when the
	// upstream refuses the request (upstream_refusals.go).
	first    *Collision
	firstKey collisionKey
}

// maxNotes bounds the attribution lines of one refusal body.
const maxNotes = 5

func (o *outcome) refuse(r validate.Reason, n int) { o.refused = addCount(o.refused, r, n) }

func (o *outcome) drop(r validate.Reason, n int) { o.dropped = addCount(o.dropped, r, n) }

// addCount adds n to r's count in cs, in order of first appearance.
func addCount(cs []reasonCount, r validate.Reason, n int) []reasonCount {
	if n <= 0 {
		return cs
	}
	for i := range cs {
		if cs[i].reason == r {
			cs[i].n += n
			return cs
		}
	}
	return append(cs, reasonCount{r, n})
}

func (o *outcome) note(s string) {
	if len(o.notes) >= maxNotes {
		o.hidden++
		return
	}
	o.notes = append(o.notes, s)
}

func (o *outcome) fail(status int, msg string) {
	if o.status == 0 {
		o.status, o.message = status, msg
	}
}
