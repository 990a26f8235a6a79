package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// DefaultService is the SigV4 signing name of Amazon Managed Service for
// Prometheus (both its control plane and its aps-workspaces data plane).
const DefaultService = "aps"

// Header names the transport sets. The signer itself sets Authorization,
// X-Amz-Date and, for temporary credentials, X-Amz-Security-Token.
const (
	headerContentSHA256 = "X-Amz-Content-Sha256"
	headerAuthorization = "Authorization"
	headerDate          = "X-Amz-Date"
	headerSecurityToken = "X-Amz-Security-Token"
)

// Transport is an http.RoundTripper that signs every request with AWS
// Signature Version 4 and hands it to the next RoundTripper. It is safe for
// concurrent use.
//
// The payload hash is the SHA-256 of the exact body bytes sent (for remote
// write: the Snappy-compressed protobuf), sent in X-Amz-Content-Sha256 and
// included in the signature.
type Transport struct {
	region  string
	service string
	creds   aws.CredentialsProvider
	next    http.RoundTripper
	now     func() time.Time
	signer  *v4.Signer
	log     *slog.Logger // for NewDefault's AWS SDK log lines

	// provider is the type of the credentials provider given, and
	// defaultChain says it is the SDK's default chain: both for the
	// CredentialsError of a failed retrieval.
	provider     string
	defaultChain bool

	// noContentSHA skips the X-Amz-Content-Sha256 header; only the AWS
	// test-suite vectors, which do not sign that header, need it.
	noContentSHA bool
}

// Option configures a Transport. The set of options is closed: only this
// package can implement it.
type Option interface{ apply(*Transport) }

type optionFunc func(*Transport)

func (f optionFunc) apply(t *Transport) { f(t) }

// WithService sets the SigV4 signing name; the default is DefaultService
// ("aps"). An empty name keeps the default.
func WithService(service string) Option {
	return optionFunc(func(t *Transport) {
		if service != "" {
			t.service = service
		}
	})
}

// WithNext sets the RoundTripper that sends signed requests; nil means
// http.DefaultTransport.
func WithNext(next http.RoundTripper) Option {
	return optionFunc(func(t *Transport) { t.next = next })
}

// WithClock sets the source of the signing time; nil means time.Now. Tests
// use it to pin signatures.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(t *Transport) { t.now = now })
}

// WithLogger sends the AWS SDK's log lines (NewDefault's configuration;
// such as "falling back to IMDSv1") to l; without it they are dropped (the
// SDK's own default prints them on stderr).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(t *Transport) { t.log = l })
}

// New returns a Transport that signs for region with credentials from creds.
// A provider that is not already an *aws.CredentialsCache is wrapped in one,
// so credentials are fetched once and refreshed before they expire.
func New(region string, creds aws.CredentialsProvider, opts ...Option) (*Transport, error) {
	if region == "" {
		return nil, errors.New("sigv4: region is empty: pass the workspace's region (e.g. us-west-2) or read it from the AMP URL with sigv4.RegionFromURL")
	}
	if creds == nil {
		return nil, errors.New("sigv4: credentials provider is nil: pass one, or use sigv4.NewDefault for the AWS default credential chain")
	}
	provider := fmt.Sprintf("%T", creds)
	if _, ok := creds.(*aws.CredentialsCache); !ok {
		creds = aws.NewCredentialsCache(creds)
	}
	t := &Transport{
		region:   region,
		service:  DefaultService,
		creds:    creds,
		signer:   v4.NewSigner(),
		provider: provider,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(t)
		}
	}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// NewDefault returns a Transport whose credentials come from the AWS SDK's
// default chain, as config.LoadDefaultConfig resolves it: environment
// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// the shared config and credentials files (AWS_PROFILE), web identity
// (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN: EKS IRSA), the ECS container
// credentials endpoint (task roles) and EC2 instance metadata (IMDS).
//
// An empty region falls back to the region of the default config
// (AWS_REGION, AWS_DEFAULT_REGION or the profile's region). Credentials are
// resolved lazily, on the first request, so NewDefault does not fail when
// none are configured yet; the first RoundTrip does.
func NewDefault(ctx context.Context, region string, opts ...Option) (*Transport, error) {
	var probe Transport
	for _, o := range opts {
		if o != nil {
			o.apply(&probe)
		}
	}
	cfg, err := LoadDefaultConfig(ctx, region, probe.log)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("sigv4: no region: pass one, set AWS_REGION, or read it from the AMP URL with sigv4.RegionFromURL")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("sigv4: the AWS default config has no credentials provider")
	}
	t, err := New(cfg.Region, cfg.Credentials, opts...)
	if err != nil {
		return nil, err
	}
	t.defaultChain = true
	return t, nil
}

// Region returns the region the transport signs for.
func (t *Transport) Region() string { return t.region }

// Service returns the signing name.
func (t *Transport) Service() string { return t.service }

// String describes the transport without credentials.
func (t *Transport) String() string {
	return fmt.Sprintf("sigv4.Transport{service: %s, region: %s, credentials: %T}", t.service, t.region, t.creds)
}

// GoString keeps %#v from printing the credentials provider's fields.
func (t *Transport) GoString() string { return t.String() }

// RoundTrip signs a clone of req and sends it with the next RoundTripper.
// req itself is not modified. Its body is read once (through GetBody when
// set, so the caller can still replay it) and closed, as the RoundTripper
// contract requires; the signed clone gets a GetBody of its own, so
// redirects and retries below this transport can resend it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, fmt.Errorf("sigv4: read request body: %w", err)
	}
	ctx := req.Context()
	out := req.Clone(ctx)
	// A request that went through this transport before (a caller's retry)
	// carries an old signature; sign afresh.
	out.Header.Del(headerAuthorization)
	out.Header.Del(headerDate)
	out.Header.Del(headerSecurityToken)
	out.Header.Del(headerContentSHA256)
	if len(body) == 0 {
		out.Body = http.NoBody
		out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	out.ContentLength = int64(len(body))

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if !t.noContentSHA {
		out.Header.Set(headerContentSHA256, payloadHash)
	}

	creds, err := t.creds.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled or out of time while asking (IMDS, ECS): the
			// caller's deadline, not missing credentials.
			return nil, fmt.Errorf("sigv4: retrieve AWS credentials (service %s, region %s): %w", t.service, t.region, err)
		}
		ce := &CredentialsError{Service: t.service, Region: t.region, DefaultChain: t.defaultChain, Provider: t.provider, Err: err}
		var inner *CredentialsError
		if errors.As(err, &inner) {
			// From LoadDefaultConfig's provider: the SDK's reason is its Err.
			ce.DefaultChain, ce.Err = ce.DefaultChain || inner.DefaultChain, inner.Err
		}
		return nil, ce
	}
	if err := t.signer.SignHTTP(ctx, creds, out, payloadHash, t.service, t.region, t.now().UTC()); err != nil {
		// The signer's errors name the failing step, never the key.
		return nil, fmt.Errorf("sigv4: sign request: %w", err)
	}
	return t.next.RoundTrip(out)
}

// readBody returns the request body and closes req.Body. With GetBody set it
// reads a fresh copy so that req.Body's reader is not the only one.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	r := io.Reader(req.Body)
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		r = rc
	}
	size := req.ContentLength
	if size < 0 || size > 64<<20 {
		size = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
