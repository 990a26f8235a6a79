package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	u, _ := url.Parse("http://h:9/metrics?module=m&token=tokSECRET1")
	log = log.With("pool", "http://u:pwSECRET2@h/x")
	log.WithGroup("g").Debug(`Get "http://u:pwSECRET3@h/m?api_key=keySECRET4": refused`,
		"target", u, "err", errors.New(`Post "http://h/w?X-Amz-Signature=sigSECRET5": EOF`),
		slog.Group("nested", "url", "http://h/?access_token=tokSECRET6"), "list", []string{"http://a:pwSECRET7@h"},
		"kept", "http://h/probe?module=http_2xx")
	out := buf.String()
	if strings.Contains(out, "SECRET") {
		t.Errorf("a secret was logged:\n%s", out)
	}
	for _, want := range []string{"module=m", "module=http_2xx", "token=xxxxx", "u:xxxxx@h"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
