package sigv4

import (
	"fmt"
	"net/url"
	"strings"
)

// RegionFromURL returns the AWS region of an Amazon Managed Service for
// Prometheus data-plane URL and true, or "" and false when u is not one.
//
// The endpoint shapes are those AWS documents for the service
// (https://docs.aws.amazon.com/general/latest/gr/prometheus-service.html):
//
//	aps-workspaces.<region>.amazonaws.com       IPv4
//	aps-workspaces-fips.<region>.amazonaws.com  FIPS
//	aps-workspaces.<region>.api.aws             dual stack (IPv4 and IPv6)
//	aps-workspaces-fips.<region>.api.aws        FIPS, dual stack
//
// plus the China partition's amazonaws.com.cn and VPC interface endpoint
// names (vpce-....aps-workspaces.<region>.vpce.amazonaws.com).
func RegionFromURL(u string) (string, bool) {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return "", false
	}
	host := strings.ToLower(parsed.Hostname())
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if l != "aps-workspaces" && l != "aps-workspaces-fips" {
			continue
		}
		if i+1 >= len(labels) {
			return "", false
		}
		region := labels[i+1]
		rest := strings.Join(labels[i+2:], ".")
		switch rest {
		case "amazonaws.com", "amazonaws.com.cn", "api.aws", "vpce.amazonaws.com", "vpce.amazonaws.com.cn":
		default:
			return "", false
		}
		if !isRegion(region) {
			return "", false
		}
		return region, true
	}
	return "", false
}

// isRegion accepts names shaped like AWS regions: lowercase words joined by
// dashes, ending in a number (us-west-2, us-gov-west-1, ap-southeast-5).
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			last := i == len(parts)-1
			if last && (c < '0' || c > '9') || !last && (c < 'a' || c > 'z') {
				return false
			}
		}
	}
	return true
}

// Signing decides whether requests to rawURL are signed, and for which
// region; every rwkit command and the push library decide with it. An
// Amazon Managed Service for Prometheus URL is always signed, for the
// region its host names; region, when given, must be that one (AMP
// refuses a signature for another region). Another URL is signed only
// when region is given or force is set; the returned region is then
// region, or "" for the AWS configuration's (AWS_REGION, the profile).
func Signing(rawURL, region string, force bool) (signRegion string, sign bool, err error) {
	urlRegion, isAMP := RegionFromURL(rawURL)
	switch {
	case isAMP && region != "" && region != urlRegion:
		return "", false, fmt.Errorf("sigv4: region %q given, but the URL is an Amazon Managed Service for Prometheus workspace in %q, which refuses signatures for another region: give %q or no region", region, urlRegion, urlRegion)
	case isAMP:
		return urlRegion, true, nil
	case region != "" || force:
		return region, true, nil
	}
	return "", false, nil
}
