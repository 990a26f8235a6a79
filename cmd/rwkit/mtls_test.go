package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rwkit push and doctor reach a receiver that requires a client
// certificate (mutual TLS) signed by a CA generated here, with
// --tls-ca-file, --tls-cert-file and --tls-key-file; without the client
// certificate the handshake fails and both say so.
func TestMutualTLSFlags(t *testing.T) {
	dir := t.TempDir()
	caKey, ca := genCert(t, nil, nil, "rwkit test CA", true, 0)
	srvKey, srvCert := genCert(t, ca, caKey, "127.0.0.1", false, x509.ExtKeyUsageServerAuth)
	cliKey, cliCert := genCert(t, ca, caKey, "writer", false, x509.ExtKeyUsageClientAuth)
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw)
	certFile := writePEM(t, dir, "client.pem", "CERTIFICATE", cliCert.Raw)
	keyDER, _ := x509.MarshalECPrivateKey(cliKey)
	keyFile := writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	var got atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "writer" {
			got.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
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

func genCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, isCA bool, usage x509.ExtKeyUsage) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: isCA,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		if ip := net.ParseIP(name); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
