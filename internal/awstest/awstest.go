// Package awstest puts a test's process in the state of a host without AWS
// credentials, so that every package that signs or calls AWS tests the
// same "no credentials" case against the real SDK default chain.
package awstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// ClearEnv clears every AWS_* variable and points HOME and the shared
// config and credentials files at an empty directory, so that neither the
// environment nor the files give the SDK's default chain anything. The
// variables come back when the test ends.
func ClearEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			// Setenv first so that the test restores the value, then
			// unset: an empty variable is not an absent one to the SDK.
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
}

// WithoutCredentials does what ClearEnv does and points instance metadata
// (IMDS) at a local server that answers 404 to everything, as a host
// without an instance role would: the token request's 404 is what makes
// the SDK warn "falling back to IMDSv1". It returns the count of requests
// IMDS received, so a test can show it reached the end of the chain.
func WithoutCredentials(t testing.TB) *atomic.Int32 {
	t.Helper()
	ClearEnv(t)
	var calls atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	return &calls
}

// Stderr runs f with the process's stderr captured and returns what was
// written there: the AWS SDK's default logger writes to os.Stderr, past
// any writer rwkit is given, and tests show that it stays silent.
func Stderr(t testing.TB, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	// Restore stderr even when f stops the test with t.Fatal.
	defer func() { os.Stderr = saved }()
	f()
	os.Stderr = saved
	w.Close()
	return <-done
}
