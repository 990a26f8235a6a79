package workspace

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

// UpstreamSigV4 is how the workspace signs for the upstream
// (Upstream.SigV4).
type UpstreamSigV4 struct {
	// Region to sign for. Empty: the region of an AMP URL, decided as
	// every rwkit command decides it (sigv4.Signing); another URL needs
	// one. Given with an AMP URL, it must be the URL's region.
	Region string
	// Credentials sign the requests (required). The AWS default chain's
	// are sigv4.LoadDefaultConfig's Credentials; rwkit serve uses those.
	Credentials aws.CredentialsProvider
}

// extend adds to a checked upstream what u asks beyond forwarding:
// signing its requests, explaining its refusals.
func (up *upstream) extend(u Upstream) error {
	up.explain = u.ExplainHeader
	if u.SigV4 == nil {
		return nil
	}
	rt, err := u.SigV4.transport(up.url.String(), up.client.Transport)
	if err != nil {
		return err
	}
	up.client.Transport, up.signs = rt, true
	return nil
}

// transport signs for s.Region, or the AMP URL's region, around next.
func (s *UpstreamSigV4) transport(rawURL string, next http.RoundTripper) (http.RoundTripper, error) {
	if s.Credentials == nil {
		return nil, errors.New("workspace: upstream SigV4: Credentials is nil: give a provider (the AWS default chain's: sigv4.LoadDefaultConfig)")
	}
	region, _, err := sigv4.Signing(rawURL, s.Region, true)
	if err != nil {
		return nil, fmt.Errorf("workspace: upstream SigV4: %w", err)
	}
	if region == "" {
		return nil, errors.New("workspace: upstream SigV4: no region: the upstream URL is not an Amazon Managed Service for Prometheus URL, whose host names it; set Region")
	}
	return sigv4.New(region, s.Credentials, sigv4.WithNext(next))
}
