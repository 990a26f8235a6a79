package main

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rwkit/rwkit/internal/testcert"
)

// rwkit push and doctor reach a receiver that requires a client
// certificate (mutual TLS) signed by a CA generated here, with
// --tls-ca-file, --tls-cert-file and --tls-key-file; without the client
// certificate the handshake fails and both say so.
func TestMutualTLSFlags(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	caFile := ca.WriteCA(t, dir)
	certFile, keyFile := testcert.WritePair(t, dir, "client", ca.Client(t, "writer"))
	pool := ca.Pool()
	var got atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "writer" {
			got.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server(t, "127.0.0.1")},
		ClientCAs:    pool, ClientAuth: tls.RequireAndVerifyClientCert,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	url := srv.URL + "/api/v1/write"
	file := filepath.Join(dir, "m.txt")
	os.WriteFile(file, []byte("up_probe 1\n"), 0o644)
	tlsFlags := []string{"--tls-ca-file", caFile, "--tls-cert-file", certFile, "--tls-key-file", keyFile}

	stdout, stderr, code := runCLI(t, nil, nil, append([]string{"push", "--url", url, "--file", file, "--service", "s", "--instance", "i", "--timeout", "5s"}, tlsFlags...)...)
	if code != exitOK || got.Load() != 1 {
		t.Fatalf("push with mTLS: exit %d, %d requests with the client certificate\n%s\n%s", code, got.Load(), stdout, stderr)
	}
	stdout, _, code = runCLI(t, nil, nil, append([]string{"doctor", "--url", url, "--timeout", "5s"}, tlsFlags...)...)
	if code != exitOK || !strings.Contains(stdout, "mTLS client certificate "+certFile) {
		t.Errorf("doctor with mTLS: exit %d\n%s", code, stdout)
	}
	before := got.Load()
	stdout, _, code = runCLI(t, nil, nil, "push", "--url", url, "--file", file, "--service", "s", "--instance", "i", "--timeout", "3s", "--tls-ca-file", caFile)
	// TLS 1.3 refuses the missing certificate after the handshake: the
	// client sees the alert ("certificate required") or a reset.
	if code != exitFailed || !strings.Contains(stdout, "rwkit push: failed") || got.Load() != before {
		t.Errorf("push without the client certificate: exit %d, %d requests let through, want exit 1 and none\n%s", code, got.Load()-before, stdout)
	}
}
