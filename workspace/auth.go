package workspace

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Authentication. Without an auth option the workspace answers anyone, as
// a Prometheus or Cortex without a proxy does; rwkit serve only allows
// that on a loopback address. With WithSigV4Auth and/or WithBearerToken,
// every request but GET /-/healthy and /-/ready must carry valid
// credentials, else it is answered 403 and counted in
// rwkit_auth_failures_total{reason}. Secrets are never logged, echoed or
// put in errors or metrics.

// DefaultSigV4MaxSkew is how far X-Amz-Date may be from the workspace's
// clock, either way (AWS allows 5 minutes: RequestTimeTooSkewed).
const DefaultSigV4MaxSkew = 5 * time.Minute

// Auth failure reasons, the values of rwkit_auth_failures_total{reason}.
const (
	AuthMissing     = "missing"      // no Authorization header
	AuthScheme      = "scheme"       // a scheme that is not configured (Basic, Bearer without a token ...)
	AuthMalformed   = "malformed"    // an AWS4-HMAC-SHA256 header that does not parse
	AuthAccessKey   = "access_key"   // unknown access key id
	AuthScope       = "scope"        // credential scope of another region, service or day
	AuthSkew        = "skew"         // X-Amz-Date missing or further than DefaultSigV4MaxSkew from now
	AuthPayloadHash = "payload_hash" // X-Amz-Content-Sha256 is not the SHA-256 of the body
	AuthSignature   = "signature"    // the signature does not match
	AuthToken       = "token"        // wrong bearer token
)

var authReasons = []string{AuthMissing, AuthScheme, AuthMalformed, AuthAccessKey, AuthScope, AuthSkew, AuthPayloadHash, AuthSignature, AuthToken}

type authConfig struct {
	sigv4  *sigv4Key
	bearer *[sha256.Size]byte // SHA-256 of the token: compared in constant time whatever its length
}

// sigv4Key is one static AWS credential the workspace verifies against.
type sigv4Key struct {
	accessKeyID, secret, region, service string
}

// String keeps the secret out of %v.
func (k *sigv4Key) String() string {
	return "sigv4Key{region: " + k.region + ", service: " + k.service + "}"
}

// GoString keeps the secret out of %#v.
func (k *sigv4Key) GoString() string { return k.String() }

// WithSigV4Auth makes the workspace verify AWS Signature Version 4 on every
// request against one static credential (service "aps", as AMP): the
// Authorization header is recomputed over the request as received (method,
// path, query, the headers it names as signed, and the SHA-256 of the body,
// which must also equal X-Amz-Content-Sha256 when that is sent), the
// credential scope must name region and aps, and X-Amz-Date must be within
// DefaultSigV4MaxSkew of the workspace's clock (WithClock). Temporary
// credentials (session tokens) are not verified: only the static key.
func WithSigV4Auth(accessKeyID, secretAccessKey, region string) Option {
	return optionFunc(func(c *config) error {
		if accessKeyID == "" || secretAccessKey == "" || region == "" {
			return errors.New("workspace: WithSigV4Auth: the access key id, the secret access key and the region must all be set")
		}
		if c.auth == nil {
			c.auth = &authConfig{}
		}
		c.auth.sigv4 = &sigv4Key{accessKeyID: accessKeyID, secret: secretAccessKey, region: region, service: "aps"}
		return nil
	})
}

// WithBearerToken makes the workspace accept requests that carry
// Authorization: Bearer token (compared in constant time). With
// WithSigV4Auth too, either is accepted.
func WithBearerToken(token string) Option {
	return optionFunc(func(c *config) error {
		token = strings.TrimSpace(token)
		if token == "" {
			return errors.New("workspace: WithBearerToken: the token is empty")
		}
		if c.auth == nil {
			c.auth = &authConfig{}
		}
		sum := sha256.Sum256([]byte(token))
		c.auth.bearer = &sum
		return nil
	})
}

type authHandler struct {
	next    http.Handler
	cfg     authConfig
	now     func() time.Time
	maxBody int
	// maxBodyName names the setting of maxBody (LimitNames).
	maxBodyName string
	failures    *prometheus.CounterVec
}

func newAuthHandler(next http.Handler, cfg *authConfig, reg prometheus.Registerer, maxBody int, maxBodyName string, now func() time.Time) (*authHandler, error) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rwkit_auth_failures_total",
		Help: "Requests refused with 403 because their credentials were missing or wrong, by reason.",
	}, []string{"reason"})
	if err := reg.Register(failures); err != nil {
		return nil, fmt.Errorf("workspace: registering metrics: %w (one registry per workspace)", err)
	}
	for _, r := range authReasons {
		failures.WithLabelValues(r)
	}
	return &authHandler{next: next, cfg: *cfg, now: now, maxBody: maxBody, maxBodyName: maxBodyName, failures: failures}, nil
}

// authError is a refusal: the reason counted and the text answered. The
// text never holds a credential.
type authError struct {
	reason, msg string
}

func (e *authError) Error() string { return e.msg }

func (h *authHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.URL.Path == "/-/healthy" || r.URL.Path == "/-/ready") {
		h.next.ServeHTTP(rw, r)
		return
	}
	err := h.check(rw, r)
	if err == nil {
		h.next.ServeHTTP(rw, r)
		return
	}
	var ae *authError
	if !errors.As(err, &ae) {
		// Reading the body failed: not an auth failure.
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			refuse(rw, http.StatusRequestEntityTooLarge, err.Error(), splitHint(h.maxBodyName))
			return
		}
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	h.failures.WithLabelValues(ae.reason).Inc()
	http.Error(rw, ae.msg+"\nrwkit: authentication failed ("+ae.reason+"); this workspace takes "+h.accepted(), http.StatusForbidden)
}

func (h *authHandler) accepted() string {
	var s []string
	if h.cfg.sigv4 != nil {
		s = append(s, "AWS SigV4 (service aps, region "+h.cfg.sigv4.region+")")
	}
	if h.cfg.bearer != nil {
		s = append(s, "Authorization: Bearer <token>")
	}
	return strings.Join(s, " or ")
}

func (h *authHandler) check(rw http.ResponseWriter, r *http.Request) error {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return &authError{AuthMissing, "Missing Authentication Token"}
	}
	scheme, rest, _ := strings.Cut(authz, " ")
	switch {
	case h.cfg.bearer != nil && strings.EqualFold(scheme, "Bearer"):
		sum := sha256.Sum256([]byte(strings.TrimSpace(rest)))
		if subtle.ConstantTimeCompare(sum[:], h.cfg.bearer[:]) != 1 {
			return &authError{AuthToken, "invalid bearer token"}
		}
		return nil
	case h.cfg.sigv4 != nil && scheme == sigv4Algorithm:
		return h.verifySigV4(rw, r, rest)
	}
	// The scheme is not echoed: a token sent without "Bearer " would be.
	return &authError{AuthScheme, "unsupported authorization scheme"}
}
