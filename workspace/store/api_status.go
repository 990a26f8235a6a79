package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/rwkit/rwkit/internal/version"
)

// The calls Grafana's Prometheus data source makes besides queries (flavour
// and version detection, "Format query", the alerting and rules views, the
// exemplar toggle), answered in the shapes of web/api/v1/api.go. The store
// scrapes nothing and evaluates no rules: those lists are empty, as on a
// Prometheus configured without scrape configs and rule files.

// getOnly lists the endpoints Prometheus routes for GET only; a POST to
// one answers 405 there too.
var getOnly = map[string]bool{
	"status/buildinfo":   true,
	"status/runtimeinfo": true,
	"status/config":      true,
	"status/flags":       true,
	"status/tsdb":        true,
	"rules":              true,
	"alerts":             true,
	"targets":            true,
	"targets/metadata":   true,
}

// jsonResult encodes v with encoding/json: the status endpoints are asked
// for rarely, and their shapes are Prometheus's structs.
func jsonResult(v any) result {
	b, err := json.Marshal(v)
	if err != nil {
		return result{err: &apiError{errorInternal, err}}
	}
	return result{data: b}
}

// buildInfo is Prometheus's PrometheusVersion.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// prometheusRelease is the Prometheus release whose TSDB, engine and API
// the store embeds: go.mod's github.com/prometheus/prometheus v0.316.0 is
// Prometheus 3.16.0 (a test holds the two together).
const prometheusRelease = "3.16.0"

// buildInfoData answers status/buildinfo as a Prometheus (no "application"
// or "features" key: Grafana's flavour detection then says Prometheus) of
// prometheusRelease, with rwkit's version as semver build metadata:
// "3.16.0+rwkit.v0.3.1". Grafana compares versions as semver, so rwkit's
// own version (or "devel") alone would not do. Revision is the VCS
// revision go build recorded, if any; branch is "rwkit".
func buildInfoData() buildInfo {
	bi := buildInfo{
		Version:   prometheusRelease + "+rwkit." + semverBuildMetadata(version.Version()),
		Branch:    "rwkit",
		GoVersion: runtime.Version(),
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				bi.Revision = s.Value
			}
		}
	}
	return bi
}

// semverBuildMetadata keeps what semver allows in build metadata
// ([0-9A-Za-z-] identifiers separated by dots): "v0.3.1+dirty" becomes
// "v0.3.1.dirty".
func semverBuildMetadata(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
			b[i] = '.'
		}
	}
	return strings.Trim(strings.ReplaceAll(string(b), "..", "."), ".")
}

// runtimeInfo is Prometheus's RuntimeInfo.
type runtimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	CWD                 string    `json:"CWD"`
	Hostname            string    `json:"hostname"`
	ServerTime          time.Time `json:"serverTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	CorruptionCount     int64     `json:"corruptionCount"`
	GoroutineCount      int       `json:"goroutineCount"`
	GOMAXPROCS          int       `json:"GOMAXPROCS"`
	GOMEMLIMIT          int64     `json:"GOMEMLIMIT"`
	GOGC                string    `json:"GOGC"`
	GODEBUG             string    `json:"GODEBUG"`
	StorageRetention    string    `json:"storageRetention"`
}

// runtimeInfo answers status/runtimeinfo for this process. The store has
// no configuration file: its configuration is the Options it was opened
// with, so the "last configuration" is the open, and it always succeeded.
// corruptionCount is 0: a torn WAL is repaired at open (see the package
// comment) and not counted.
func (h *apiHandler) runtimeInfo() result {
	cwd, _ := os.Getwd()
	host, err := os.Hostname()
	if err != nil {
		return result{err: &apiError{errorInternal, fmt.Errorf("error getting hostname: %w", err)}}
	}
	return jsonResult(runtimeInfo{
		StartTime:           h.s.started,
		CWD:                 cwd,
		Hostname:            host,
		ServerTime:          h.s.opts.Now().UTC(),
		ReloadConfigSuccess: true,
		LastConfigTime:      h.s.started,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    model.Duration(h.s.opts.Retention).String(),
	})
}

// config answers status/config: {"yaml": ...}. The store has no
// prometheus.yml; the YAML is the Prometheus configuration that would
// store what the store stores: no scrape configs, no rule files, and the
// storage section the store's options set.
func (h *apiHandler) config() result {
	y := fmt.Sprintf(`# rwkit workspace: samples arrive by remote write; nothing is scraped and no rules are evaluated.
storage:
  tsdb:
    out_of_order_time_window: %s
  exemplars:
    max_exemplars: %d
`, model.Duration(h.s.opts.OutOfOrderWindow), h.s.opts.MaxExemplars)
	return jsonResult(struct {
		YAML string `json:"yaml"`
	}{y})
}

// flags answers status/flags with the Prometheus flags whose meaning the
// store's options have, each with the value that option has, formatted as
// Prometheus formats the flag.
func (h *apiHandler) flags() result {
	l := h.s.limits
	return jsonResult(map[string]string{
		"storage.tsdb.path":                h.s.dir,
		"storage.tsdb.retention.time":      model.Duration(h.s.opts.Retention).String(),
		"query.timeout":                    model.Duration(l.timeout).String(),
		"query.max-samples":                strconv.Itoa(l.maxSamples),
		"query.max-concurrency":            strconv.Itoa(l.concurrency),
		"query.lookback-delta":             "5m",
		"web.enable-remote-write-receiver": "true",
	})
}

// rules answers rules: no rule groups. The parameters Prometheus checks
// before it looks at its groups are checked the same way.
func (h *apiHandler) rules(r *http.Request) result {
	if _, err := h.matchers(r); err != nil {
		return result{err: badData(err)}
	}
	q := r.URL.Query()
	if typ := strings.ToLower(q.Get("type")); typ != "" && typ != "alert" && typ != "record" {
		return result{err: invalidParam(fmt.Errorf("not supported value %q", typ), "type")}
	}
	if s := strings.ToLower(q.Get("exclude_alerts")); s != "" {
		if _, err := strconv.ParseBool(s); err != nil {
			return result{err: invalidParam(fmt.Errorf("error converting exclude_alerts: %w", err), "exclude_alerts")}
		}
	}
	limit, token := q.Get("group_limit"), q.Get("group_next_token")
	if token != "" && limit == "" {
		return result{err: invalidParam(errors.New("group_limit needs to be present in order to paginate over the groups"), "group_next_token")}
	}
	if limit != "" {
		n, err := strconv.ParseInt(limit, 10, 32)
		if err != nil {
			return result{err: invalidParam(fmt.Errorf("group_limit needs to be a valid number: %w", err), "group_limit")}
		}
		if n <= 0 {
			return result{err: invalidParam(errors.New("group_limit needs to be greater than 0"), "group_limit")}
		}
		if token != "" {
			// No group can have produced the token.
			return result{err: invalidParam(fmt.Errorf("invalid group_next_token '%v'. were rule groups changed?", token), "group_next_token")}
		}
	}
	return result{data: []byte(`{"groups":[]}`)}
}

// targets answers targets: nothing is scraped. As in Prometheus, the
// dropped targets' counts are null when the state parameter leaves the
// dropped targets out.
func (h *apiHandler) targets(r *http.Request) result {
	switch strings.ToLower(r.URL.Query().Get("state")) {
	case "", "any", "dropped":
		return result{data: []byte(`{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}`)}
	}
	return result{data: []byte(`{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":null}`)}
}

// targetMetadata answers targets/metadata: no target, no metadata. Its
// parameters are checked as Prometheus checks them.
func (h *apiHandler) targetMetadata(r *http.Request) result {
	if s := r.FormValue("limit"); s != "" {
		if _, err := strconv.Atoi(s); err != nil {
			return result{err: badData(errors.New("limit must be a number"))}
		}
	}
	if m := r.FormValue("match_target"); m != "" {
		if _, err := h.s.parser.ParseMetricSelector(m); err != nil {
			return result{err: invalidParam(err, "match_target")}
		}
	}
	return result{data: []byte(`[]`)}
}

// formatQuery answers format_query with the expression as Prometheus's
// pretty-printer writes it.
func (h *apiHandler) formatQuery(r *http.Request) result {
	qs := r.FormValue("query")
	if apiErr := h.s.limits.checkLength(qs); apiErr != nil {
		return result{err: apiErr}
	}
	expr, err := h.s.parser.ParseExpr(qs)
	if err != nil {
		return result{err: invalidParam(err, "query")}
	}
	return result{data: appendString(nil, expr.Pretty(0))}
}
