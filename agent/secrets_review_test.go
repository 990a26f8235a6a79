package agent

import (
	"strings"
	"testing"
)

// A configuration Prometheus' loader refuses: the error never shows a
// password, token or URL userinfo, not even its first characters.
func TestLoadErrorsHideSecrets(t *testing.T) {
	const scrape = "scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: [localhost:1]\n"
	for _, tc := range []struct{ name, yml string }{
		{"url with a bad escape", "remote_write:\n- url: http://user:s3cr%zzet@host/api\n"},
		{"url with a bad port", "remote_write:\n- url: http://user:s3cret@host:xx/api\n"},
		{"url with a slash in the password", "remote_write:\n- url: http://user:s3c/ret@host:xx/api\n"},
		{"authorization as a string", "remote_write:\n- url: http://host/api\n  authorization: s3cretTOKEN\n"},
		{"short authorization as a string", "remote_write:\n- url: http://host/api\n  authorization: s3cret\n"},
		{"basic_auth as a string", "remote_write:\n- url: http://host/api\n  basic_auth: s3cret:pass\n"},
		{"scrape basic_auth as a string", "remote_write:\n- url: http://host/api\n" +
			"scrape_configs:\n- job_name: b\n  basic_auth: s3cretpassword\n  static_configs:\n  - targets: [localhost:1]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yml := tc.yml
			if !strings.Contains(yml, "scrape_configs") {
				yml = scrape + yml
			}
			_, err := Load([]byte(yml), "f.yml")
			if err == nil {
				t.Fatal("loads")
			}
			if msg := err.Error(); strings.Contains(msg, "s3c") {
				t.Errorf("error shows a secret: %s", msg)
			}
		})
	}
}

// Flag mode: a remote-write or target URL whose password has a / ? or #
// unescaped does not parse; the error hides the password.
func TestStaticConfigURLErrorsHideSecrets(t *testing.T) {
	for _, u := range []string{"http://user:s3c/ret@host/api", "http://user:s3c#ret@host/api", "http://user:s3c?ret@host/api", "http://user:s3c%zz@host/api"} {
		_, err := StaticConfig([]Target{{URL: "http://localhost:1/metrics"}}, Global{RemoteWriteURL: u})
		if err == nil || strings.Contains(err.Error(), "s3c") {
			t.Errorf("remote write URL %s: error %v, want one without the password", u, err)
		}
		_, err = StaticConfig([]Target{{URL: u}}, Global{RemoteWriteURL: "http://host/api"})
		if err == nil || strings.Contains(err.Error(), "s3c") {
			t.Errorf("target %s: error %v, want one without the password", u, err)
		}
	}
}
