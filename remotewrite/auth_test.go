package remotewrite

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/testcert"
	"github.com/rwkit/rwkit/wire"
)

// authServer records the Authorization and X-Scope-OrgID of each request.
type authServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newAuthServer(t *testing.T) *authServer {
	s := &authServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get("Authorization")+"|"+r.Header.Get("X-Scope-OrgID"))
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeOnce(t *testing.T, url string, rt http.RoundTripper) error {
	t.Helper()
	c := mustNew(t, url, WithTransport(rt), WithRetry(time.Millisecond, time.Millisecond, 1))
	_, err := c.Write(context.Background(), &wire.WriteRequest{Series: series("up", 1, 1)})
	return err
}

// A bearer token file is read at every request: a rotated token is sent
// from the next request on, without a restart.
func TestAuthBearerTokenRotates(t *testing.T) {
	srv := newAuthServer(t)
	dir := t.TempDir()
	token := writeFile(t, dir, "token", "first-token\n")
	rt, err := Auth{BearerTokenFile: token, Headers: map[string]string{"X-Scope-OrgID": "team-a"}}.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOnce(t, srv.URL, rt); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "token", "second-token")
	if err := writeOnce(t, srv.URL, rt); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer first-token|team-a", "Bearer second-token|team-a"}
	if strings.Join(srv.seen, ",") != strings.Join(want, ",") {
		t.Errorf("server saw %q, want %q", srv.seen, want)
	}
}

func TestAuthBasic(t *testing.T) {
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	rt, err := Auth{BasicAuthUsername: "writer", BasicAuthPasswordFile: writeFile(t, t.TempDir(), "pw", "s3cret\n")}.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOnce(t, srv.URL, rt); err != nil {
		t.Fatal(err)
	}
	if user != "writer" || pass != "s3cret" {
		t.Errorf("server got %q:%q", user, pass)
	}
}

// Bad settings are refused at start, naming the file or the field and
// never showing a secret.
func TestAuthCheck(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty", "\n")
	secret := writeFile(t, dir, "secret", "do-not-print")
	for _, tc := range []struct {
		name string
		auth Auth
		want string
	}{
		{"missing file", Auth{BearerTokenFile: filepath.Join(dir, "none")}, "no such file"},
		{"empty file", Auth{BearerTokenFile: empty}, "secret file " + empty + " is empty"},
		{"both", Auth{BearerTokenFile: secret, BasicAuthUsername: "u", BasicAuthPasswordFile: secret}, "give one"},
		{"password without user", Auth{BasicAuthPasswordFile: secret}, "without a user name"},
		{"authorization header", Auth{Headers: map[string]string{"authorization": "Bearer do-not-print"}}, "not Headers"},
		{"bad header name", Auth{Headers: map[string]string{"X Bad": "v"}}, "not a valid HTTP header name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.auth.Transport(nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "do-not-print") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// Mutual TLS against a server that requires a client certificate signed by
// a CA generated here; without the client certificate the handshake fails.
func TestAuthMutualTLS(t *testing.T) {
	ca := testcert.NewCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "127.0.0.1")}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	defer srv.Close()

	rt, err := Auth{TLS: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{ca.Client(t, "writer")}}}.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOnce(t, srv.URL, rt); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	noCert, _ := Auth{TLS: &tls.Config{RootCAs: ca.Pool()}}.Transport(nil)
	if err := writeOnce(t, srv.URL, noCert); err == nil {
		t.Fatal("without a client certificate the write succeeded")
	}
	if _, err := (Auth{TLS: &tls.Config{}}).Transport(roundTripFunc(nil)); err == nil {
		t.Error("TLS settings on a transport that is not an *http.Transport were accepted")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
