package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rwkit/rwkit/internal/version"
)

// Result types of the Prometheus query API
// (https://prometheus.io/docs/prometheus/latest/querying/api/#expression-query-result-formats).
const (
	TypeVector = "vector"
	TypeScalar = "scalar"
	TypeMatrix = "matrix"
	TypeString = "string"
)

// Sample is one series of an instant vector with its value, or the single
// value of a scalar (no labels).
type Sample struct {
	Labels    map[string]string `json:"labels"`
	Value     float64           `json:"value"`
	Timestamp time.Time         `json:"timestamp"`
}

// Result is what an instant query returned.
type Result struct {
	// Type is TypeVector or TypeScalar.
	Type    string   `json:"type"`
	Samples []Sample `json:"samples"`
	// Warnings are the API's warnings (e.g. a partial response), verbatim.
	Warnings []string `json:"warnings,omitempty"`
}

// APIError is a query the API refused or could not answer: a non-2xx status
// or a body with "status": "error". ErrorType and Err are the API's
// errorType and error fields (e.g. bad_data, "1:7: parse error: ..."); AMP's
// gateway answers 403 and others with {"message": ...}, kept in Err.
type APIError struct {
	StatusCode int
	Status     string
	ErrorType  string
	Err        string
	// Body is the start of the response body when it was not Prometheus
	// API JSON.
	Body string
}

func (e *APIError) Error() string {
	msg := e.Err
	if e.ErrorType != "" {
		msg = e.ErrorType + ": " + msg
	}
	if msg == "" {
		msg = e.Body
	}
	if msg == "" {
		msg = "(empty body)"
	}
	return fmt.Sprintf("query API answered %s: %s", e.Status, msg)
}

// ErrRangeVector is returned for a query that yields a range vector: verify
// checks instant results.
var ErrRangeVector = errors.New("the query returns a range vector (matrix); verify checks instant results: drop the [range] or wrap it, e.g. last_over_time(x[5m])")

// maxErrorBody bounds what an error keeps of a body that is not API JSON.
const maxErrorBody = 512

// Query runs the instant query at time at against the Prometheus query API
// whose base URL is base (the part before /api/v1/query; a base that already
// ends in /api/v1/query is accepted). A zero at lets the server use its
// clock. header is added to the request (e.g. X-Scope-OrgID for a Cortex
// tenant); it may be nil. Authentication, such as SigV4 for AMP, is the
// client's transport's job.
//
// The query goes as a form-encoded POST; a server that answers 405 to POST
// is asked again with GET.
func Query(ctx context.Context, client *http.Client, base, query string, at time.Time, header http.Header) (*Result, error) {
	if client == nil {
		client = http.DefaultClient
	}
	endpoint, err := QueryEndpoint(base)
	if err != nil {
		return nil, err
	}
	form := url.Values{"query": {query}}
	if !at.IsZero() {
		form.Set("time", formatTime(at))
	}
	resp, err := do(ctx, client, http.MethodPost, endpoint, form, header)
	if err == nil && resp.StatusCode == http.StatusMethodNotAllowed {
		resp.Body.Close()
		resp, err = do(ctx, client, http.MethodGet, endpoint, form, header)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	return decode(resp)
}

// QueryEndpoint returns the instant-query URL for an API base URL.
func QueryEndpoint(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("query URL %q: want an absolute http(s) URL, the part before /api/v1/query (e.g. http://127.0.0.1:9090)", base)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1/query") + "/api/v1/query"
	u.RawPath = ""
	return u.String(), nil
}

func do(ctx context.Context, client *http.Client, method, endpoint string, form url.Values, header http.Header) (*http.Response, error) {
	var body io.Reader
	target := endpoint
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", version.UserAgent())
	}
	return client.Do(req)
}

// apiResponse is the Prometheus API envelope; Message is what AWS gateways
// put in their own errors.
type apiResponse struct {
	Status    string   `json:"status"`
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Message   string   `json:"message"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func decode(resp *http.Response) (*Result, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read query response (%s): %w", resp.Status, err)
	}
	var ar apiResponse
	jsonErr := json.Unmarshal(raw, &ar)
	if resp.StatusCode/100 != 2 || jsonErr != nil || ar.Status != "success" {
		e := &APIError{StatusCode: resp.StatusCode, Status: resp.Status, ErrorType: ar.ErrorType, Err: ar.Error}
		if e.Err == "" {
			e.Err = ar.Message
		}
		if e.Err == "" && e.ErrorType == "" {
			e.Body = truncate(strings.TrimSpace(string(raw)), maxErrorBody)
			if resp.StatusCode/100 == 2 && jsonErr != nil {
				e.Err = fmt.Sprintf("not Prometheus API JSON (%v)", jsonErr)
			}
		}
		return nil, e
	}
	res := &Result{Type: ar.Data.ResultType, Warnings: ar.Warnings}
	switch ar.Data.ResultType {
	case TypeVector:
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  point             `json:"value"`
		}
		if err := json.Unmarshal(ar.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		res.Samples = make([]Sample, 0, len(vec))
		for _, s := range vec {
			if s.Metric == nil {
				s.Metric = map[string]string{}
			}
			res.Samples = append(res.Samples, Sample{Labels: s.Metric, Value: s.Value.v, Timestamp: s.Value.t})
		}
		sortSamples(res.Samples)
	case TypeScalar:
		var p point
		if err := json.Unmarshal(ar.Data.Result, &p); err != nil {
			return nil, fmt.Errorf("decode scalar: %w", err)
		}
		res.Samples = []Sample{{Labels: map[string]string{}, Value: p.v, Timestamp: p.t}}
	case TypeMatrix:
		return nil, ErrRangeVector
	default:
		return nil, fmt.Errorf("the query returns a %q result; verify checks instant vectors and scalars", ar.Data.ResultType)
	}
	return res, nil
}

// point is the API's [unix seconds, "value"] pair.
type point struct {
	t time.Time
	v float64
}

func (p *point) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("sample %s: want [time, \"value\"]", truncate(string(b), 64))
	}
	var ts float64
	if err := json.Unmarshal(pair[0], &ts); err != nil {
		return fmt.Errorf("sample time %s: %w", pair[0], err)
	}
	var vs string
	if err := json.Unmarshal(pair[1], &vs); err != nil {
		return fmt.Errorf("sample value %s: want a string", pair[1])
	}
	v, err := strconv.ParseFloat(vs, 64) // also NaN, +Inf, -Inf as Prometheus writes them
	if err != nil {
		return fmt.Errorf("sample value %q: %w", vs, err)
	}
	p.t = time.UnixMilli(int64(math.Round(ts * 1000))).UTC()
	p.v = v
	return nil
}

// sortSamples orders series by their label sets so output is stable: the
// API's order is not.
func sortSamples(s []Sample) {
	keys := make([]string, len(s))
	for i := range s {
		keys[i] = LabelString(s[i].Labels)
	}
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]Sample, len(s))
	for i, j := range idx {
		sorted[i] = s[j]
	}
	copy(s, sorted)
}

// LabelString formats labels as PromQL does: name{a="1", b="2"}, with the
// metric name in front when there is one; {} for none.
func LabelString(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		if k != "__name__" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(labels["__name__"])
	if len(names) == 0 && b.Len() > 0 {
		return b.String()
	}
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// MarshalJSON writes the value as a JSON number, or as the string "NaN",
// "+Inf" or "-Inf" (Prometheus' spelling), which JSON numbers cannot hold.
func (s Sample) MarshalJSON() ([]byte, error) {
	type plain struct {
		Labels    map[string]string `json:"labels"`
		Value     any               `json:"value"`
		Timestamp time.Time         `json:"timestamp"`
	}
	var v any = s.Value
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		v = strconv.FormatFloat(s.Value, 'g', -1, 64)
		if math.IsInf(s.Value, 1) {
			v = "+Inf"
		}
	}
	return json.Marshal(plain{s.Labels, v, s.Timestamp})
}
