package collide

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rwkit/rwkit/internal/redact"
	"github.com/rwkit/rwkit/wire"
)

// Source is where one writer's exposition comes from, for Load.
type Source struct {
	// Name names the writer in the report; empty means Location, without
	// credentials.
	Name string
	// Service is the writer's service when known (see Writer.Service).
	Service string
	// Location is a file, an http(s) URL of a /metrics endpoint to scrape,
	// or "-" for In. A URL may carry user:password@; the password is sent
	// as basic auth and never appears in a Writer, a Report or an error.
	Location string
	// In, when not nil, is read instead of opening Location, which then
	// only names the source in the report.
	In io.Reader
	// Labels are added to every series the writer sends, as push --label
	// adds them; a label that a metric already has is an error, as it is
	// for push.
	Labels []wire.Label
}

// ParseSource reads a writer given as [NAME=]SOURCE, as rwkit collide takes
// it: SOURCE is a file, an http(s) URL or "-"; NAME defaults to SOURCE
// (without credentials) and may be SERVICE/INSTANCE, which sets Service so
// that writers of one service are taken as its replicas. A URL, or the path
// of an existing file, is a SOURCE even if it contains "=".
func ParseSource(spec string) (Source, error) {
	if spec == "" {
		return Source{}, errors.New(`writer "": want [NAME=]SOURCE`)
	}
	unnamed := Source{Name: redact.URL(spec), Location: spec}
	if isURL(spec) {
		return unnamed, nil
	}
	if _, err := os.Stat(spec); err == nil {
		return unnamed, nil
	}
	name, loc, ok := strings.Cut(spec, "=")
	if !ok || strings.Contains(name, "://") {
		return unnamed, nil
	}
	if name == "" || loc == "" {
		// Shown without the password a URL after "=" may carry.
		return Source{}, fmt.Errorf("writer %q: want [NAME=]SOURCE", name+"="+redact.URL(loc))
	}
	s := Source{Name: name, Location: loc}
	if svc, _, ok := strings.Cut(name, "/"); ok {
		s.Service = svc
	}
	return s, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
