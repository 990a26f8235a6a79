package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/remotewrite"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/workspace"
)

// upstreamFlags put the workspace in front of a remote-write backend
// (workspace.WithUpstream).
type upstreamFlags struct {
	url     string
	store   bool
	explain bool
	// The upstream's credentials, as rwkit push takes them; they replace
	// the sender's Authorization.
	bearerTokenFile   string
	basicUser         string
	basicPasswordFile string
	// SigV4: on for an AMP URL unless --upstream-sigv4=false, as rwkit
	// push decides (sigv4.Signing); signedFor is the region signed for.
	sigv4       optionalBool
	sigv4Region string
	signedFor   string
	// TLS to the upstream, as rwkit push's --tls-* (authflags.go).
	tls tlsFiles
}

func (u *upstreamFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.url, "upstream", "", "forward every write, unchanged, to this remote-write URL (e.g. http://cortex:9009/api/v1/push) and answer with its answer; the workspace still reads each write to explain the upstream's refusals")
	fs.BoolVar(&u.store, "upstream-store", false, "with --upstream: also store the forwarded samples in the workspace, to query them locally (default: validate and attribute each write, store nothing)")
	fs.BoolVar(&u.explain, "explain-header", false, "with --upstream: add "+workspace.ExplanationHeader+" to the answer of each write the upstream refuses (4xx): one line naming the reason, the series and the other writer, for the sender's error log (off: the answer is the upstream's, headers included)")
	fs.StringVar(&u.bearerTokenFile, "upstream-bearer-token-file", "", "with --upstream: file holding a bearer token sent to the upstream as Authorization: Bearer, in place of the sender's Authorization")
	fs.StringVar(&u.basicUser, "upstream-basic-auth-username", "", "with --upstream: basic auth user name sent to the upstream, in place of the sender's Authorization")
	fs.StringVar(&u.basicPasswordFile, "upstream-basic-auth-password-file", "", "with --upstream: file holding the basic auth password for the upstream")
	fs.Var(&u.sigv4, "upstream-sigv4", "with --upstream: sign every forwarded request with AWS SigV4 (service aps), credentials from the AWS chain (env, shared files, web identity, ECS task role, EC2 instance profile), in place of the sender's Authorization (default: on for an AMP URL, for the region it names; =false leaves the sender's Authorization as it is)")
	u.tls.prefix = "upstream-"
	fs.StringVar(&u.tls.ca, "upstream-tls-ca-file", "", "with --upstream: CA certificate file to verify the upstream's certificate with")
	fs.StringVar(&u.tls.cert, "upstream-tls-cert-file", "", "with --upstream: client certificate file presented to the upstream (mutual TLS); with --upstream-tls-key-file")
	fs.StringVar(&u.tls.key, "upstream-tls-key-file", "", "with --upstream: the client certificate's key file")
	fs.StringVar(&u.tls.serverName, "upstream-tls-server-name", "", "with --upstream: server name to verify the upstream's certificate against (when the URL's host is not in it)")
	fs.StringVar(&u.sigv4Region, "upstream-sigv4-region", "", "with --upstream: the region to sign for (default: the AMP URL's; for another URL, AWS_REGION or the profile's); implies --upstream-sigv4")
}

// options are the workspace options the flags set. ctx bounds the look
// for AWS credentials when the upstream is signed for.
func (u *upstreamFlags) options(ctx context.Context) ([]workspace.Option, error) {
	if u.url == "" {
		for _, f := range []struct{ name, value string }{
			{"--upstream-store", map[bool]string{true: "set"}[u.store]},
			{"--explain-header", map[bool]string{true: "set"}[u.explain]},
			{"--upstream-bearer-token-file", u.bearerTokenFile},
			{"--upstream-basic-auth-username", u.basicUser},
			{"--upstream-basic-auth-password-file", u.basicPasswordFile},
			{"--upstream-sigv4", u.sigv4.String()},
			{"--upstream-sigv4-region", u.sigv4Region},
			{"--upstream-tls-ca-file", u.tls.ca},
			{"--upstream-tls-cert-file", u.tls.cert},
			{"--upstream-tls-key-file", u.tls.key},
			{"--upstream-tls-server-name", u.tls.serverName},
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
	signer, err := u.signer(ctx)
	if err != nil {
		return nil, err
	}
	rt, err := u.transport()
	if err != nil {
		return nil, err
	}
	return []workspace.Option{workspace.WithUpstream(workspace.Upstream{URL: u.url, Store: u.store, Transport: rt, SigV4: signer, ExplainHeader: u.explain})}, nil
}

// signer is how the workspace signs for the upstream, nil when it does
// not: the decision and the region are sigv4.Signing's, as for rwkit
// push. The credentials are looked for now, so that missing ones stop
// serve at start-up rather than fail every write.
func (u *upstreamFlags) signer(ctx context.Context) (*workspace.UpstreamSigV4, error) {
	off := u.sigv4.set && !u.sigv4.value
	if off && u.sigv4Region != "" {
		return nil, flagUsagef("--upstream-sigv4-region", "serve: --upstream-sigv4-region and --upstream-sigv4=false: give one")
	}
	region, sign, err := sigv4.Signing(u.url, u.sigv4Region, u.sigv4.value)
	switch {
	case off || (err == nil && !sign):
		return nil, nil
	case err != nil:
		return nil, flagUsagef("--upstream-sigv4-region", "serve: --upstream-sigv4-region: %s", strings.TrimPrefix(err.Error(), "sigv4: "))
	case u.bearerTokenFile != "" || u.basicUser != "":
		return nil, flagUsagef("--upstream-bearer-token-file", "serve: SigV4 signing for the upstream and --upstream-bearer-token-file / --upstream-basic-auth-username both set Authorization: give one (an AMP URL is signed unless --upstream-sigv4=false)")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := sigv4.LoadDefaultConfig(ctx, region, nil)
	if err != nil {
		return nil, fmt.Errorf("serve: --upstream-sigv4: %w", err)
	}
	if cfg.Region == "" {
		return nil, flagUsagef("--upstream-sigv4-region", "serve: --upstream-sigv4: no region to sign for: the upstream URL is not an AMP URL, whose host names it; give --upstream-sigv4-region or set AWS_REGION")
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("serve: --upstream-sigv4: the AWS default config has no credentials provider; %s", sigv4.ChainHint)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		// A *sigv4.CredentialsError: the SDK's reason and the chain it
		// tried, never a key; without the cache's wrapping.
		if ce := (*sigv4.CredentialsError)(nil); errors.As(err, &ce) {
			ce.Service, err = sigv4.DefaultService, ce
		}
		return nil, fmt.Errorf("serve: --upstream-sigv4: signing for the upstream needs AWS credentials (an AMP URL is signed unless --upstream-sigv4=false): %w", err)
	}
	u.signedFor = cfg.Region
	return &workspace.UpstreamSigV4{Region: cfg.Region, Credentials: cfg.Credentials}, nil
}

// transport is the upstream's credentials and TLS settings as a
// remotewrite.Auth transport (nil: none). Its secret files are read at
// every request, so a rotated token is picked up.
func (u *upstreamFlags) transport() (http.RoundTripper, error) {
	switch {
	case u.bearerTokenFile != "" && u.basicUser != "":
		return nil, flagUsagef("--upstream-bearer-token-file", "serve: --upstream-bearer-token-file and --upstream-basic-auth-username both set Authorization: give one")
	case u.basicPasswordFile != "" && u.basicUser == "":
		return nil, flagUsagef("--upstream-basic-auth-username", "serve: --upstream-basic-auth-password-file needs --upstream-basic-auth-username")
	}
	tc, err := u.tls.config()
	if err != nil {
		return nil, err
	}
	if tc != nil && !strings.HasPrefix(strings.ToLower(u.url), "https://") {
		return nil, flagUsagef("--upstream", "serve: --upstream-tls-* flags need an https:// --upstream URL")
	}
	auth := remotewrite.Auth{BearerTokenFile: u.bearerTokenFile, BasicAuthUsername: u.basicUser, BasicAuthPasswordFile: u.basicPasswordFile, TLS: tc}
	if auth.IsZero() {
		return nil, nil
	}
	rt, err := auth.Transport(workspace.UpstreamTransport())
	if err != nil {
		name := "--upstream-bearer-token-file"
		if u.bearerTokenFile == "" {
			name = "--upstream-basic-auth-password-file"
		}
		return nil, flagUsagef(name, "serve: %s: %s", name, strings.TrimPrefix(err.Error(), "auth: "))
	}
	return rt, nil
}

// authSummary says how the workspace authenticates to the upstream, for
// the start-up line.
func (u *upstreamFlags) authSummary() string {
	switch {
	case u.url == "":
		return "none"
	case u.signedFor != "":
		return "sigv4 " + u.signedFor
	case u.bearerTokenFile != "":
		return "bearer token file"
	case u.basicUser != "":
		return "basic auth"
	}
	return "the sender's"
}

// summary names the upstream for the start-up line, without credentials.
func (u *upstreamFlags) summary() string {
	if u.url == "" {
		return "none"
	}
	return redact.URL(u.url)
}
