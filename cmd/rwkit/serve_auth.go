package main

import (
	"net"
	"os"
	"strings"

	"github.com/rwkit/rwkit/workspace"
)

// defaultMaxHeaderBytes: remote write needs a few hundred bytes of
// headers, SigV4 with a session token about 2 KiB; Go's default is 1 MiB.
const defaultMaxHeaderBytes = 64 << 10

// defaultDiskReserve is --disk-reserve-bytes's default: room for a few
// minutes of the TSDB's head-chunk writes at a million series, and for it
// to close.
const defaultDiskReserve = 64 << 20

// authAndLimits turns serve's auth and limit flags into workspace
// options, and refuses a non-loopback --listen without auth.
func (c *serveCommand) authAndLimits() ([]workspace.Option, error) {
	var opts []workspace.Option
	switch {
	case c.sigv4AccessKeyID != "" && c.sigv4SecretAccessKey != "":
		if c.sigv4Region == "" {
			return nil, flagUsagef("--sigv4-region", "serve: --sigv4-region is empty")
		}
		opts = append(opts, workspace.WithSigV4Auth(c.sigv4AccessKeyID, c.sigv4SecretAccessKey, c.sigv4Region))
	case c.sigv4AccessKeyID != "" || c.sigv4SecretAccessKey != "":
		return nil, flagUsagef("--sigv4-secret-access-key", "serve: give both --sigv4-access-key-id and --sigv4-secret-access-key (or RWKIT_SIGV4_ACCESS_KEY_ID and RWKIT_SIGV4_SECRET_ACCESS_KEY)")
	}
	if c.bearerTokenFile != "" {
		b, err := os.ReadFile(c.bearerTokenFile)
		if err != nil {
			// The error names the file, never its content.
			return nil, flagUsagef("--bearer-token-file", "serve: --bearer-token-file: %v", err)
		}
		token := strings.TrimSpace(string(b))
		if token == "" {
			return nil, flagUsagef("--bearer-token-file", "serve: --bearer-token-file %s is empty", c.bearerTokenFile)
		}
		opts = append(opts, workspace.WithBearerToken(token))
	}
	if len(opts) == 0 && !c.insecureListen && !loopback(c.listen) {
		return nil, flagUsagef("--listen", "serve: --listen %s is not a loopback address and no authentication is configured: "+
			"set --sigv4-access-key-id and --sigv4-secret-access-key (SigV4, service aps) or --bearer-token-file, "+
			"or pass --insecure-listen if something else guards the port", c.listen)
	}
	opts = append(opts,
		workspace.WithMaxRequestBytes(c.maxRequestBytes, c.maxDecodedBytes),
		workspace.WithMaxSeriesPerRequest(c.maxSeriesPerRequest),
		workspace.WithMaxConcurrentWrites(c.maxConcurrentWrites))
	return opts, nil
}

// checkFlags checks the flags that need no file or port before anything
// is opened: the address's shape, and that every limit and timeout is
// above zero.
func (c *serveCommand) checkFlags() error {
	if _, _, err := net.SplitHostPort(c.listen); err != nil {
		return flagUsagef("--listen", "serve: --listen %q: want HOST:PORT, e.g. 127.0.0.1:9095 (:9095 for every interface)", c.listen)
	}
	if err := checkPositive("serve",
		durationFlag{"--shutdown-timeout", c.shutdownTimeout}, durationFlag{"--query-timeout", c.queryTimeout},
		durationFlag{"--read-header-timeout", c.readHeaderTimeout}, durationFlag{"--read-timeout", c.readTimeout},
		durationFlag{"--write-timeout", c.writeTimeout}, durationFlag{"--idle-timeout", c.idleTimeout}); err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		value int
	}{
		{"--max-request-bytes", c.maxRequestBytes}, {"--max-decoded-bytes", c.maxDecodedBytes},
		{"--max-series-per-request", c.maxSeriesPerRequest}, {"--max-concurrent-writes", c.maxConcurrentWrites},
		{"--max-header-bytes", c.maxHeaderBytes}, {"--query-max-length", c.queryMaxLength},
		{"--query-max-concurrency", c.queryMaxConcurrency}, {"--query-max-samples", c.queryMaxSamples},
		{"--max-workspaces", c.maxWorkspaces},
	} {
		if err := checkAtLeast("serve", f.name, f.value, 1); err != nil {
			return err
		}
	}
	if c.diskReserveBytes < 0 {
		return flagUsagef("--disk-reserve-bytes", "serve: --disk-reserve-bytes %d: must not be negative (0 keeps no reserve)", c.diskReserveBytes)
	}
	return nil
}

// authSummary names what authentication is on, without secrets.
func (c *serveCommand) authSummary() string {
	var s []string
	if c.sigv4AccessKeyID != "" {
		s = append(s, "sigv4 (service aps, region "+c.sigv4Region+")")
	}
	if c.bearerTokenFile != "" {
		s = append(s, "bearer token from "+c.bearerTokenFile)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// loopback reports whether every address addr can listen on is a loopback
// one: 127.0.0.0/8, ::1 or localhost. An empty host ("":9095) listens on
// all interfaces.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
