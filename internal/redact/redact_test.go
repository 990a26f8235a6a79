package redact

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"http://h:9090/metrics":   "http://h:9090/metrics",
		"http://u:pw@h/metrics":   "http://u:xxxxx@h/metrics",
		"https://tok3n@h/metrics": "https://xxxxx@h/metrics",
		"http://u:p%40ss@h/x":     "http://u:xxxxx@h/x",
		"http://h/probe?module=http_2xx&target=a.example":                  "http://h/probe?module=http_2xx&target=a.example",
		"http://h/x?token=abc&module=m":                                    "http://h/x?token=xxxxx&module=m",
		"http://h/x?Access_Token=abc":                                      "http://h/x?Access_Token=xxxxx",
		"http://h/x?api_key=abc&apikey=d&KEY=e":                            "http://h/x?api_key=xxxxx&apikey=xxxxx&KEY=xxxxx",
		"http://h/x?password=a&passwd=b&pass=c&pwd=d":                      "http://h/x?password=xxxxx&passwd=xxxxx&pass=xxxxx&pwd=xxxxx",
		"http://h/x?secret=a&client_secret=b":                              "http://h/x?secret=xxxxx&client_secret=xxxxx",
		"http://h/x?sig=a&signature=b&auth=c&credential=d&authorization=e": "http://h/x?sig=xxxxx&signature=xxxxx&auth=xxxxx&credential=xxxxx&authorization=xxxxx",
		"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2026&X-Amz-Signature=ff&X-Amz-Security-Token=tt&X-Amz-Date=20261207T000000Z": "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx&X-Amz-Security-Token=xxxxx&X-Amz-Date=20261207T000000Z",
		"http://h/x?tok%65n=abc":                            "http://h/x?tok%65n=xxxxx",
		"http://h/x?token":                                  "http://h/x?xxxxx",
		"http://h/cb#access_token=abc&s=1":                  "http://h/cb#access_token=xxxxx&s=1",
		"http://h/probe?target=http%3A%2F%2Fu%3Apw%40t%2Fm": "http://h/probe?target=http%3A%2F%2Fu%3Axxxxx%40t%2Fm",
		// Unparsable: the password holds a '/', '%' that is no escape, a space.
		"http://u:p/w@h/metrics":          "http://u:xxxxx@h/metrics",
		"http://u:p%zz@h/metrics?token=t": "http://u:xxxxx@h/metrics?token=xxxxx",
		"http://u:p?w@h/metrics":          "http://u:xxxxx@h/metrics",
		"http://u:pw@h:bad port/x?k=v":    "http://u:xxxxx@h:bad port/x?k=v",
		"ht!tp://u:pw@h/x":                "ht!tp://u:xxxxx@h/x",
		// No scheme: Go reads "u" as the scheme and the rest as opaque.
		"u:pw@h:9090/metrics": "u:xxxxx@h:9090/metrics",
		"//u:pw@h/x":          "//u:xxxxx@h/x",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestSecretParam(t *testing.T) {
	for _, name := range []string{"token", "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Credential", "api_key", "access_token", "PASSWORD", "passwd", "auth", "client_secret", "sig"} {
		if !SecretParam(name) {
			t.Errorf("SecretParam(%q) = false", name)
		}
	}
	for _, name := range []string{"module", "target", "job", "match[]", "X-Amz-Date", "X-Amz-Algorithm", "query", "time"} {
		if SecretParam(name) {
			t.Errorf("SecretParam(%q) = true", name)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"no url here": "no url here",
		"is it? yes":  "is it? yes",
		`Get "http://u:pw@h/metrics?token=t": dial tcp 127.0.0.1:1: connect: connection refused`: `Get "http://u:xxxxx@h/metrics?token=xxxxx": dial tcp 127.0.0.1:1: connect: connection refused`,
		`Get "http://u:***@h/m?api_key=k": EOF`:                                                  `Get "http://u:xxxxx@h/m?api_key=xxxxx": EOF`,
		`msg="scrape failed" target=http://h:1/metrics?module=m&token=t err="x"`:                 `msg="scrape failed" target=http://h:1/metrics?module=m&token=xxxxx err="x"`,
		"parse u:pw@h/x: bad":                         "parse u:xxxxx@h/x: bad",
		"mail me at a@b.example, thanks":              "mail me at a@b.example, thanks",
		"two: http://a:1@h and https://b:2@g/?sig=3.": "two: http://a:xxxxx@h and https://b:xxxxx@g/?sig=xxxxx",
		`{"url":"http://u:pw@h/x"}`:                   `{"url":"http://u:xxxxx@h/x"}`,
		`already http://u:xxxxx@h?token=real`:         `already http://u:xxxxx@h?token=xxxxx`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// FuzzURL builds URLs around a secret, in the userinfo or in a parameter
// named like one, from fuzzed parts, and checks that neither URL nor Text
// ever returns the secret. The secret is alphanumeric so that it is the
// same text escaped or not; the parts around it are free.
//
//	go test -run XXX -fuzz FuzzURL ./internal/redact
func FuzzURL(f *testing.F) {
	f.Add("http://", "user", "s3cretPW", "token", "h:9090/metrics?module=x")
	f.Add("https://", "", "abcdefgh", "X-Amz-Signature", "h/p#frag")
	f.Add("", "u", "zzzzzzzz", "api_key", "h/a b?c=d")
	f.Add("ht!tp://", "u/", "Pa55word", "password", "h/%zz?x=@")
	f.Add("http://", "u", "QQQQQQQQ", "auth", "h/x?target=http://v:w@y")
	f.Fuzz(func(t *testing.T, prefix, user, secret, name, rest string) {
		if len(secret) < 6 || !SecretParam(name) || strings.ContainsAny(name, "&=#") {
			t.Skip()
		}
		for _, r := range secret {
			if r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				t.Skip()
			}
		}
		// A letter past F: the hex digits of escapes (%20) that URL adds
		// to other parts cannot spell it.
		if !strings.ContainsAny(strings.ToLower(secret), "ghijklmnopqrstuvwxyz") {
			t.Skip()
		}
		// The secret must appear only where it is put, and not be made of
		// the mask, or the check cannot tell a leak from the rest.
		others := prefix + "\x00" + user + "\x00" + name + "\x00" + rest + "\x00" + Mask
		if dec, err := url.QueryUnescape(others); err == nil {
			others += "\x00" + dec
		}
		if strings.Contains(strings.ToLower(others), strings.ToLower(secret)) {
			t.Skip()
		}
		// In the userinfo: when url.Parse agrees that it is the password,
		// or the text has an authority ("://") and the user name no
		// delimiter. And as a parameter: of a query or a fragment.
		var inputs []string
		withUser := prefix + user + ":" + secret + "@" + rest
		if u, err := url.Parse(withUser); err == nil {
			if p, _ := u.User.Password(); u.User != nil && p == secret {
				inputs = append(inputs, withUser)
			}
		} else if strings.HasSuffix(prefix, "://") && !strings.ContainsAny(user, "/?#@") && !strings.ContainsAny(prefix, "?#@") {
			inputs = append(inputs, withUser)
		}
		if !strings.ContainsAny(prefix+rest, "?#") {
			inputs = append(inputs, prefix+rest+"?"+name+"="+secret, prefix+rest+"#"+name+"="+secret)
		}
		if strings.Count(rest, "?") == 1 && !strings.Contains(rest, "#") && !strings.ContainsAny(prefix, "?#") {
			inputs = append(inputs, prefix+rest+"&"+name+"="+secret)
		}
		for _, in := range inputs {
			if strings.Count(strings.ToLower(in), strings.ToLower(secret)) != 1 {
				continue // the parts next to each other spell it too
			}
			// Nor may the rest of the URL spell it once escaped (" 0" is
			// "%200"): the same URL with the secret replaced must not show it.
			neutral := strings.Replace(in, secret, strings.Repeat("~", len(secret)), 1)
			if strings.Contains(strings.ToLower(URL(neutral)+Text(neutral)), strings.ToLower(secret)) {
				continue
			}
			if got := URL(in); strings.Contains(strings.ToLower(got), strings.ToLower(secret)) {
				t.Errorf("URL(%q) = %q: shows the secret", in, got)
			}
			if !strings.ContainsAny(in, " \t\r\n\f\"'`<>") {
				msg := `Post "` + in + `": dial tcp: connection refused`
				if got := Text(msg); strings.Contains(strings.ToLower(got), strings.ToLower(secret)) {
					t.Errorf("Text(%q) = %q: shows the secret", msg, got)
				}
			}
		}
	})
}

func TestURLUnchanged(t *testing.T) {
	for _, in := range []string{"/tmp/my file.txt", "-", "http://h/a%2fb?x=1&y=%7e", "http://h/probe?target=a.example&module=http_2xx", "metrics.txt"} {
		if got := URL(in); got != in {
			t.Errorf("URL(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Fatal("Error(nil) != nil")
	}
	cause := errors.New("refused")
	err := Error(fmt.Errorf(`Get "http://h/m?token=tokSECRET": %w`, cause))
	if strings.Contains(err.Error(), "tokSECRET") || !errors.Is(err, cause) {
		t.Errorf("Error: %q, errors.Is %v", err, errors.Is(err, cause))
	}
}
