package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// AWS's SigV4 test suite (aws-sig-v4-test-suite): credentials, time and
// the published Authorization headers (service "service", us-east-1).
const (
	suiteAccessKey = "AKIDEXAMPLE"
	suiteSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteToken     = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func TestSigV4SuiteVectors(t *testing.T) {
	const scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	for _, tc := range []struct {
		name, method, target, token, authz string
	}{
		{"get-vanilla", "GET", "/", "", scope + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST", "/", "", scope + "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", "", scope + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"post-sts-header-before", "POST", "/", suiteToken, scope + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://example.amazonaws.com"+tc.target, nil)
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			if tc.token != "" {
				r.Header.Set("X-Amz-Security-Token", tc.token)
			}
			r.Header.Set("Authorization", tc.authz)
			a, ok := parseSigV4(strings.TrimPrefix(tc.authz, "AWS4-HMAC-SHA256 "))
			if !ok {
				t.Fatal("the published header does not parse")
			}
			sum := sha256.Sum256(nil)
			got := sigv4Signature(suiteSecretKey, r, a, suiteTime, hex.EncodeToString(sum[:]))
			if !bytes.Equal(got, a.signature) {
				t.Errorf("signature %x, AWS publishes %x", got, a.signature)
			}
		})
	}
}

// TestSigV4AgreesWithSDK signs awkward requests with aws-sdk-go-v2's
// signer (what remotewrite/sigv4 uses) and verifies them as the workspace
// would receive them.
func TestSigV4AgreesWithSDK(t *testing.T) {
	for _, target := range []string{
		"/workspaces/ws-1/api/v1/remote_write",
		"/workspaces/ws-1/api/v1/query?query=sum%20by%20(job)%20(up)&time=1.5",
		"/workspaces/ws-1/api/v1/series?match[]=up&match[]=a-b&match[]=a/b",
		"/workspaces/w%20s/api/v1/labels?a=1&a-b=2&a=0",
		"/",
	} {
		t.Run(target, func(t *testing.T) {
			body := []byte("some body bytes")
			req, _ := http.NewRequest("POST", "http://127.0.0.1:9095"+target, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("X-Many-Spaces", "  a   b  ")
			sum := sha256.Sum256(body)
			hash := hex.EncodeToString(sum[:])
			req.Header.Set("X-Amz-Content-Sha256", hash)
			creds := aws.Credentials{AccessKeyID: suiteAccessKey, SecretAccessKey: suiteSecretKey}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "aps", "us-west-2", suiteTime); err != nil {
				t.Fatal(err)
			}
			// What the server sees: the request line as sent, Host, and
			// Content-Length moved out of the headers.
			r := httptest.NewRequest("POST", target, bytes.NewReader(body))
			r.Host = "127.0.0.1:9095"
			for k, v := range req.Header {
				r.Header[k] = v
			}
			h := &authHandler{cfg: authConfig{sigv4: &sigv4Key{suiteAccessKey, suiteSecretKey, "us-west-2", "aps"}}, now: func() time.Time { return suiteTime.Add(time.Minute) }, maxBody: 1 << 20}
			if err := h.check(httptest.NewRecorder(), r); err != nil {
				t.Fatalf("SDK-signed request refused: %v\nAuthorization: %s", err, req.Header.Get("Authorization"))
			}
		})
	}
}

func TestSigV4KeyHidesSecret(t *testing.T) {
	k := &sigv4Key{"AKID", "s3cr3t-value", "us-west-2", "aps"}
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("%q shows the secret", s)
		}
	}
}
