package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"net/http"
	"os"
	"strings"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
)

// authFlags are the backend authentication and TLS flags (DESIGN.md,
// "Auth and tenancy flags"). Secrets are read from files, never from the
// command line, where ps and shell history would show them.
type authFlags struct {
	tenant            string
	header            listFlag
	bearerTokenFile   string
	basicUser         string
	basicPasswordFile string
	tlsCA             string
	tlsCert           string
	tlsKey            string
	tlsServerName     string
}

func (a *authFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.tenant, "tenant", "", "tenant for Cortex, Mimir or the rwkit workspace: sent as X-Scope-OrgID")
	fs.Var(&a.header, "header", "'Name: value' sent with every request; repeatable")
	fs.StringVar(&a.bearerTokenFile, "bearer-token-file", "", "file holding a bearer token, sent as Authorization: Bearer")
	fs.StringVar(&a.basicUser, "basic-auth-username", "", "basic auth user name")
	fs.StringVar(&a.basicPasswordFile, "basic-auth-password-file", "", "file holding the basic auth password")
	fs.StringVar(&a.tlsCA, "tls-ca-file", "", "CA certificate file to verify the server with")
	fs.StringVar(&a.tlsCert, "tls-cert-file", "", "client certificate file (mTLS)")
	fs.StringVar(&a.tlsKey, "tls-key-file", "", "client key file (mTLS)")
	fs.StringVar(&a.tlsServerName, "tls-server-name", "", "server name to verify the certificate against")
}

// headers returns --header and --tenant as a map. Authorization is refused
// here: a header value is printed in configurations and debug output, a
// token file is not.
func (a *authFlags) headers() (map[string]string, error) {
	out := map[string]string{}
	for i, h := range a.header {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t=") {
			// Not echoed: a malformed header may be a secret.
			return nil, flagUsagef("--header", "--header number %d: want 'Name: value'", i+1)
		}
		if strings.EqualFold(name, "Authorization") {
			return nil, flagUsagef("--header", "--header Authorization: use --bearer-token-file or --basic-auth-username with --basic-auth-password-file")
		}
		out[http.CanonicalHeaderKey(name)] = value
	}
	if a.tenant != "" {
		if v, ok := out["X-Scope-Orgid"]; ok && v != a.tenant {
			return nil, flagUsagef("--tenant", "--tenant %q and --header 'X-Scope-OrgID: %s' disagree: give one", a.tenant, v)
		}
		out["X-Scope-OrgID"] = a.tenant
		delete(out, "X-Scope-Orgid")
	}
	if err := a.tls().checkPair(); err != nil {
		return nil, err
	}
	if a.bearerTokenFile != "" && a.basicUser != "" {
		return nil, flagUsagef("--bearer-token-file", "--bearer-token-file and --basic-auth-username both set Authorization: give one")
	}
	if a.basicPasswordFile != "" && a.basicUser == "" {
		return nil, flagUsagef("--basic-auth-username", "--basic-auth-password-file needs --basic-auth-username")
	}
	return out, nil
}

// remote is the flags as a remotewrite.Auth: headers, secret files, and
// TLS loaded from the PEM files (errors name the flag and the file).
func (a *authFlags) remote() (remotewrite.Auth, error) {
	headers, err := a.headers()
	if err != nil {
		return remotewrite.Auth{}, err
	}
	auth := remotewrite.Auth{Headers: headers, BearerTokenFile: a.bearerTokenFile,
		BasicAuthUsername: a.basicUser, BasicAuthPasswordFile: a.basicPasswordFile}
	if auth.TLS, err = a.tls().config(); err != nil {
		return auth, err
	}
	if err := auth.Check(); err != nil {
		// What is left for Check to refuse is a header name.
		return auth, flagUsagef("--header", "--header: %s", strings.TrimPrefix(err.Error(), "auth: "))
	}
	return auth, nil
}

// tls is the flags' TLS files.
func (a *authFlags) tls() tlsFiles {
	return tlsFiles{ca: a.tlsCA, cert: a.tlsCert, key: a.tlsKey, serverName: a.tlsServerName}
}

// tlsFiles are the TLS flags of one connection to a backend: --tls-*
// (prefix "") on the commands that talk to one, --upstream-tls-* (prefix
// "upstream-") on serve.
type tlsFiles struct {
	prefix                    string
	ca, cert, key, serverName string
}

// flag is the name of the flag that gave name (e.g. "tls-ca-file").
func (f tlsFiles) flag(name string) string { return "--" + f.prefix + name }

func (f tlsFiles) any() bool { return f.ca != "" || f.cert != "" || f.key != "" || f.serverName != "" }

func (f tlsFiles) checkPair() error {
	if (f.cert == "") != (f.key == "") {
		return flagUsagef(f.flag("tls-key-file"), "%s and %s go together", f.flag("tls-cert-file"), f.flag("tls-key-file"))
	}
	return nil
}

// config loads the PEM files into the TLS settings of a
// remotewrite.Auth, nil when no flag is set; errors name the flag and
// the file.
func (f tlsFiles) config() (*tls.Config, error) {
	if err := f.checkPair(); err != nil || !f.any() {
		return nil, err
	}
	tc := &tls.Config{ServerName: f.serverName}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, flagUsagef(f.flag("tls-ca-file"), "%s: %v", f.flag("tls-ca-file"), err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, flagUsagef(f.flag("tls-ca-file"), "%s %s: no PEM certificate in it", f.flag("tls-ca-file"), f.ca)
		}
	}
	if f.cert != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, flagUsagef(f.flag("tls-cert-file"), "%s %s / %s %s: %v", f.flag("tls-cert-file"), f.cert, f.flag("tls-key-file"), f.key, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// transport is the flags as an http.RoundTripper for commands that talk to
// a backend; next nil is a new transport.
func (a *authFlags) transport() (http.RoundTripper, error) {
	auth, err := a.remote()
	if err != nil {
		return nil, err
	}
	rt, err := auth.Transport(nil)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return rt, nil
}

// usesAuthorization reports whether the flags set the Authorization
// header, which SigV4 signing sets too.
func (a *authFlags) usesAuthorization() bool {
	return a.bearerTokenFile != "" || a.basicUser != ""
}

// any reports whether any of the flags was given.
func (a *authFlags) any() bool {
	return a.tenant != "" || len(a.header) > 0 || a.bearerTokenFile != "" || a.basicUser != "" || a.basicPasswordFile != "" ||
		a.tlsCA != "" || a.tlsCert != "" || a.tlsKey != "" || a.tlsServerName != ""
}

// pushOptions are the flags as the push library's options.
func (a *authFlags) pushOptions() ([]push.Option, error) {
	auth, err := a.remote()
	if err != nil {
		return nil, err
	}
	var opts []push.Option
	for k, v := range auth.Headers {
		opts = append(opts, push.WithHeader(k, v))
	}
	if auth.BearerTokenFile != "" {
		opts = append(opts, push.WithBearerTokenFile(auth.BearerTokenFile))
	}
	if auth.BasicAuthUsername != "" {
		opts = append(opts, push.WithBasicAuth(auth.BasicAuthUsername, auth.BasicAuthPasswordFile))
	}
	if auth.TLS != nil {
		opts = append(opts, push.WithTLSConfig(auth.TLS))
	}
	return opts, nil
}
