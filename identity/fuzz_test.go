package identity

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func FuzzParseResourceAttributes(f *testing.F) {
	for _, s := range []string{
		"",
		"service.name=auth,service.instance.id=a-1",
		" service.name = auth%20svc , x=%2C",
		"a=%zz,=v,broken,,k=a=b",
		"service.name=%ff",
		"service.instance.id=%20%0A",
		"k=%C3%A9,k=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attrs, notes := parseResourceAttributes(s)
		if n := strings.Count(s, ",") + 1; len(attrs)+len(notes) > n {
			t.Fatalf("%d attrs + %d notes from %d list members", len(attrs), len(notes), n)
		}
		for k := range attrs {
			if k == "" || k != strings.TrimSpace(k) || strings.ContainsAny(k, ",=") {
				t.Fatalf("bad key %q", k)
			}
		}
		// Formatting what was parsed and parsing it again is lossless.
		again, notes2 := parseResourceAttributes(formatResourceAttributes(attrs))
		if len(notes2) != 0 {
			t.Fatalf("reparse notes: %q", notes2)
		}
		if diff := cmp.Diff(attrs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}

		// Resolve never panics on it, and what it returns is usable.
		id, err := Resolve(context.Background(), Options{
			Getenv:     env(map[string]string{EnvOTelResourceAttributes: s}),
			Hostname:   hostname("h"),
			DisableECS: true, DisableKubernetes: true,
		})
		var ue *UnresolvedError
		switch {
		case errors.As(err, &ue):
		case err != nil:
			if !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Fatalf("unexpected error: %v", err)
			}
		default:
			for _, v := range []Value{id.Service, id.Instance} {
				if v.Value == "" || v.Value != strings.TrimSpace(v.Value) || !utf8.ValidString(v.Value) {
					t.Fatalf("unusable value %+v", v)
				}
			}
		}
	})
}

// formatResourceAttributes is the inverse of parseResourceAttributes.
func formatResourceAttributes(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + url.PathEscape(attrs[k]))
	}
	return b.String()
}
