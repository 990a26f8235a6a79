package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
)

// Credentials, time and session token of the AWS Signature Version 4 test
// suite (aws-sig-v4-test-suite, service "service", region "us-east-1").
const (
	suiteAccessKey = "AKIDEXAMPLE"
	suiteSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteToken     = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func fixedClock() time.Time { return suiteTime }

// recorder is a RoundTripper that keeps the request it was given.
type recorder struct {
	req  *http.Request
	body []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.req = req
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		r.body = b
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// TestSuiteVectors checks the Authorization header against the values AWS
// publishes for its SigV4 test suite. The suite's requests carry no
// X-Amz-Content-Sha256 header, so the transport is told not to add one.
func TestSuiteVectors(t *testing.T) {
	const scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	tests := []struct {
		name, method, token, want string
	}{
		{"get-vanilla", http.MethodGet, "", scope + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", http.MethodPost, "", scope + "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-sts-header-before", http.MethodPost, suiteToken, scope + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			tr, err := New("us-east-1", credentials.NewStaticCredentialsProvider(suiteAccessKey, suiteSecretKey, tt.token),
				WithService("service"), WithClock(fixedClock), WithNext(rec))
			if err != nil {
				t.Fatal(err)
			}
			tr.noContentSHA = true
			req, err := http.NewRequest(tt.method, "https://example.amazonaws.com/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rec.req.Header.Get("Authorization")); diff != "" {
				t.Errorf("Authorization (-want +got):\n%s", diff)
			}
			if got := rec.req.Header.Get("X-Amz-Date"); got != "20150830T123600Z" {
				t.Errorf("X-Amz-Date = %q, want 20150830T123600Z", got)
			}
			if got := rec.req.Header.Get("X-Amz-Security-Token"); got != tt.token {
				t.Errorf("X-Amz-Security-Token = %q, want %q", got, tt.token)
			}
		})
	}
}

// referenceSign computes a SigV4 Authorization header with the standard
// library only, step by step as AWS documents it, over the named headers.
// It is independent of aws-sdk-go-v2; TestReferenceSignMatchesSuite anchors
// it to a published value.
func referenceSign(method, host, path string, hdr http.Header, signed []string, body []byte, service, region, ak, sk string, at time.Time) string {
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	sort.Strings(signed)
	var canon strings.Builder
	for _, h := range signed {
		v := hdr.Get(h)
		if h == "host" {
			v = host
		}
		fmt.Fprintf(&canon, "%s:%s\n", h, strings.TrimSpace(v))
	}
	signedList := strings.Join(signed, ";")
	creq := strings.Join([]string{method, path, "", canon.String(), signedList, payload}, "\n")
	date := at.Format("20060102")
	scope := date + "/" + region + "/" + service + "/aws4_request"
	h := sha256.Sum256([]byte(creq))
	sts := strings.Join([]string{"AWS4-HMAC-SHA256", at.Format("20060102T150405Z"), scope, hex.EncodeToString(h[:])}, "\n")
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+sk), date), region), service), "aws4_request")
	sig := hex.EncodeToString(mac(key, sts))
	return "AWS4-HMAC-SHA256 Credential=" + ak + "/" + scope + ", SignedHeaders=" + signedList + ", Signature=" + sig
}

func TestReferenceSignMatchesSuite(t *testing.T) {
	hdr := http.Header{"X-Amz-Date": {"20150830T123600Z"}}
	got := referenceSign("POST", "example.amazonaws.com", "/", hdr, []string{"host", "x-amz-date"}, nil, "service", "us-east-1", suiteAccessKey, suiteSecretKey, suiteTime)
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("reference signer disagrees with the published post-vanilla vector (-want +got):\n%s", diff)
	}
}

// TestRemoteWriteShapedRequest signs a request shaped like a remote write
// to AMP (body, content headers, X-Amz-Content-Sha256) and compares with
// the reference signer.
func TestRemoteWriteShapedRequest(t *testing.T) {
	body := []byte("\xff\x06\x00\x00sNaPpY not really, but bytes all the same")
	rec := &recorder{}
	tr, err := New("us-west-2", credentials.NewStaticCredentialsProvider(suiteAccessKey, suiteSecretKey, ""),
		WithClock(fixedClock), WithNext(rec))
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write"
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "rwkit/test")
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	got := rec.req.Header
	sum := sha256.Sum256(body)
	if diff := cmp.Diff(hex.EncodeToString(sum[:]), got.Get("X-Amz-Content-Sha256")); diff != "" {
		t.Errorf("X-Amz-Content-Sha256 (-want +got):\n%s", diff)
	}
	hdr := got.Clone()
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	want := referenceSign("POST", "aps-workspaces.us-west-2.amazonaws.com", "/workspaces/ws-1234/api/v1/remote_write", hdr,
		[]string{"content-encoding", "content-length", "content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-prometheus-remote-write-version"},
		body, "aps", "us-west-2", suiteAccessKey, suiteSecretKey, suiteTime)
	if diff := cmp.Diff(want, got.Get("Authorization")); diff != "" {
		t.Errorf("Authorization (-want +got):\n%s", diff)
	}
	if !bytes.Equal(rec.body, body) {
		t.Errorf("next transport got body %q, want %q", rec.body, body)
	}
	// The clone must be replayable for redirects and retries.
	rc, err := rec.req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := io.ReadAll(rc)
	if !bytes.Equal(again, body) {
		t.Errorf("GetBody of the signed request = %q, want %q", again, body)
	}
	// The caller's request is untouched and can be replayed.
	if a := req.Header.Get("Authorization"); a != "" {
		t.Errorf("caller's request was modified: Authorization = %q", a)
	}
	rc, err = req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	again, _ = io.ReadAll(rc)
	if !bytes.Equal(again, body) {
		t.Errorf("caller's GetBody = %q, want %q", again, body)
	}
}

// TestServerSeesSignature sends through a real HTTP server, which checks
// the headers and recomputes the signature from what it received.
func TestServerSeesSignature(t *testing.T) {
	for _, token := range []string{"", suiteToken} {
		t.Run(fmt.Sprintf("token=%v", token != ""), func(t *testing.T) {
			body := bytes.Repeat([]byte("compressed-remote-write-body "), 100)
			var problems []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ := io.ReadAll(r.Body)
				sum := sha256.Sum256(got)
				if h := r.Header.Get("X-Amz-Content-Sha256"); h != hex.EncodeToString(sum[:]) {
					problems = append(problems, "X-Amz-Content-Sha256 "+h+" is not sha256 of the received body")
				}
				if d := r.Header.Get("X-Amz-Date"); d != "20150830T123600Z" {
					problems = append(problems, "X-Amz-Date = "+d)
				}
				if tok := r.Header.Get("X-Amz-Security-Token"); tok != token {
					problems = append(problems, "X-Amz-Security-Token = "+tok)
				}
				auth := r.Header.Get("Authorization")
				_, rest, _ := strings.Cut(auth, "SignedHeaders=")
				list, _, _ := strings.Cut(rest, ",")
				hdr := r.Header.Clone()
				hdr.Set("Content-Length", fmt.Sprint(r.ContentLength))
				want := referenceSign(r.Method, r.Host, r.URL.Path, hdr, strings.Split(list, ";"), got, "aps", "eu-central-1", suiteAccessKey, suiteSecretKey, suiteTime)
				if auth != want {
					problems = append(problems, fmt.Sprintf("Authorization = %q, want %q", auth, want))
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			tr, err := New("eu-central-1", credentials.NewStaticCredentialsProvider(suiteAccessKey, suiteSecretKey, token), WithClock(fixedClock))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: tr}
			resp, err := client.Post(srv.URL+"/workspaces/ws-1/api/v1/remote_write", "application/x-protobuf", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d", resp.StatusCode)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

type failingProvider struct{ err error }

func (p failingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, p.err
}

func TestCredentialsErrorReturned(t *testing.T) {
	cause := errors.New("failed to refresh cached credentials, no EC2 IMDS role found")
	called := false
	next := roundTripFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("must not be called")
	})
	tr, err := New("us-west-2", failingProvider{cause}, WithNext(next))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", strings.NewReader("x"))
	_, err = tr.RoundTrip(req)
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v, want it to wrap %v", err, cause)
	}
	if called {
		t.Error("unsigned request was sent")
	}
	var ce *CredentialsError
	if !errors.As(err, &ce) || ce.DefaultChain {
		t.Errorf("err = %#v, want a *CredentialsError for a provider given to New", err)
	}
	for _, want := range []string{"no AWS credentials", "us-west-2", "no EC2 IMDS role found", "sigv4.failingProvider"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNoSecretsInStrings(t *testing.T) {
	const secret, token = "SECRETsecretSECRETsecretSECRET1234567890", "TOKENtokenTOKENtokenTOKEN"
	tr, err := New("us-west-2", credentials.NewStaticCredentialsProvider("AKIDLEAKTEST", secret, token))
	if err != nil {
		t.Fatal(err)
	}
	_, errNoRegion := New("", credentials.NewStaticCredentialsProvider("AKIDLEAKTEST", secret, token))
	for _, s := range []string{
		tr.String(), fmt.Sprintf("%v", tr), fmt.Sprintf("%+v", tr), fmt.Sprintf("%#v", tr), fmt.Sprint(tr), errNoRegion.Error(),
	} {
		if strings.Contains(s, secret) || strings.Contains(s, token) {
			t.Errorf("string leaks a secret: %s", s)
		}
	}
}

func TestNewValidates(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	tests := []struct {
		name   string
		region string
		creds  aws.CredentialsProvider
		want   string
	}{
		{"no region", "", creds, "region is empty"},
		{"no credentials", "us-west-2", nil, "credentials provider is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.region, tt.creds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q) error = %v, want it to contain %q", tt.region, err, tt.want)
			}
		})
	}
}

func TestNewDefaultUsesEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", suiteAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", suiteSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "ap-southeast-2")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	rec := &recorder{}
	tr, err := NewDefault(context.Background(), "", WithClock(fixedClock), WithNext(rec))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Region() != "ap-southeast-2" {
		t.Errorf("Region() = %q, want ap-southeast-2 from AWS_REGION", tr.Region())
	}
	req, _ := http.NewRequest(http.MethodPost, "https://aps-workspaces.ap-southeast-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if a := rec.req.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/ap-southeast-2/aps/aws4_request, ") {
		t.Errorf("Authorization = %q", a)
	}
}
