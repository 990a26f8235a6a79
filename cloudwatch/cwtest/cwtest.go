// Package cwtest is a stand-in for the CloudWatch API in tests: an
// httptest server that speaks the protocol aws-sdk-go-v2's cloudwatch
// client (v1.75.x) uses, Smithy RPC v2 CBOR
// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html):
//
//	POST /service/GraniteServiceVersion20100801/operation/<Operation>
//	Smithy-Protocol: rpc-v2-cbor, Content-Type: application/cbor
//
// Responses are kept readable in testdata as JSON in the shapes the AWS CLI
// prints (`aws cloudwatch list-metrics --output json`): timestamps are
// RFC 3339 strings under the members the API types as timestamps, and are
// sent as CBOR tag 1 (epoch seconds). A response file for operation Op is
// Op.json, or Op.<NextToken>.json for the page a request's NextToken asks
// for. A file whose object has "__status" answers with that HTTP status and
// the rest of the object ("__type", "message") as the error body, the way
// CloudWatch's query-compatible errors arrive (with X-Amzn-Query-Error from
// "__query_error").
package cwtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"
)

// servicePath is the RPC v2 path prefix of CloudWatch's operations.
const servicePath = "/service/GraniteServiceVersion20100801/operation/"

// timestampMembers are the members CloudWatch's model types as timestamps.
var timestampMembers = map[string]bool{
	"Timestamps": true, "Timestamp": true, "StartTime": true, "EndTime": true,
}

// Request is one API call the server received.
type Request struct {
	Operation string
	Header    http.Header
	// Body is the decoded CBOR input: maps, lists, strings, int64 or
	// float64 numbers, bools, and time.Time for timestamps.
	Body map[string]any
}

// Server is a running stand-in for CloudWatch.
type Server struct {
	URL string

	dir  string
	mu   sync.Mutex
	reqs []Request
}

// NewServer serves the response files in dir until the test ends.
func NewServer(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{dir: dir}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(t, w, r) }))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the calls received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Client returns a CloudWatch client pointed at the server, with static
// credentials: it never reads the default chain nor reaches AWS.
func (s *Server) Client() *awscw.Client {
	return awscw.NewFromConfig(Config(), func(o *awscw.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// Config is an aws.Config with a region and static test credentials.
func Config() aws.Config {
	return aws.Config{
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
	}
}

func (s *Server) serve(t testing.TB, w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, servicePath)
	if !ok || r.Method != http.MethodPost || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("cwtest: unexpected request %s %s (Smithy-Protocol %q)", r.Method, r.URL.Path, r.Header.Get("Smithy-Protocol"))
		http.Error(w, "not an RPC v2 CBOR call", http.StatusNotFound)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || !strings.Contains(r.Header.Get("Authorization"), "/monitoring/aws4_request") {
		t.Errorf("cwtest: %s not SigV4-signed for monitoring: %q", op, r.Header.Get("Authorization"))
	}
	raw, _ := io.ReadAll(r.Body)
	body := map[string]any{}
	if len(raw) > 0 {
		v, err := cbor.Decode(raw)
		if err != nil {
			t.Errorf("cwtest: %s: decode CBOR body: %v", op, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, _ = fromCBOR(v).(map[string]any)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Operation: op, Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()

	name := op + ".json"
	if tok, _ := body["NextToken"].(string); tok != "" {
		name = op + "." + tok + ".json"
	}
	file, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		t.Errorf("cwtest: no response for %s: %v", op, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := ToCBOR(file)
	if err != nil {
		t.Errorf("cwtest: %s: %v", name, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	status := http.StatusOK
	if m, ok := resp.(cbor.Map); ok {
		if st, ok := m["__status"].(cbor.Uint); ok {
			status = int(st)
			delete(m, "__status")
		}
		if qe, ok := m["__query_error"].(cbor.String); ok {
			w.Header().Set("X-Amzn-Query-Error", string(qe))
			delete(m, "__query_error")
		}
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	w.Write(cbor.Encode(resp))
}

// ToCBOR converts a JSON response document into the CBOR value CloudWatch
// would send: whole numbers as integers, other numbers as float64, and the
// timestamp members' RFC 3339 strings as tag 1 epoch seconds.
func ToCBOR(doc []byte) (cbor.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return toCBOR(v, false)
}

func toCBOR(v any, isTime bool) (cbor.Value, error) {
	switch v := v.(type) {
	case nil:
		return &cbor.Nil{}, nil
	case bool:
		return cbor.Bool(v), nil
	case string:
		if !isTime {
			return cbor.String(v), nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Errorf("timestamp %q: %w", v, err)
		}
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			if i < 0 {
				return cbor.NegInt(uint64(-i)), nil
			}
			return cbor.Uint(uint64(i)), nil
		}
		f, err := v.Float64()
		return cbor.Float64(f), err
	case []any:
		l := cbor.List{}
		for _, e := range v {
			c, err := toCBOR(e, isTime)
			if err != nil {
				return nil, err
			}
			l = append(l, c)
		}
		return l, nil
	case map[string]any:
		m := cbor.Map{}
		for k, e := range v {
			c, err := toCBOR(e, timestampMembers[k])
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

func fromCBOR(v cbor.Value) any {
	switch v := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = fromCBOR(e)
		}
		return m
	case cbor.List:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = fromCBOR(e)
		}
		return l
	case cbor.String:
		return string(v)
	case cbor.Uint:
		return int64(v)
	case cbor.NegInt:
		return -int64(v)
	case cbor.Float32:
		return float64(v)
	case cbor.Float64:
		return float64(v)
	case cbor.Bool:
		return bool(v)
	case *cbor.Tag:
		if v.ID == 1 {
			var secs float64
			switch n := v.Value.(type) {
			case cbor.Uint:
				secs = float64(n)
			case cbor.Float64:
				secs = float64(n)
			case cbor.Float32:
				secs = float64(n)
			}
			ms := int64(math.Round(secs * 1000))
			return time.UnixMilli(ms).UTC()
		}
		return fromCBOR(v.Value)
	}
	return v
}
