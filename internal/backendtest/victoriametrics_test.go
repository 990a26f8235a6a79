package backendtest_test

import (
	"testing"

	"github.com/rwkit/rwkit/internal/backendtest"
	"github.com/rwkit/rwkit/wire"
)

// TestVictoriaMetrics holds rwkit against a real VictoriaMetrics v1.151.0
// single node. It refuses none of the cases Cortex refuses: it answers 204
// and keeps, drops or stores each as below, so rwkit has nothing to
// classify and a sender learns of the drops only from VictoriaMetrics' own
// log and metrics.
func TestVictoriaMetrics(t *testing.T) {
	s := backendtest.StartVictoriaMetrics(t)
	conform(t, s, expect{
		// No RW 2.0 receiver: /api/v1/write parses any body as RW 1.0 and
		// answers an RW 2.0 request 204 without the
		// X-Prometheus-Remote-Write-*-Written headers, which rwkit takes as
		// a 415 (as the RW 2.0 spec says) and resends as RW 1.0.
		rw2:            wire.V1,
		fallbackStatus: 204,
		// Both values are stored (no deduplication without
		// -dedup.minScrapeInterval): two raw samples at one timestamp.
		duplicate: answer{read: "2", readQuery: "count_over_time(%s[1s])"},
		// Stored: VictoriaMetrics takes samples in any order.
		outOfOrder: answer{read: "2"},
		// Stored: any label name is taken, valid UTF-8 or not.
		badName: answer{read: "1"},
		badUTF8: answer{read: "1"},
		// Dropped, series and all, over -maxLabelValueLen (4096 bytes),
		// with a warning in its log ("ignoring series with long=... label
		// ... exceeds -maxLabelValueLen").
		longValue: answer{read: ""},
		// Dropped, older than -retentionPeriod (one month), with a warning
		// ("cannot insert row with too small timestamp").
		tooOld: answer{read: ""},
	})
}
