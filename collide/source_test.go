package collide

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rwkit/rwkit/internal/redact"
)

func TestParseSource(t *testing.T) {
	// A file whose name holds "=" is a source, not NAME=SOURCE.
	withEquals := filepath.Join(t.TempDir(), "auth=1.txt")
	if err := os.WriteFile(withEquals, []byte("up 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec string
		want Source
	}{
		{"auth=a.txt", Source{Name: "auth", Location: "a.txt"}},
		{"auth/task-1=a.txt", Source{Name: "auth/task-1", Service: "auth", Location: "a.txt"}},
		{"testdata/auth.txt", Source{Name: "testdata/auth.txt", Location: "testdata/auth.txt"}},
		{withEquals, Source{Name: withEquals, Location: withEquals}},
		{"-", Source{Name: "-", Location: "-"}},
		{"piped=-", Source{Name: "piped", Location: "-"}},
		{"http://h:8080/metrics?x=1", Source{Name: "http://h:8080/metrics?x=1", Location: "http://h:8080/metrics?x=1"}},
		{"bff=http://h:8080/metrics?x=1", Source{Name: "bff", Location: "http://h:8080/metrics?x=1"}},
		{"https://u:pw@h/metrics", Source{Name: "https://u:xxxxx@h/metrics", Location: "https://u:pw@h/metrics"}},
		{"https://h/metrics?module=m&token=t", Source{Name: "https://h/metrics?module=m&token=xxxxx", Location: "https://h/metrics?module=m&token=t"}},
		{"bff=https://u:pw@h/metrics", Source{Name: "bff", Location: "https://u:pw@h/metrics"}},
		{"a://b=c", Source{Name: "a://b=c", Location: "a://b=c"}},
	} {
		got, err := ParseSource(tc.spec)
		if err != nil {
			t.Errorf("ParseSource(%q): %v", tc.spec, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Source{}, "In")); diff != "" {
			t.Errorf("ParseSource(%q) (-want +got):\n%s", tc.spec, diff)
		}
	}
	for _, spec := range []string{"", "=a.txt", "auth=", "="} {
		if _, err := ParseSource(spec); err == nil || !strings.Contains(err.Error(), "want [NAME=]SOURCE") {
			t.Errorf("ParseSource(%q) = %v, want an error", spec, err)
		}
	}
	if _, err := ParseSource("=https://u:pw@h/metrics"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("error %v, want one without the password", err)
	}
}

// FuzzParseSource: ParseSource never fails on a spec without "=", splits a
// named spec losslessly, and never puts a URL's password in a name or an
// error.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		"auth=a.txt", "auth/1=a.txt", "-", "a=-", "=", "=x", "x=", "http://h/metrics?a=b",
		"bff=http://u:pw@h/metrics", "http://u:pw@h:bad/metrics", "=http://u:pw@h/", "a://b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSource(spec)
		// The password of the http(s) URL the spec is or names, if any.
		password := ""
		loc := spec
		if before, after, ok := strings.Cut(spec, "="); ok && !isURL(spec) && !strings.Contains(before, "://") {
			loc = after
		}
		if isURL(loc) {
			i := strings.Index(loc, "://")
			if at := strings.LastIndexByte(loc, '@'); at > i {
				userinfo := loc[i+3 : at]
				// Only a password found nowhere else in the spec can be told apart.
				if _, p, ok := strings.Cut(userinfo, ":"); ok && len(p) >= 4 && !strings.ContainsAny(userinfo, "/?#") && strings.Count(spec, p) == 1 {
					password = p
				}
			}
		}
		if err != nil {
			if spec != "" && !strings.Contains(spec, "=") {
				t.Fatalf("ParseSource(%q): %v, though it has no =", spec, err)
			}
			if password != "" && strings.Contains(err.Error(), password) && !strings.Contains(`writer "": want [NAME=]SOURCE`, password) {
				t.Fatalf("ParseSource(%q): error %q shows the password", spec, err)
			}
			return
		}
		if s.Name == "" || s.Location == "" {
			t.Fatalf("ParseSource(%q) = %+v: empty name or location", spec, s)
		}
		if s.Location != spec && s.Name+"="+s.Location != spec {
			t.Fatalf("ParseSource(%q) = %+v: neither the whole spec nor NAME=SOURCE", spec, s)
		}
		if s.Service != "" && !strings.HasPrefix(s.Name, s.Service+"/") {
			t.Fatalf("ParseSource(%q) = %+v: service is not the name's prefix", spec, s)
		}
		if password != "" && (strings.Contains(s.Name, password) || strings.Contains(s.Service, password)) {
			t.Fatalf("ParseSource(%q) = %+v: the name shows the password", spec, s)
		}
		if s.Location == spec && isURL(spec) {
			if s.Name != redact.URL(spec) {
				t.Fatalf("ParseSource(%q) = %+v: name is not the redacted URL", spec, s)
			}
			if u, err := url.Parse(s.Name); err == nil && u.User != nil && password != "" && strings.Contains(u.User.String(), password) {
				t.Fatalf("ParseSource(%q) = %+v: name keeps user info", spec, s)
			}
		}
	})
}
