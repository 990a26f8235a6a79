package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rwkit/rwkit/internal/testcert"
)

// bytes_compressed is the sum of the request bodies sent, each request
// once: two pushes of the same file report the same figure, and it is what
// the receiver read. Over HTTP/2 (as to AMP) net/http's transport closes a
// request body on its own goroutine, often after the answer has come.
func TestPushBytesCompressedIsWhatWasSent(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE rwkit_bytes_test gauge\n")
	for i := range 50_000 {
		fmt.Fprintf(&b, "rwkit_bytes_test{instance=\"host-%05d:9100\",job=\"bytes\"} %d\n", i, i*7919%100_003)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "m.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		seen   int
		protos = map[string]int{}
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		seen += len(body)
		protos[r.Proto]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	ca := testcert.NewCA(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "127.0.0.1")}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	caFile := ca.WriteCA(t, dir)

	var figures []int
	for run := range 2 {
		mu.Lock()
		seen = 0
		mu.Unlock()
		stdout, stderr, code := runCLI(t, nil, nil, "push", "--url", srv.URL+"/api/v1/push", "--file", file,
			"--timestamp", "1700000000000", "--max-request-bytes", "16384", "--tls-ca-file", caFile, "--output", "json")
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		var rep struct {
			Requests        int `json:"requests"`
			BytesCompressed int `json:"bytes_compressed"`
		}
		if err := unmarshalResult([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := seen
		mu.Unlock()
		if protos["HTTP/2.0"] != rep.Requests*(run+1) {
			t.Fatalf("run %d: requests by protocol %v, want every one of %d over HTTP/2", run, protos, rep.Requests)
		}
		if rep.BytesCompressed != got {
			t.Errorf("run %d: bytes_compressed %d over %d requests; the receiver read %d bytes", run, rep.BytesCompressed, rep.Requests, got)
		}
		figures = append(figures, rep.BytesCompressed)
	}
	if figures[0] != figures[1] {
		t.Errorf("bytes_compressed differs between two pushes of the same file: %d, %d", figures[0], figures[1])
	}
}
