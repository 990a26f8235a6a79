package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rwkit/rwkit/internal/testcert"
	"github.com/rwkit/rwkit/wire"
)

// serve --upstream-tls-* reaches an upstream that requires a client
// certificate, its own certificate issued for a name other than the
// URL's host (--upstream-tls-server-name). Without the client
// certificate the sender gets 502 naming the TLS failure, and nothing
// reaches the upstream's handler.
func TestServeUpstreamMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	caFile := ca.WriteCA(t, dir)
	certFile, keyFile := testcert.WritePair(t, dir, "client", ca.Client(t, "the-workspace"))
	var reached atomic.Int32
	var client atomic.Value
	// tls12 caps the upstream at TLS 1.2, where a missing client
	// certificate fails the handshake itself; TLS 1.3 refuses it after
	// the handshake, and the client sees the alert or, as often, a reset.
	upstream := func(tls12 bool) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			reached.Add(1)
			client.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
			rw.WriteHeader(http.StatusNoContent)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "upstream.test")}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
		if tls12 {
			srv.TLS.MaxVersion = tls.VersionTLS12
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL + "/api/v1/push"
	}
	upURL, upURL12 := upstream(false), upstream(true)
	body := wire.Compress(nil, wire.AppendWriteRequest(nil, &wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels: []wire.Label{{Name: "__name__", Value: "up"}}, Samples: []wire.Sample{{Value: 1, Timestamp: 1000}}}}}))
	send := func(addr string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/push", bytes.NewReader(body))
		req.Header.Set("Content-Type", wire.V1.ContentType())
		req.Header.Set("Content-Encoding", "snappy")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	addr, _ := startServe(t, "--data", t.TempDir(), "--upstream", upURL, "--upstream-tls-ca-file", caFile,
		"--upstream-tls-cert-file", certFile, "--upstream-tls-key-file", keyFile, "--upstream-tls-server-name", "upstream.test")
	if code, b := send(addr); code != http.StatusNoContent || reached.Load() != 1 || client.Load() != "the-workspace" {
		t.Fatalf("with the client certificate: %d %q, %d requests reached the upstream (client %v), want its 204 and one from the-workspace", code, b, reached.Load(), client.Load())
	}

	for _, tc := range []struct {
		name string
		url  string
		args []string
		says string
	}{
		{"no client certificate", upURL12, []string{"--upstream-tls-ca-file", caFile, "--upstream-tls-server-name", "upstream.test"}, "remote error: tls: "},
		{"certificate for another name", upURL, []string{"--upstream-tls-ca-file", caFile, "--upstream-tls-cert-file", certFile, "--upstream-tls-key-file", keyFile}, "tls: failed to verify certificate: x509"},
		{"unknown CA", upURL, []string{"--upstream-tls-cert-file", certFile, "--upstream-tls-key-file", keyFile, "--upstream-tls-server-name", "upstream.test"}, "x509: certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := startServe(t, append([]string{"--data", t.TempDir(), "--upstream", tc.url}, tc.args...)...)
			before := reached.Load()
			code, b := send(addr)
			if code != http.StatusBadGateway || !strings.Contains(b, tc.says) || !strings.Contains(b, "nothing of this request was stored or acknowledged") {
				t.Errorf("answer %d %q, want 502 saying %q and that nothing was acknowledged", code, b, tc.says)
			}
			if n := reached.Load() - before; n != 0 {
				t.Errorf("%d requests reached the upstream's handler, want none", n)
			}
		})
	}
}

func TestServeUpstreamTLSUsage(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	caFile := ca.WriteCA(t, dir)
	certFile, keyFile := testcert.WritePair(t, dir, "client", ca.Client(t, "c"))
	for _, tc := range []struct {
		args       []string
		flag, says string
	}{
		{[]string{"--upstream-tls-ca-file", caFile}, "--upstream-tls-ca-file", "goes with --upstream"},
		{[]string{"--upstream-tls-server-name", "x"}, "--upstream-tls-server-name", "goes with --upstream"},
		{[]string{"--upstream", "https://127.0.0.1:1/api/v1/push", "--upstream-tls-cert-file", certFile}, "--upstream-tls-key-file", "go together"},
		{[]string{"--upstream", "https://127.0.0.1:1/api/v1/push", "--upstream-tls-ca-file", certFile + ".missing"}, "--upstream-tls-ca-file", "no such file"},
		{[]string{"--upstream", "https://127.0.0.1:1/api/v1/push", "--upstream-tls-ca-file", keyFile}, "--upstream-tls-ca-file", "no PEM certificate"},
		{[]string{"--upstream", "https://127.0.0.1:1/api/v1/push", "--upstream-tls-cert-file", caFile, "--upstream-tls-key-file", caFile}, "--upstream-tls-cert-file", "--upstream-tls-key-file " + caFile},
		{[]string{"--upstream", "http://127.0.0.1:1/api/v1/push", "--upstream-tls-ca-file", caFile}, "--upstream", "need an https://"},
	} {
		var errOut strings.Builder
		code := run(context.Background(), append([]string{"serve", "--data", t.TempDir()}, tc.args...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errOut, getenv: func(string) string { return "" }})
		if msg := errOut.String(); code != exitUsage || !strings.Contains(msg, tc.flag) || !strings.Contains(msg, tc.says) {
			t.Errorf("serve %v: exit %d, want %d naming %s and saying %q:\n%s", tc.args, code, exitUsage, tc.flag, tc.says, msg)
		}
	}
}
