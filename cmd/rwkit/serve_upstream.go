package main

import (
	"flag"
	"net/url"

	"github.com/rwkit/rwkit/workspace"
)

// upstreamFlags put the workspace in front of a remote-write backend
// (workspace.WithUpstream).
type upstreamFlags struct {
	url   string
	store bool
}

func (u *upstreamFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.url, "upstream", "", "forward every write, unchanged, to this remote-write URL (e.g. http://cortex:9009/api/v1/push) and answer with its answer; the workspace still reads each write to explain the upstream's refusals")
	fs.BoolVar(&u.store, "upstream-store", false, "with --upstream: also store the forwarded samples in the workspace, to query them locally (default: validate and attribute each write, store nothing)")
}

// options are the workspace options the flags set.
func (u *upstreamFlags) options() ([]workspace.Option, error) {
	if u.url == "" {
		if u.store {
			return nil, flagUsagef("--upstream-store", "serve: --upstream-store keeps what --upstream forwards; give --upstream URL too")
		}
		return nil, nil
	}
	parsed, err := url.Parse(u.url)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, flagUsagef("--upstream", "serve: --upstream: want the backend's full remote-write URL, http:// or https://, e.g. https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write")
	}
	return []workspace.Option{workspace.WithUpstream(workspace.Upstream{URL: u.url, Store: u.store})}, nil
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
