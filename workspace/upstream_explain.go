package workspace

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Explained answers (Upstream.ExplainHeader): the answer to a write the
// upstream refused carries the workspace's analysis in one header, so the
// sender's own error log names the reason and the other writer. The
// analysis then runs before the answer is written, not after; accepted
// writes and 5xx are answered first, as without the option.

// ExplanationHeader holds, on the answer to a write the upstream refused
// (4xx), one line: the reason, and for a collision the series, both values
// and the writer of the value already there, e.g.
//
//	new-value-for-timestamp: up{job="x"} at 1700000000000: value 2 differs from 1 written by (service="a", instance="1", User-Agent Go-http-client/1.1, 127.0.0.1:50312)
//
// Printable ASCII only, at most maxExplanation bytes.
const ExplanationHeader = "X-Rwkit-Explanation"

// maxExplanation bounds ExplanationHeader's value: proxies and clients
// limit a header's size (8 KiB and less), and the sender's log line too.
const maxExplanation = 1024

// finding is what analyse found for one forwarded write.
type finding struct {
	reason string // "" when the upstream did not refuse (4xx)
	source string // where the reason comes from, in words
	first  *Collision
}

// relayExplained answers a write the upstream refused (4xx) under
// Upstream.ExplainHeader: it reads the upstream's body (up to
// maxKeptAnswer), analyses the write before answering, and relays the
// answer whole with the explanation. The analysis is the queue's
// (upstream_analysis.go), in order behind the writes forwarded before, one
// of which may hold the stored value. It reports whether buf was taken
// over.
func (w *Workspace) relayExplained(rw http.ResponseWriter, r *http.Request, id string, buf *[]byte, resp *http.Response) (a upstreamAnswer, taken bool) {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxKeptAnswer))
	var found finding
	a = upstreamAnswer{status: resp.StatusCode, body: string(head), found: &found}
	taken, analysed := w.analyseNow(r, id, buf, a)
	explanation := ""
	if analysed { // else the worker may still be writing found
		explanation = found.explanation()
	}
	relay(rw, resp, head, explanation)
	return a, taken
}

// explanation is the header's line for f, "" when there is nothing to say.
func (f finding) explanation() string {
	if f.reason == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(f.reason)
	if c := f.first; c != nil {
		fmt.Fprintf(&b, ": %s at %d: value %s differs from %s written by ", seriesName(c.Series), c.Timestamp, c.NewValue, c.ExistingValue)
		if c.ExistingWriter != nil {
			b.WriteString(c.ExistingWriter.String())
		} else {
			b.WriteString("a writer this workspace does not remember")
		}
	} else {
		b.WriteString(": " + f.source)
	}
	return headerSafe(b.String(), maxExplanation)
}

// seriesName writes labels as PromQL does: name{label="value", ...}, the
// values quoted in ASCII.
func seriesName(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		if n != "__name__" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(labels["__name__"])
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + "=" + strconv.QuoteToASCII(labels[n]))
	}
	b.WriteByte('}')
	return b.String()
}

// headerSafe is s as one header line of at most max bytes: each byte
// outside printable ASCII (CR and LF included, which would end the header)
// becomes '?', and a longer line is cut, ending in "...".
func headerSafe(s string, max int) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	if len(b) > max {
		b = append(b[:max-3], "..."...)
	}
	return string(b)
}
