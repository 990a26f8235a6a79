// Package redact hides the secrets a URL may carry before rwkit prints it:
// the password of its userinfo and the values of query parameters named
// like credentials. It is the one place that decides what of a URL is
// shown, for every command's output, every log line and every error.
//
//	redact.URL("https://u:pw@h/metrics?module=http&token=t")
//	// "https://u:xxxxx@h/metrics?module=http&token=xxxxx"
//	redact.Text(`Get "http://u:pw@h/m?api_key=k": dial tcp: refused`)
//	// `Get "http://u:xxxxx@h/m?api_key=xxxxx": dial tcp: refused`
//
// It imports nothing of rwkit, so every package may use it.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a hidden value. It is what net/url's URL.Redacted puts in
// place of a password, so a URL redacted here reads like one redacted by
// the standard library.
const Mask = "xxxxx"

// secretWords are matched case-insensitively as substrings of a query
// parameter's name: "token" covers access_token and X-Amz-Security-Token,
// "key" api_key and apikey, "sig" signature and X-Amz-Signature, "pass"
// password and passwd, "auth" authorization. Hiding a harmless parameter
// (monkey=1) costs a little readability; showing a secret cannot be undone.
var secretWords = []string{"token", "key", "secret", "pass", "pwd", "sig", "credential", "auth", "jwt"}

// SecretParam reports whether the value of the query parameter name is
// hidden.
func SecretParam(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// URL returns raw with its secrets hidden: the password of its userinfo
// (user:xxxxx@, as URL.Redacted shows it; a userinfo without a password is
// often a token on its own, and is hidden whole), and the values of query
// and fragment parameters that SecretParam names. Other parameters
// (module=, target=) stay readable, except that a value that is itself a
// URL is redacted in turn. A URL that does not parse is redacted by its
// text: everything of an authority before its last "@" goes. A text with
// nothing to hide (a file name, a plain URL) comes back as it is.
func URL(raw string) string {
	var r redactor
	if out := r.url(raw); r.hidden {
		return out
	}
	// Nothing hidden: the text as given (url.URL.String would re-escape a
	// file name with a space, or reorder nothing but still differ).
	return raw
}

// A redactor remembers whether it hid anything, for Text, which leaves a
// word alone unless it did: URL re-escapes a word that merely looks like a
// URL.
type redactor struct{ hidden bool }

func (r *redactor) url(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return r.byText(raw)
	}
	if u.User != nil {
		r.hidden = true
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		} else {
			u.User = url.User(Mask)
		}
	}
	u.RawQuery = r.params(u.RawQuery)
	if u.Fragment != "" {
		// OAuth's implicit flow puts access_token in the fragment.
		frag := r.params(u.EscapedFragment())
		if f, err := url.PathUnescape(frag); err == nil {
			u.Fragment, u.RawFragment = f, frag
		} else {
			u.Fragment, u.RawFragment = Mask, ""
		}
	}
	return u.String()
}

// byText redacts a URL that url.Parse rejects, or that it reads as opaque
// ("user:pw@host" without a scheme parses as scheme "user"). Such a text
// can be read two ways, and whatever either reading calls secret is
// hidden: without a userinfo, the parameters after the first "?" or "#";
// with one, the userinfo up to the last "@" of all (a password that makes
// a URL unparsable often holds a "/", "?" or "#" unescaped, so the
// authority cannot be trusted to end at the first of those) and the
// parameters after it. An "@" in a path or query hides more than needed,
// in an error message only.
func (r *redactor) byText(s string) string {
	hide := make([]bool, len(s))
	from := 0
	if i := strings.Index(s, "://"); i >= 0 && !strings.ContainsAny(s[:i], "?#") {
		from = i + 3
	}
	r.markParams(s, from, hide)
	if at := strings.LastIndexByte(s[from:], '@'); at >= 0 {
		at += from
		pw := from // the userinfo is hidden from here to the "@"
		if user, _, ok := strings.Cut(s[from:at], ":"); ok && user != "" && !strings.ContainsAny(user, "/?#%") {
			pw = from + len(user) + 1
		}
		for i := pw; i < at; i++ {
			hide[i] = true
		}
		r.markParams(s, at+1, hide)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !hide[i] {
			b.WriteByte(s[i])
			continue
		}
		r.hidden = true
		b.WriteString(Mask)
		for i+1 < len(s) && hide[i+1] {
			i++
		}
	}
	return b.String()
}

// markParams marks in hide what params would hide of the query and the
// fragment that start at the first "?" or "#" in s from from on.
func (r *redactor) markParams(s string, from int, hide []bool) {
	i := strings.IndexAny(s[from:], "?#")
	if i < 0 {
		return
	}
	start := from + i + 1
	for start <= len(s) {
		end := len(s)
		if s[start-1] == '?' {
			if j := strings.IndexByte(s[start:], '#'); j >= 0 {
				end = start + j
			}
		}
		for p := start; p <= end; {
			q := strings.IndexByte(s[p:end], '&')
			if q < 0 {
				q = end - p
			}
			var sub redactor
			if hidden := sub.params(s[p : p+q]); sub.hidden {
				// Hide the value, or the whole parameter when params
				// hid all of it.
				k, _, ok := strings.Cut(s[p:p+q], "=")
				lo := p
				if ok && hidden != Mask {
					lo = p + len(k) + 1
				}
				for x := lo; x < p+q; x++ {
					hide[x] = true
				}
			}
			p += q + 1
		}
		start = end + 1
		if end >= len(s) {
			return
		}
	}
}

// params hides the values of secret-named parameters in an encoded query
// (a=1&token=x), keeping the rest of it byte for byte: the order and the
// escaping the user wrote are what they will recognise.
func (r *redactor) params(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, v, hasValue := strings.Cut(p, "=")
		name := k
		if n, err := url.QueryUnescape(k); err == nil {
			name = n
		}
		switch {
		case SecretParam(name) && hasValue:
			r.hidden = true
			parts[i] = k + "=" + Mask
		case SecretParam(name):
			// A bare token (?s3cr3t-key) is not told from a flag: a name
			// that looks secret is hidden itself.
			r.hidden = true
			parts[i] = Mask
		case hasValue && strings.ContainsAny(v, "@?%"):
			// blackbox_exporter's ?target= holds a URL: redact it too.
			if dec, err := url.QueryUnescape(v); err == nil {
				if red := r.url(dec); red != dec {
					parts[i] = k + "=" + url.QueryEscape(red)
				}
			}
		}
	}
	return strings.Join(parts, "&")
}

// inText finds what Text redacts: a URL with a scheme, or a word that has
// a userinfo ("user:pw@host") a query or a fragment ("host/x?token=t"). Words end at
// white space and at the quotes and brackets that messages put around
// URLs (Go's %q, logfmt, JSON).
var inText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'`<>]*|[^\\s\"'`<>=]*[@?#][^\\s\"'`<>]*")

// Text returns s with every URL in it redacted as URL does: for error
// messages and log lines, which embed URLs (net/http's
// `Get "http://u:pw@h/metrics?token=t": ...`, Prometheus' target=...).
func Text(s string) string {
	if !strings.ContainsAny(s, "@?#") {
		// Nothing to hide: no userinfo, no query. Most log lines.
		return s
	}
	return inText.ReplaceAllStringFunc(s, func(m string) string {
		var r redactor
		if out := r.url(m); r.hidden {
			return out
		}
		return m
	})
}

// Error returns err with its text redacted as Text does; errors.Is and
// errors.As still see err. nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	return &redactedError{err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return Text(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
