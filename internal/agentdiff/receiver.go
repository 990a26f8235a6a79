package agentdiff

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rwkit/rwkit/wire"
)

// maxBody bounds a remote-write body, compressed and decoded; a scraper in
// this test sends a few kilobytes.
const maxBody = 32 << 20

// Sample is one float or native-histogram sample as it reached a Receiver.
type Sample struct {
	Labels    []wire.Label // as sent
	Key       string       // Labels rendered as name{a="b",...}, sorted
	Value     float64
	Timestamp int64
	// Histogram is set for a native-histogram sample (Value is then 0).
	Histogram *wire.Histogram
	// Exemplar marks an exemplar of the series Labels; Key is then the
	// series key, " # " and the exemplar's labels.
	Exemplar bool
	// Request is the index of the request that carried the sample.
	Request int
}

// Request is the envelope of one remote write.
type Request struct {
	Version  wire.Version
	Samples  int
	Metadata int
}

// Receiver is a remote-write endpoint that records every sample and
// metadata entry it is sent, in arrival order. It decodes with rwkit's own
// wire package: RW 1.0 bodies are answered 200 as Prometheus and Cortex do;
// RW 2.0 bodies 204 with the X-Prometheus-Remote-Write-*-Written headers
// (https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/#required-written-response-headers).
// A body it cannot read is answered 400 and recorded in Errors.
type Receiver struct {
	// URL is the endpoint to write to.
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	samples  []Sample
	metadata map[string]map[string]bool // family -> "type|help|unit"
	requests []Request
	errors   []string
	counts   map[string]int          // series key -> samples received
	labels   map[string][]wire.Label // series key -> labels
	refusals []int                   // statuses of the next requests (RefuseFirst)
	refused  int
}

// NewReceiver starts a Receiver that lives until the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{metadata: map[string]map[string]bool{}, counts: map[string]int{}, labels: map[string][]wire.Label{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serveHTTP))
	r.URL = r.srv.URL + "/api/v1/write"
	t.Cleanup(r.srv.Close)
	return r
}

// RefuseFirst makes the receiver answer its next len(statuses) requests
// with those statuses (5xx: the sender is to retry), recording nothing of
// them.
func (r *Receiver) RefuseFirst(statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refusals = append(r.refusals, statuses...)
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "remote write takes POST", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	var refuse int
	if len(r.refusals) > 0 {
		refuse, r.refusals = r.refusals[0], r.refusals[1:]
		r.refused++
	}
	r.mu.Unlock()
	if refuse != 0 {
		_, _ = io.Copy(io.Discard, req.Body)
		http.Error(w, "refused by the test", refuse)
		return
	}
	compressed, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		r.refuse(w, fmt.Sprintf("read body: %v", err))
		return
	}
	raw, err := wire.Decompress(nil, compressed, maxBody)
	if err != nil {
		r.refuse(w, fmt.Sprintf("decompress %d bytes (Content-Encoding %q): %v", len(compressed), req.Header.Get("Content-Encoding"), err))
		return
	}
	v := wire.V1
	if strings.Contains(req.Header.Get("Content-Type"), "io.prometheus.write.v2.Request") {
		v = wire.V2
	}
	var wr wire.WriteRequest
	if v == wire.V2 {
		err = wire.DecodeRequestV2(raw, &wr)
	} else {
		err = wire.DecodeWriteRequest(raw, &wr)
	}
	if err != nil {
		r.refuse(w, fmt.Sprintf("decode RW %s: %v", v, err))
		return
	}
	samples, histograms, exemplars := r.record(v, &wr)
	if v == wire.V2 {
		wire.WriteStats{Samples: samples, Histograms: histograms, Exemplars: exemplars}.SetHeaders(w.Header())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *Receiver) refuse(w http.ResponseWriter, msg string) {
	r.mu.Lock()
	r.errors = append(r.errors, msg)
	r.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (r *Receiver) record(v wire.Version, wr *wire.WriteRequest) (samples, histograms, exemplars int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqIdx := len(r.requests)
	var md []wire.Metadata
	md = append(md, wr.Metadata...)
	for i := range wr.Series {
		ts := &wr.Series[i]
		key := SeriesKey(ts.Labels)
		for _, s := range ts.Samples {
			r.samples = append(r.samples, Sample{Labels: ts.Labels, Key: key, Value: s.Value, Timestamp: s.Timestamp, Request: reqIdx})
		}
		// An exemplar is kept as a sample of a pseudo-series named after
		// its series and its own labels, so that it is aligned and compared
		// like one.
		for _, ex := range ts.Exemplars {
			r.samples = append(r.samples, Sample{Labels: ts.Labels, Key: key + " # " + SeriesKey(ex.Labels), Value: ex.Value, Timestamp: ex.Timestamp, Request: reqIdx, Exemplar: true})
		}
		for j := range ts.Histograms {
			h := ts.Histograms[j]
			r.samples = append(r.samples, Sample{Labels: ts.Labels, Key: key, Timestamp: h.Timestamp, Histogram: &h, Request: reqIdx})
		}
		n := len(ts.Samples) + len(ts.Histograms)
		r.counts[key] += n
		r.labels[key] = ts.Labels
		samples += len(ts.Samples)
		histograms += len(ts.Histograms)
		exemplars += len(ts.Exemplars)
		if v == wire.V2 && (ts.Metadata != wire.Metadata{}) {
			md = append(md, ts.Metadata)
		}
	}
	for _, m := range md {
		set := r.metadata[m.FamilyName]
		if set == nil {
			set = map[string]bool{}
			r.metadata[m.FamilyName] = set
		}
		set[metadataString(m)] = true
	}
	r.requests = append(r.requests, Request{Version: v, Samples: samples + histograms, Metadata: len(md)})
	return samples, histograms, exemplars
}

func metadataString(m wire.Metadata) string {
	return fmt.Sprintf("type=%s help=%q unit=%q", m.Type.String(), m.Help, m.Unit)
}

// Samples returns a copy of every sample received so far, in arrival order.
func (r *Receiver) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}

// Metadata returns, for each metric family, the distinct metadata entries
// received for it ("type=counter help=\"...\" unit=\"\""), sorted.
func (r *Receiver) Metadata() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]string, len(r.metadata))
	for fam, set := range r.metadata {
		out[fam] = sortedKeys(set)
	}
	return out
}

// Requests returns the envelope of every request received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Refused returns how many requests RefuseFirst refused.
func (r *Receiver) Refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// Errors returns what was wrong with each request answered 400.
func (r *Receiver) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// CountWhere returns how many samples received so far belong to series
// whose labels satisfy match.
func (r *Receiver) CountWhere(match func(labels map[string]string) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for key, ls := range r.labels {
		if match(wire.LabelMap(ls)) {
			n += r.counts[key]
		}
	}
	return n
}
