package remotewrite

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

// Client sends logical writes to one remote-write endpoint. It is safe for
// concurrent use; writes are sent one at a time (a Write waits for the one
// in progress), because the client reuses its encode and compress buffers
// and because samples of one series must arrive in order.
type Client struct {
	url      string // as given; may carry userinfo for basic auth
	redacted string // for errors and logs
	cfg      config
	http     *http.Client
	log      *slog.Logger

	version atomic.Int32 // wire.Version in use; drops to V1 after a fallback

	mu      sync.Mutex // guards the buffers below and serialises writes
	items   []item     // empty after an encoded plan (planEncoded)
	batches []batch
	raw     []byte
	comp    []byte
	// body is the RW 1.0 encoding of the request being planned when plan
	// encodes (planEncoded).
	body    []byte
	encoded bool
	scratch []byte
	enc     wire.EncoderV2
	labels  labelCache // RW 1.0 label blocks by series position
	written bool       // a Write has been made: fill labels from now on
	// streak counts the failed attempts since a request was last
	// delivered, across writes: the backoff carries over from one write to
	// the next while the receiver stays down, instead of starting again
	// at the minimum with every write.
	streak int
}

// ampPath is the only path AMP's data plane takes for remote write.
var ampPath = regexp.MustCompile(`^/workspaces/[^/]+/api/v1/remote_write$`)

// New returns a Client for the remote-write endpoint rawURL, an absolute
// http or https URL. Userinfo in the URL is sent as basic auth and never
// appears in errors or logs.
func New(rawURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the URL; name the problem without echoing
		// credentials it may contain.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("remotewrite: cannot parse URL %q: %v", redact.URL(rawURL), err)
	}
	shown := redact.URL(rawURL)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("remotewrite: URL %q has scheme %q; want http or https, e.g. https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-…/api/v1/remote_write", shown, u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("remotewrite: URL %q has no host", shown)
	case strings.HasPrefix(strings.ToLower(u.Hostname()), "aps-workspaces") && !ampPath.MatchString(u.Path):
		return nil, fmt.Errorf("remotewrite: URL %q is an Amazon Managed Service for Prometheus endpoint but its path %q is not /workspaces/<workspace-id>/api/v1/remote_write", shown, u.Path)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, fmt.Errorf("remotewrite: %w", err)
		}
	}
	hc := cfg.httpClient
	switch {
	case hc == nil:
		hc = &http.Client{Timeout: DefaultTimeout, Transport: cfg.transport}
	case cfg.transport != nil:
		copied := *hc
		copied.Transport = cfg.transport
		hc = &copied
	}
	c := &Client{url: u.String(), redacted: shown, cfg: cfg, http: hc, log: cfg.logger}
	c.version.Store(int32(cfg.version))
	return c, nil
}

// Version is the protocol the next write will use: the configured one, or
// wire.V1 after the receiver refused RW 2.0.
func (c *Client) Version() wire.Version { return wire.Version(c.version.Load()) }

// URL returns the endpoint with its secrets hidden (redact.URL): the
// userinfo's password and the values of secret-named query parameters.
func (c *Client) URL() string { return c.redacted }

// String describes the client without credentials.
func (c *Client) String() string {
	return fmt.Sprintf("remotewrite.Client{url: %s, version: %s}", c.redacted, c.Version())
}
