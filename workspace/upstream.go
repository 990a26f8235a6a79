package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/workspace/store"
)

// Pass-through mode (WithUpstream): every write the workspace receives on
// its write paths is sent on to one remote-write backend, and the
// backend's answer is the sender's. The workspace reads the write as well,
// to name the writers when the backend refuses (upstream_refusals.go).

// Upstream configures pass-through mode.
type Upstream struct {
	// URL is the backend's full remote-write URL, e.g.
	// https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write
	// or http://cortex:9009/api/v1/push. Every write, whichever of the
	// workspace's write paths it came in on (AMP, Cortex or Prometheus
	// shape), goes to this URL: the path names the workspace's tenant for
	// the analysis, not the backend's. The sender's X-Scope-OrgID passes
	// through to the backend as it is.
	URL string
	// Transport sends the forwarded requests (nil: UpstreamTransport()).
	// Wrap UpstreamTransport() to add the backend's auth.
	Transport http.RoundTripper
	// SigV4, when set, signs every forwarded request with AWS SigV4, as
	// Amazon Managed Service for Prometheus requires: a sender cannot sign
	// for AMP through the workspace (its signature names the workspace's
	// host), so the workspace signs for the upstream itself. Transport
	// then must not set Authorization.
	SigV4 *UpstreamSigV4
	// Store keeps the forwarded samples in the workspace as well, to query
	// them locally. Without it the workspace validates each write and
	// records its writers, and stores nothing (upstream_refusals.go).
	Store bool
	// ExplainHeader adds ExplanationHeader to the answer of each write the
	// upstream refuses (4xx), so that the sender's own error log says why
	// and who else wrote the series (upstream_explain.go). Off, the answer
	// is the upstream's, headers included.
	ExplainHeader bool
}

// WithUpstream makes the workspace a transparent pass-through in front of
// u.URL: the body, Content-Type, Content-Encoding, remote-write version
// header and the sender's end-to-end headers (Authorization and
// X-Scope-OrgID included) go to the backend unchanged, and its status,
// headers (Retry-After, the RW 2.0 Written headers) and body come back
// unchanged. Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded, nor,
// when the workspace authenticates its senders (WithBearerToken,
// WithSigV4Auth), the credential they present to it: Authorization is
// then the upstream Transport's to set.
// Nothing is buffered or acknowledged on the backend's behalf: when it
// cannot be reached the sender gets 502 and retries. The body is read
// whole before it is sent, within WithMaxRequestBytes (413 past it, from
// the workspace). TLS and mutual TLS to the backend are the Transport's
// settings (remotewrite.Auth's Transport builds one).
func WithUpstream(u Upstream) Option {
	return optionFunc(func(c *config) error {
		up, err := newUpstream(u)
		if err != nil {
			return err
		}
		// Signing and explaining (upstream_sigv4.go, upstream_explain.go).
		if err := up.extend(u); err != nil {
			return err
		}
		c.upstream = up
		return nil
	})
}

// maxIdleUpstreamConns bounds the idle connections kept to the upstream,
// one per sender connection writing at once, up to the default
// WithMaxConcurrentWrites and then some.
const maxIdleUpstreamConns = 64

// UpstreamTransport returns the transport pass-through uses when
// Upstream.Transport is nil, to wrap with the upstream's credentials or
// TLS: Go's default, keeping 64 idle connections per host (Go keeps 2:
// with more senders writing at once, the others would be closed after
// each write and dialled again), and without transparent compression: Go
// would add "Accept-Encoding: gzip" to a forwarded write whose sender
// sent none and decompress the answer, a header the sender did not send;
// the sender's own Accept-Encoding is forwarded, and the answer's
// Content-Encoding passed back, as they came.
func UpstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleUpstreamConns
	t.DisableCompression = true
	return t
}

// upstream is a checked Upstream.
type upstream struct {
	url *url.URL
	// shown is url as the workspace shows it (answers, logs, the page):
	// its password, and the values of query parameters named like
	// credentials (VictoriaMetrics' authKey, a token), hidden.
	shown  string
	client *http.Client
	store  bool

	// signs: the transport signs with SigV4, so the sender's
	// Authorization and X-Amz-* headers are not forwarded.
	signs   bool
	explain bool
}

func newUpstream(u Upstream) (*upstream, error) {
	parsed, err := url.Parse(u.URL)
	if err != nil {
		return nil, fmt.Errorf("workspace: upstream URL: %w", err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("workspace: upstream URL %q: want an absolute http:// or https:// remote-write URL, e.g. http://cortex:9009/api/v1/push", redact.URL(u.URL))
	}
	rt := u.Transport
	if rt == nil {
		rt = UpstreamTransport()
	}
	return &upstream{url: parsed, shown: redact.URL(u.URL), store: u.Store, client: &http.Client{
		Transport: rt,
		// A redirect is the backend's answer, passed back as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// hopByHop are the headers that concern one connection, not the request
// (RFC 9110 7.6.1), and so are neither forwarded nor passed back; Host and
// Content-Length are set for the new request.
var hopByHop = map[string]bool{"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Host": true}

// endToEnd copies src's end-to-end headers into dst: all but hopByHop and
// those src's Connection header names.
func endToEnd(dst, src http.Header) {
	var named []string
	for _, v := range src["Connection"] {
		for _, name := range strings.Split(v, ",") {
			named = append(named, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)))
		}
	}
	for k, vs := range src {
		if ck := textproto.CanonicalMIMEHeaderKey(k); !hopByHop[ck] && !slices.Contains(named, ck) {
			dst[k] = append(dst[k], vs...)
		}
	}
}

// workspaceCredentials are the headers that carry the sender's credential
// for the workspace itself (WithBearerToken, WithSigV4Auth): the workspace
// verified them and does not hand them on to the upstream.
var workspaceCredentials = []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"}

// send forwards body with r's end-to-end headers, without the workspace's
// own credentials when ownAuth, and without the sender's signature when
// the workspace signs.
func (u *upstream) send(ctx context.Context, r *http.Request, body []byte, ownAuth bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	endToEnd(req.Header, r.Header)
	if ownAuth {
		for _, h := range workspaceCredentials {
			req.Header.Del(h)
		}
	}
	if u.signs {
		// The sender's signature (for the workspace's host) and what it
		// signed with are replaced by the workspace's; whatever X-Amz-*
		// header stayed would be signed along as if the workspace sent it.
		req.Header.Del("Authorization")
		for k := range req.Header {
			if strings.HasPrefix(textproto.CanonicalMIMEHeaderKey(k), "X-Amz-") {
				delete(req.Header, k)
			}
		}
	}
	if _, ok := r.Header["User-Agent"]; !ok {
		// Go's client would add its own; the backend sees what the sender sent.
		req.Header["User-Agent"] = []string{""}
	}
	return u.client.Do(req)
}

// maxKeptAnswer bounds the part of the backend's answer kept for the
// analysis of a refusal (the sender gets all of it).
const maxKeptAnswer = 64 << 10

// upstreamAnswer is what the backend answered one forwarded write.
type upstreamAnswer struct {
	status int
	body   string // the first maxKeptAnswer bytes
	err    error  // the backend could not be reached (status 502)
	// senderGone: the sender gave up before the backend answered; what
	// the backend did is not known.
	senderGone bool

	// found, when set, receives what analyse found (upstream_explain.go).
	found *finding
}

// forward sends one write (buf, the request's body read whole) to the
// backend and answers the sender with the backend's answer, or 502 when
// there is none; a write of a workspace it can name (named) is then
// analysed (queued, or before the answer under Upstream.ExplainHeader).
// It reports whether the analysis took buf over.
func (w *Workspace) forward(rw http.ResponseWriter, r *http.Request, id string, named bool, buf *[]byte) (a upstreamAnswer, taken bool) {
	resp, err := w.cfg.upstream.send(r.Context(), r, *buf, w.cfg.auth != nil)
	if err != nil {
		a = w.unanswered(rw, r, err)
	} else {
		defer resp.Body.Close()
		if w.cfg.upstream.explain && named && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return w.relayExplained(rw, r, id, buf, resp) // upstream_explain.go
		}
		a = relay(rw, resp, nil, "")
	}
	if !named || a.senderGone {
		return a, false
	}
	// Analysed off the request path, which takes the body over
	// (upstream_analysis.go, upstream_refusals.go).
	w.analyseLater(r, id, buf, a)
	return a, true
}

// unanswered answers the sender 502 when the backend did not answer
// (unless the sender is gone already).
func (w *Workspace) unanswered(rw http.ResponseWriter, r *http.Request, err error) upstreamAnswer {
	if r.Context().Err() != nil {
		return upstreamAnswer{status: http.StatusBadGateway, err: err, senderGone: true}
	}
	what := "the upstream %s did not answer"
	if ce := (*sigv4.CredentialsError)(nil); errors.As(err, &ce) {
		what = "the workspace could not sign for the upstream %s, so sent nothing"
	}
	msg := fmt.Sprintf("rwkit: "+what+": %v\nrwkit: nothing of this request was stored or acknowledged on the upstream's behalf; retry it",
		w.cfg.upstream.shown, unwrapURLError(err))
	http.Error(rw, msg, http.StatusBadGateway)
	return upstreamAnswer{status: http.StatusBadGateway, err: err}
}

// relay answers the sender with resp: its headers (and explanation, when
// not empty, in ExplanationHeader), status, head (what was read of its
// body already) and the rest of its body.
func relay(rw http.ResponseWriter, resp *http.Response, head []byte, explanation string) upstreamAnswer {
	endToEnd(rw.Header(), resp.Header)
	if resp.ContentLength >= 0 {
		rw.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	if explanation != "" {
		rw.Header().Set(ExplanationHeader, explanation)
	}
	rw.WriteHeader(resp.StatusCode)
	kept := &capped{max: maxKeptAnswer}
	if len(head) > 0 {
		_, _ = kept.Write(head)
		_, _ = rw.Write(head)
	}
	// A failure here is the connection to the sender or to the backend
	// breaking mid-answer; the status is already sent.
	_, _ = io.Copy(rw, io.TeeReader(resp.Body, kept))
	// The sender has its answer before the workspace analyses the write.
	_ = http.NewResponseController(rw).Flush()
	return upstreamAnswer{status: resp.StatusCode, body: kept.String()}
}

// unwrapURLError is the cause of a client error, without the "Post URL:"
// the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// writeThrough answers one write in pass-through mode: it reads the body,
// forwards it, and answers with the backend's answer. It returns the
// status and the workspace label to count it under.
func (w *Workspace) writeThrough(rw http.ResponseWriter, r *http.Request, id string) (int, string) {
	label := id
	if store.ValidateTenantID(id) != nil {
		label = "" // forwarded all the same: the backend decides
	}
	buf := getBuf()
	defer func() {
		if buf != nil {
			putBuf(buf)
		}
	}()
	body, err := readBody((*buf)[:0], http.MaxBytesReader(rw, r.Body, int64(w.cfg.maxBody)), r.ContentLength)
	*buf = body
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return refuse(rw, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("rwkit: the write is larger than this workspace forwards (more than %d bytes); nothing was sent upstream", mbe.Limit),
				splitHint(w.cfg.limitNames.MaxRequestBytes)), label
		}
		return refuse(rw, http.StatusBadRequest, "rwkit: reading the request body failed: "+err.Error(), "rwkit: nothing was sent upstream"), label
	}
	w.analyses.forwarding.Add(1)
	defer w.analyses.forwarding.Add(-1)
	a, taken := w.forward(rw, r, id, label != "", buf)
	if taken {
		buf = nil
	}
	return a.status, label
}
