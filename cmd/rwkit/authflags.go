package main

import (
	"flag"
	"net/http"
	"strings"
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
			return nil, usagef("--header number %d: want 'Name: value'", i+1)
		}
		if strings.EqualFold(name, "Authorization") {
			return nil, usagef("--header Authorization: use --bearer-token-file or --basic-auth-username with --basic-auth-password-file")
		}
		out[http.CanonicalHeaderKey(name)] = value
	}
	if a.tenant != "" {
		if v, ok := out["X-Scope-Orgid"]; ok && v != a.tenant {
			return nil, usagef("--tenant %q and --header 'X-Scope-OrgID: %s' disagree: give one", a.tenant, v)
		}
		out["X-Scope-OrgID"] = a.tenant
		delete(out, "X-Scope-Orgid")
	}
	if (a.tlsCert == "") != (a.tlsKey == "") {
		return nil, usagef("--tls-cert-file and --tls-key-file go together")
	}
	if a.basicPasswordFile != "" && a.basicUser == "" {
		return nil, usagef("--basic-auth-password-file needs --basic-auth-username")
	}
	return out, nil
}
