package workspace_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/wire"
	"github.com/rwkit/rwkit/workspace"
)

// TestConcurrentWritesLimit holds one write in flight (its body not yet
// sent) and checks that the next is answered 503 with Retry-After, and
// that writes are taken again once it is done.
func TestConcurrentWritesLimit(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxConcurrentWrites(1))
	release := holdWriteSlot(t, e)
	r := e.push(t, "/api/v1/write", rw1Body(series(1, nowMs(), "__name__", "second")))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || !strings.Contains(r.body, "too many concurrent remote writes (limit 1)") {
		t.Fatalf("second write: %d Retry-After %q %q, want 503 with Retry-After 1", r.status, r.header.Get("Retry-After"), r.body)
	}
	release()
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, nowMs(), "__name__", "third"))); r.status != http.StatusOK {
		t.Fatalf("write after the slot was freed: %d %s", r.status, r.body)
	}
}

// holdWriteSlot starts a write that holds one of e's write slots until
// release, which checks that it was then stored. The write is served
// in-process with a body that arrives in two parts, so it
// deterministically holds the slot (it is reading its body) while other
// writes arrive over HTTP. Going through a client made the test depend on
// when net/http sends a streamed request's headers.
func holdWriteSlot(t *testing.T, e *env) (release func()) {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", pr)
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ws.Handler().ServeHTTP(rec, req)
	}()
	body := rw1Body(series(1, nowMs(), "__name__", "held"))
	// pw.Write returns once the handler has read the byte: it holds the slot.
	if _, err := pw.Write(body[:1]); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := pw.Write(body[1:]); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		<-done
		if rec.Code != http.StatusOK {
			t.Fatalf("the write that held the slot: %d %s", rec.Code, rec.Body.String())
		}
	}
}

// Each limit's refusal names the setting the program named
// (WithLimitNames), and no Go identifier then; without names, the Option.
func TestLimitNames(t *testing.T) {
	ts := nowMs()
	emptySeries := wire.Compress(nil, bytes.Repeat([]byte{0x0a, 0x00}, 500)) // 1,000 bytes, 76 KB decoded
	names := workspace.LimitNames{
		MaxTenants:          "prog --max-tenants",
		MaxRequestBytes:     "prog --max-request-bytes",
		MaxDecodedBytes:     "prog --max-decoded-bytes",
		MaxSeriesPerRequest: "prog --max-series",
		MaxConcurrentWrites: "prog --max-writes",
	}
	for _, tc := range []struct {
		name         string
		opts         []workspace.Option
		send         func(t *testing.T, e *env) response
		status       int
		option, flag string
	}{
		{"request bytes, declared", []workspace.Option{workspace.WithMaxRequestBytes(1<<10, 1<<20)},
			func(t *testing.T, e *env) response { return e.push(t, "/api/v1/write", make([]byte, 2<<10)) },
			413, "workspace.WithMaxRequestBytes", names.MaxRequestBytes},
		{"request bytes, read", []workspace.Option{workspace.WithMaxRequestBytes(1<<10, 1<<20)},
			func(t *testing.T, e *env) response {
				// A reader of unknown length: sent chunked, refused once read past the limit.
				return e.post(t, "/api/v1/write", io.LimitReader(bytes.NewReader(make([]byte, 2<<10)), 2<<10))
			},
			413, "workspace.WithMaxRequestBytes", names.MaxRequestBytes},
		{"decoded bytes", []workspace.Option{workspace.WithMaxRequestBytes(1<<20, 4<<10)},
			func(t *testing.T, e *env) response {
				return e.push(t, "/api/v1/write", wire.Compress(nil, make([]byte, 8<<10)))
			},
			413, "workspace.WithMaxRequestBytes", names.MaxDecodedBytes},
		{"decoded memory", []workspace.Option{workspace.WithMaxRequestBytes(1<<20, 1<<10)},
			func(t *testing.T, e *env) response { return e.push(t, "/api/v1/write", emptySeries) },
			413, "workspace.WithMaxRequestBytes", names.MaxDecodedBytes},
		{"series per request", []workspace.Option{workspace.WithMaxSeriesPerRequest(1)},
			func(t *testing.T, e *env) response {
				return e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b")))
			},
			413, "workspace.WithMaxSeriesPerRequest", names.MaxSeriesPerRequest},
		{"concurrent writes", []workspace.Option{workspace.WithMaxConcurrentWrites(1)},
			func(t *testing.T, e *env) response {
				defer holdWriteSlot(t, e)()
				return e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a")))
			},
			503, "workspace.WithMaxConcurrentWrites", names.MaxConcurrentWrites},
		{"request bytes, signed", []workspace.Option{workspace.WithMaxRequestBytes(1<<10, 1<<20), workspace.WithSigV4Auth(testAccessKey, testSecret, "us-west-2")},
			func(t *testing.T, e *env) response {
				// The signature covers the body, so SigV4 reads it first.
				tr, err := sigv4.New("us-west-2", credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := (&http.Client{Transport: tr}).Post(e.srv.URL+"/api/v1/write", "application/x-protobuf", bytes.NewReader(make([]byte, 2<<10)))
				if err != nil {
					t.Fatal(err)
				}
				return answer(resp)
			},
			413, "workspace.WithMaxRequestBytes", names.MaxRequestBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, named := range []bool{false, true} {
				opts := tc.opts
				if named {
					opts = append(opts[:len(opts):len(opts)], workspace.WithLimitNames(names))
				}
				r := tc.send(t, newEnv(t, "amp", opts...))
				if r.status != tc.status {
					t.Fatalf("named %v: %d %q, want %d", named, r.status, r.body, tc.status)
				}
				switch {
				case !named && !strings.Contains(r.body, "set by "+tc.option):
					t.Errorf("without names: %q does not name %s", r.body, tc.option)
				case named && (!strings.Contains(r.body, "set by "+tc.flag) || strings.Contains(r.body, "workspace.") || strings.Contains(r.body, "With")):
					t.Errorf("named: %q does not name %s alone", r.body, tc.flag)
				}
			}
		})
	}
}

func TestMaxSeriesPerRequestOption(t *testing.T) {
	e := newEnv(t, "amp", workspace.WithMaxSeriesPerRequest(2))
	ts := nowMs()
	if r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"))); r.status != 200 {
		t.Fatalf("2 series: %d %s", r.status, r.body)
	}
	r := e.push(t, "/api/v1/write", rw1Body(series(1, ts, "__name__", "a"), series(1, ts, "__name__", "b"), series(1, ts, "__name__", "c")))
	if r.status != 413 || !strings.Contains(r.body, "more than 2 series") {
		t.Fatalf("3 series: %d %s", r.status, r.body)
	}
	for _, o := range []workspace.Option{workspace.WithMaxSeriesPerRequest(0), workspace.WithMaxConcurrentWrites(-1)} {
		if _, err := workspace.Open(t.TempDir(), o); err == nil {
			t.Error("a non-positive limit was accepted")
		}
	}
}
