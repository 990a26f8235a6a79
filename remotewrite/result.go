package remotewrite

import (
	"fmt"
	"time"

	"github.com/rwkit/rwkit/wire"
)

// Counts counts what one request, or a whole write, carried. A series cut
// into chunks (see Client.Write) counts once per chunk: Series is the number
// of TimeSeries messages.
type Counts struct {
	Series     int
	Samples    int
	Histograms int
	Exemplars  int
}

func (c *Counts) add(o Counts) {
	c.Series += o.Series
	c.Samples += o.Samples
	c.Histograms += o.Histograms
	c.Exemplars += o.Exemplars
}

// points is what the sample limit counts: samples, histogram samples and
// exemplars.
func (c Counts) points() int { return c.Samples + c.Histograms + c.Exemplars }

// Result describes one logical write: what was delivered (answered with a
// 2xx) and how. Write returns a Result even when it fails, describing the
// requests delivered before the failure.
type Result struct {
	// Version is the protocol the last request used. It is wire.V1 after a
	// fallback from RW 2.0 (see Client.Version).
	Version wire.Version
	// Requests is the number of HTTP requests delivered (not attempts).
	Requests int
	// Counts is what the delivered requests carried.
	Counts
	// Metadata is the number of RW 1.0 metadata entries delivered.
	Metadata int
	// BytesCompressed and BytesUncompressed sum the delivered bodies, each
	// once however many attempts it took: what the receiver read.
	BytesCompressed   int
	BytesUncompressed int
	// Attempts counts every HTTP attempt, including retries and the
	// attempt answered with 415 before a fallback.
	Attempts int
	// Duration is the wall time of the whole write, waits included.
	Duration time.Duration
	// Written sums the X-Prometheus-Remote-Write-*-Written headers of the
	// delivered RW 2.0 requests. Written.Series is always 0 (receivers do
	// not report it).
	Written Counts
	// WrittenRequests is the number of delivered RW 2.0 requests whose
	// response carried the Written headers.
	WrittenRequests int
	// Unconfirmed is what delivered RW 2.0 requests sent minus what their
	// 2xx responses said was written. The RW 2.0 spec forbids a 2xx when
	// anything was not written, so a non-zero value means the receiver is
	// not following it; the data may be lost.
	Unconfirmed Counts
}

// String is a one-line summary.
func (r *Result) String() string {
	s := fmt.Sprintf("%d requests (RW %s), %d series, %d samples, %d histograms, %d exemplars, %s snappy (%s raw), %d attempts in %s",
		r.Requests, r.Version, r.Series, r.Samples, r.Histograms, r.Exemplars,
		formatBytes(r.BytesCompressed), formatBytes(r.BytesUncompressed), r.Attempts, r.Duration.Round(time.Millisecond))
	if u := r.Unconfirmed; u.points() > 0 {
		s += fmt.Sprintf("; receiver answered 2xx but did not confirm %d samples, %d histograms, %d exemplars", u.Samples, u.Histograms, u.Exemplars)
	}
	return s
}

// formatBytes renders n as B, KiB or MiB with one decimal.
func formatBytes(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
