package remotewrite

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Auth is how requests prove who sends them, for backends other than AMP
// (which takes SigV4: see package sigv4): Cortex and Mimir tenants, a
// Prometheus behind basic auth, a gateway taking a bearer token, mutual
// TLS. The zero value adds nothing.
//
// Secrets are read from files, at every request, so a rotated token or
// password is picked up without a restart (a Kubernetes projected token, a
// secret mounted from a store); they never appear in errors or logs.
type Auth struct {
	// Headers are sent with every request: X-Scope-OrgID for a tenant,
	// or a gateway's own header. Authorization is refused here: use the
	// file fields, whose contents are never printed.
	Headers map[string]string
	// BearerTokenFile holds a token sent as "Authorization: Bearer <token>".
	BearerTokenFile string
	// BasicAuthUsername and BasicAuthPasswordFile are sent as basic auth.
	BasicAuthUsername     string
	BasicAuthPasswordFile string
	// TLS configures the connection: a CA to verify the server with, a
	// client certificate for mutual TLS, the server name. It needs the
	// transport to be nil (a new http.Transport) or an *http.Transport.
	TLS *tls.Config
}

// IsZero reports whether a adds nothing.
func (a Auth) IsZero() bool {
	return len(a.Headers) == 0 && a.BearerTokenFile == "" && a.BasicAuthUsername == "" && a.BasicAuthPasswordFile == "" && a.TLS == nil
}

// Check validates a and reads each secret file once, so that a missing,
// unreadable or empty file is reported at start-up, naming the file, not
// at the first request.
func (a Auth) Check() error {
	for name := range a.Headers {
		switch {
		case name == "" || strings.ContainsAny(name, " \t:\r\n"):
			return fmt.Errorf("auth: header name %q is not a valid HTTP header name", name)
		case strings.EqualFold(name, "Authorization"):
			return errors.New("auth: the Authorization header is set from BearerTokenFile or BasicAuthUsername/BasicAuthPasswordFile, not Headers")
		}
	}
	if a.BearerTokenFile != "" && (a.BasicAuthUsername != "" || a.BasicAuthPasswordFile != "") {
		return errors.New("auth: a bearer token and basic auth both set the Authorization header: give one")
	}
	if a.BasicAuthPasswordFile != "" && a.BasicAuthUsername == "" {
		return errors.New("auth: a basic auth password file without a user name")
	}
	for _, f := range []string{a.BearerTokenFile, a.BasicAuthPasswordFile} {
		if f == "" {
			continue
		}
		if _, err := readSecret(f); err != nil {
			return err
		}
	}
	return nil
}

// Transport returns next wrapped so that each request carries a's headers
// and credentials; a nil next is a new http.Transport. With a.TLS, next
// must be nil or an *http.Transport, which is cloned.
func (a Auth) Transport(next http.RoundTripper) (http.RoundTripper, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	if a.TLS != nil {
		base, ok := next.(*http.Transport)
		switch {
		case next == nil:
			base = http.DefaultTransport.(*http.Transport).Clone()
		case !ok:
			return nil, fmt.Errorf("auth: TLS settings need an *http.Transport to apply to, not a %T", next)
		default:
			base = base.Clone()
		}
		base.TLSClientConfig = a.TLS.Clone()
		next = base
	}
	if next == nil {
		next = http.DefaultTransport
	}
	if len(a.Headers) == 0 && a.BearerTokenFile == "" && a.BasicAuthUsername == "" {
		return next, nil
	}
	return &authTransport{auth: a, next: next}, nil
}

type authTransport struct {
	auth Auth
	next http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it is given.
	r := req.Clone(req.Context())
	for k, v := range t.auth.Headers {
		r.Header.Set(k, v)
	}
	switch {
	case t.auth.BearerTokenFile != "":
		token, err := readSecret(t.auth.BearerTokenFile)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
	case t.auth.BasicAuthUsername != "":
		password := ""
		if t.auth.BasicAuthPasswordFile != "" {
			p, err := readSecret(t.auth.BasicAuthPasswordFile)
			if err != nil {
				closeBody(req)
				return nil, err
			}
			password = p
		}
		r.SetBasicAuth(t.auth.BasicAuthUsername, password)
	}
	return t.next.RoundTrip(r)
}

// closeBody closes a request body the RoundTripper will not send, as
// http.RoundTripper's contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// readSecret reads a secret file, without its trailing newline. Its
// errors name the file, never its contents.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth: reading the secret file: %w", err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(bytes.TrimSpace(b)) == 0 {
		return "", fmt.Errorf("auth: secret file %s is empty", path)
	}
	return string(b), nil
}
