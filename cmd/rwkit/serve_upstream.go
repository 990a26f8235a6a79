package main

import (
	"flag"
	"net/http"
	"net/url"
	"strings"

	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/workspace"
)

// upstreamFlags put the workspace in front of a remote-write backend
// (workspace.WithUpstream).
type upstreamFlags struct {
	url   string
	store bool
	// The upstream's credentials, as rwkit push takes them; they replace
	// the sender's Authorization.
	bearerTokenFile   string
	basicUser         string
	basicPasswordFile string
}

func (u *upstreamFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.url, "upstream", "", "forward every write, unchanged, to this remote-write URL (e.g. http://cortex:9009/api/v1/push) and answer with its answer; the workspace still reads each write to explain the upstream's refusals")
	fs.BoolVar(&u.store, "upstream-store", false, "with --upstream: also store the forwarded samples in the workspace, to query them locally (default: validate and attribute each write, store nothing)")
	fs.StringVar(&u.bearerTokenFile, "upstream-bearer-token-file", "", "with --upstream: file holding a bearer token sent to the upstream as Authorization: Bearer, in place of the sender's Authorization")
	fs.StringVar(&u.basicUser, "upstream-basic-auth-username", "", "with --upstream: basic auth user name sent to the upstream, in place of the sender's Authorization")
	fs.StringVar(&u.basicPasswordFile, "upstream-basic-auth-password-file", "", "with --upstream: file holding the basic auth password for the upstream")
}

// options are the workspace options the flags set.
func (u *upstreamFlags) options() ([]workspace.Option, error) {
	if u.url == "" {
		for _, f := range []struct{ name, value string }{
			{"--upstream-store", map[bool]string{true: "set"}[u.store]},
			{"--upstream-bearer-token-file", u.bearerTokenFile},
			{"--upstream-basic-auth-username", u.basicUser},
			{"--upstream-basic-auth-password-file", u.basicPasswordFile},
		} {
			if f.value != "" {
				return nil, flagUsagef(f.name, "serve: %s goes with --upstream URL, which is not set", f.name)
			}
		}
		return nil, nil
	}
	if err := checkURLFlag("serve", "--upstream", u.url); err != nil {
		return nil, err
	}
	rt, err := u.transport()
	if err != nil {
		return nil, err
	}
	return []workspace.Option{workspace.WithUpstream(workspace.Upstream{URL: u.url, Store: u.store, Transport: rt})}, nil
}

// transport is the upstream's credentials as a remotewrite.Auth
// transport (nil: none). Its secret files are read at every request, so a
// rotated token is picked up.
func (u *upstreamFlags) transport() (http.RoundTripper, error) {
	switch {
	case u.bearerTokenFile != "" && u.basicUser != "":
		return nil, flagUsagef("--upstream-bearer-token-file", "serve: --upstream-bearer-token-file and --upstream-basic-auth-username both set Authorization: give one")
	case u.basicPasswordFile != "" && u.basicUser == "":
		return nil, flagUsagef("--upstream-basic-auth-username", "serve: --upstream-basic-auth-password-file needs --upstream-basic-auth-username")
	}
	auth := remotewrite.Auth{BearerTokenFile: u.bearerTokenFile, BasicAuthUsername: u.basicUser, BasicAuthPasswordFile: u.basicPasswordFile}
	if auth.IsZero() {
		return nil, nil
	}
	rt, err := auth.Transport(nil)
	if err != nil {
		name := "--upstream-bearer-token-file"
		if u.bearerTokenFile == "" {
			name = "--upstream-basic-auth-password-file"
		}
		return nil, flagUsagef(name, "serve: %s: %s", name, strings.TrimPrefix(err.Error(), "auth: "))
	}
	return rt, nil
}

// summary names the upstream for the start-up line, without credentials.
func (u *upstreamFlags) summary() string {
	if u.url == "" {
		return "none"
	}
	if parsed, err := url.Parse(u.url); err == nil {
		return parsed.Redacted()
	}
	return "set"
}
