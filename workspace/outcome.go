package workspace

import "github.com/rwkit/rwkit/validate"

// counts are the RW 2.0 X-Prometheus-Remote-Write-*-Written values.
type counts struct{ samples, histograms, exemplars int }

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
	notes   []string      // rwkit's lines: which writers collided
	hidden  int           // notes not shown
	// collisions: at least one new-value-for-timestamp was recorded.
	collisions bool
}

// maxNotes bounds the attribution lines of one refusal body.
const maxNotes = 5

func (o *outcome) refuse(r validate.Reason, n int) {
	if n <= 0 {
		return
	}
	for i := range o.refused {
		if o.refused[i].reason == r {
			o.refused[i].n += n
			return
		}
	}
	o.refused = append(o.refused, reasonCount{r, n})
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
