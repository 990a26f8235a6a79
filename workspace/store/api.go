package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// The Prometheus HTTP API v1 subset the workspace serves, written after
// web/api/v1/api.go (which this package does not import: it pulls in the
// whole Prometheus server). Parameters, defaults, error types, status codes
// and messages follow that file.

// DefaultTenant is the tenant of requests that name none (Cortex's
// X-Scope-OrgID absent; Prometheus-shaped paths).
const DefaultTenant = "default"

// TenantFromRequest is the default tenant resolver of APIHandler: the {id}
// of a /workspaces/{id}/ path (AMP), else the X-Scope-OrgID header (Cortex),
// else DefaultTenant.
func TenantFromRequest(r *http.Request) (string, error) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/workspaces/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return id, nil
	}
	if id := r.Header.Get("X-Scope-OrgID"); id != "" {
		return id, nil
	}
	return DefaultTenant, nil
}

// APIHandler returns the Prometheus HTTP API (query, query_range, series,
// labels, label/{name}/values, metadata, query_exemplars, format_query;
// GET or form POST; and, GET only, the calls Grafana makes besides:
// status/{buildinfo,runtimeinfo,config,flags,tsdb}, rules, alerts, targets,
// targets/metadata) for the tenant tenantOf names; nil tenantOf means
// TenantFromRequest. It routes on the
// part of the path after the first "/api/v1/", so it can be mounted as is
// under /workspaces/{id}/api/v1/ and /prometheus/api/v1/, or behind
// http.StripPrefix. A tenant that has never been written to answers empty
// results; tenantOf errors and invalid ids answer 400 bad_data.
func (s *Store) APIHandler(tenantOf func(*http.Request) (string, error)) http.Handler {
	if tenantOf == nil {
		tenantOf = TenantFromRequest
	}
	return &apiHandler{s: s, tenantOf: tenantOf}
}

type apiHandler struct {
	s        *Store
	tenantOf func(*http.Request) (string, error)
}

// Error types and their status codes (web/api/v1/api.go errorType and
// getDefaultErrorCode).
type errorType string

const (
	errorTimeout  errorType = "timeout"
	errorCanceled errorType = "canceled"
	errorExec     errorType = "execution"
	errorBadData  errorType = "bad_data"
	errorInternal errorType = "internal"
	errorNotFound errorType = "not_found"
)

func (t errorType) status() int {
	switch t {
	case errorBadData:
		return http.StatusBadRequest
	case errorExec:
		return http.StatusUnprocessableEntity
	case errorCanceled:
		return 499 // client closed request, as Prometheus answers
	case errorTimeout:
		return http.StatusServiceUnavailable
	case errorNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

type apiError struct {
	typ errorType
	err error
}

func badData(err error) *apiError { return &apiError{errorBadData, err} }

func invalidParam(err error, name string) *apiError {
	return badData(fmt.Errorf("invalid parameter %q: %w", name, err))
}

// result is what an endpoint produces: the encoded data, or an error;
// neither answers 204 No Content.
type result struct {
	data     []byte
	err      *apiError
	warnings annotations.Annotations
	query    string
}

func (h *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, &apiError{errorBadData, fmt.Errorf("method %s not allowed; use GET or POST", r.Method)})
		return
	}
	endpoint := r.URL.Path
	if i := strings.Index(endpoint, "/api/v1/"); i >= 0 {
		endpoint = endpoint[i+len("/api/v1/"):]
	}
	endpoint = strings.TrimPrefix(endpoint, "/")

	if err := r.ParseForm(); err != nil {
		h.respond(w, result{err: badData(fmt.Errorf("error parsing form values: %w", err))})
		return
	}
	id, err := h.tenantOf(r)
	if err != nil {
		h.respond(w, result{err: badData(err)})
		return
	}
	t, err := h.s.lookup(id)
	if err != nil {
		h.respond(w, result{err: badData(err)})
		return
	}
	var q storage.Queryable = emptyQueryable
	if t != nil {
		q = t
	}

	var res result
	switch {
	case endpoint == "query":
		res = h.query(r, q)
	case endpoint == "query_range":
		res = h.queryRange(r, q)
	case endpoint == "series":
		res = h.series(r, q)
	case endpoint == "labels":
		res = h.labelNames(r, q)
	case strings.HasPrefix(endpoint, "label/") && strings.HasSuffix(endpoint, "/values") && len(endpoint) > len("label//values"):
		res = h.labelValues(r, q, endpoint[len("label/"):len(endpoint)-len("/values")])
	case endpoint == "metadata":
		res = h.metadata(r, t)
	case getOnly[endpoint] && r.Method != http.MethodGet:
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, badData(fmt.Errorf("method %s not allowed for %s; use GET", r.Method, endpoint)))
		return
	case endpoint == "query_exemplars":
		res = h.queryExemplars(r, t)
	case endpoint == "format_query":
		res = h.formatQuery(r)
	case endpoint == "status/tsdb":
		res = h.tsdbStatus(r, t)
	case endpoint == "status/buildinfo":
		res = jsonResult(buildInfoData())
	case endpoint == "status/runtimeinfo":
		res = h.runtimeInfo()
	case endpoint == "status/config":
		res = h.config()
	case endpoint == "status/flags":
		res = h.flags()
	case endpoint == "rules":
		res = h.rules(r)
	case endpoint == "alerts":
		res = result{data: []byte(`{"alerts":[]}`)}
	case endpoint == "targets":
		res = h.targets(r)
	case endpoint == "targets/metadata":
		res = h.targetMetadata(r)
	default:
		res = result{err: &apiError{errorNotFound, fmt.Errorf("unknown endpoint %q; this API serves query, query_range, series, labels, label/<name>/values, metadata, query_exemplars, format_query, rules, alerts, targets, targets/metadata and status/{buildinfo,runtimeinfo,config,flags,tsdb}", endpoint)}}
	}
	h.respond(w, res)
}

func (h *apiHandler) respond(w http.ResponseWriter, res result) {
	if res.err != nil {
		writeError(w, res.err.typ.status(), res.err)
		return
	}
	if res.data == nil {
		// Nothing to say (query_exemplars without a selector): 204, as
		// web/api/v1/api.go answers a nil result.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	warns, infos := res.warnings.AsStrings(res.query, 10, 10)
	b := make([]byte, 0, len(res.data)+64)
	b = append(b, `{"status":"success","data":`...)
	b = append(b, res.data...)
	b = appendStringList(b, "warnings", warns)
	b = appendStringList(b, "infos", infos)
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, code int, e *apiError) {
	b := []byte(`{"status":"error","errorType":`)
	b = appendString(b, string(e.typ))
	b = append(b, `,"error":`...)
	b = appendString(b, e.err.Error())
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func appendStringList(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, ',')
	b = appendString(b, key)
	b = append(b, ':')
	return appendStrings(b, ss)
}

func (h *apiHandler) queryOpts(r *http.Request) (promql.QueryOpts, *apiError) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, badData(fmt.Errorf("error parsing lookback delta duration: %w", err))
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(r.FormValue("stats") == statsAll, lookback, nil), nil
}

// queryContext bounds a query by Options.QueryTimeout, or by the request's
// timeout parameter when it is shorter. The engine applies its own timeout
// to evaluation only; this one also bounds parsing and the wait for a
// concurrency slot, which in Prometheus only the timeout parameter bounds.
func (h *apiHandler) queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	timeout := h.s.limits.timeout
	if v := r.FormValue("timeout"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, nil, invalidParam(err, "timeout")
		}
		if d <= 0 {
			return nil, nil, invalidParam(fmt.Errorf("timeout must be positive, got %s", d), "timeout")
		}
		timeout = min(timeout, d)
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

func (h *apiHandler) query(r *http.Request, q storage.Queryable) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return result{err: invalidParam(err, "limit")}
	}
	ts, err := parseTimeParam(r, "time", h.s.opts.Now())
	if err != nil {
		return result{err: invalidParam(err, "time")}
	}
	return h.runQuery(r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return h.s.engine.NewInstantQuery(ctx, q, opts, qs, ts)
	})
}

func (h *apiHandler) queryRange(r *http.Request, q storage.Queryable) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return result{err: invalidParam(err, "limit")}
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return result{err: invalidParam(err, "start")}
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return result{err: invalidParam(err, "end")}
	}
	if end.Before(start) {
		return result{err: invalidParam(errors.New("end timestamp must not be before start time"), "end")}
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return result{err: invalidParam(err, "step")}
	}
	if step <= 0 {
		return result{err: invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")}
	}
	// web/api/v1/api.go: "For safety, limit the number of returned points
	// per timeseries."
	if end.Sub(start)/step > 11000 {
		return result{err: badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))}
	}
	return h.runQuery(r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return h.s.engine.NewRangeQuery(ctx, q, opts, qs, start, end, step)
	})
}

// runQuery is what /query and /query_range share once their own
// parameters are read: the timeout, the query options and the query's
// length limit, then the query newQuery builds, executed.
func (h *apiHandler) runQuery(r *http.Request, limit int, newQuery func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error)) result {
	ctx, cancel, apiErr := h.queryContext(r)
	if apiErr != nil {
		return result{err: apiErr}
	}
	defer cancel()
	opts, apiErr := h.queryOpts(r)
	if apiErr != nil {
		return result{err: apiErr}
	}
	qs := r.FormValue("query")
	if apiErr := h.s.limits.checkLength(qs); apiErr != nil {
		return result{err: apiErr}
	}
	qry, err := newQuery(ctx, opts, qs)
	if err != nil {
		return result{err: h.queryConstructionError(err)}
	}
	defer qry.Close()
	return h.execQuery(ctx, qry, qs, limit, r.FormValue("stats"))
}

func (h *apiHandler) execQuery(ctx context.Context, qry promql.Query, qs string, limit int, statsParam string) result {
	res := qry.Exec(ctx)
	if res.Err != nil {
		return result{err: returnAPIError(h.s.limits.explain(res.Err)), warnings: res.Warnings, query: qs}
	}
	warnings := res.Warnings
	if limit > 0 {
		truncated := false
		switch v := res.Value.(type) {
		case promql.Matrix:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		case promql.Vector:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		}
		if truncated {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
		}
	}
	if warn := statsParamWarning(statsParam); warn != nil {
		warnings = warnings.Add(warn)
	}
	b := []byte(`{"resultType":`)
	b = appendString(b, string(res.Value.Type()))
	b = append(b, `,"result":`...)
	b = appendValue(b, res.Value)
	if statsParam != "" {
		b = append(b, `,"stats":`...)
		var err error
		if b, err = appendQueryStats(b, qry); err != nil {
			return result{err: &apiError{errorInternal, err}}
		}
	}
	b = append(b, '}')
	return result{data: b, warnings: warnings, query: qs}
}

// queryConstructionError follows web/api/v1/api.go: building a query fails
// on a bad expression (bad_data) or when it already ran out of time.
func (h *apiHandler) queryConstructionError(err error) *apiError {
	err = h.s.limits.explain(err)
	var eqt promql.ErrQueryTimeout
	var eqc promql.ErrQueryCanceled
	if errors.As(err, &eqt) || errors.As(err, &eqc) {
		return returnAPIError(err)
	}
	return invalidParam(err, "query")
}

// returnAPIError is web/api/v1/api.go's mapping of query errors.
func returnAPIError(err error) *apiError {
	var eqc promql.ErrQueryCanceled
	var eqt promql.ErrQueryTimeout
	var es promql.ErrStorage
	switch {
	case errors.As(err, &eqc):
		return &apiError{errorCanceled, err}
	case errors.As(err, &eqt), errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	case errors.As(err, &es):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	}
	return &apiError{errorExec, err}
}

func (h *apiHandler) matchers(r *http.Request) ([][]*labels.Matcher, error) {
	sets, err := h.s.parser.ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		return nil, err
	}
outer:
	for _, ms := range sets {
		for _, m := range ms {
			if m != nil && !m.Matches("") {
				continue outer
			}
		}
		return nil, errors.New("match[] must contain at least one non-empty matcher")
	}
	return sets, nil
}

// metadataParams parses the limit and the optional start and end of the
// metadata endpoints (/series, /labels, /label/{name}/values).
func metadataParams(r *http.Request) (limit int, mint, maxt int64, apiErr *apiError) {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return 0, 0, 0, invalidParam(err, "limit")
	}
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return 0, 0, 0, invalidParam(err, "start")
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return 0, 0, 0, invalidParam(err, "end")
	}
	return limit, timestamp.FromTime(start), timestamp.FromTime(end), nil
}

func (h *apiHandler) series(r *http.Request, q storage.Queryable) result {
	if len(r.Form["match[]"]) == 0 {
		return result{err: badData(errors.New("no match[] parameter provided"))}
	}
	limit, mint, maxt, apiErr := metadataParams(r)
	if apiErr != nil {
		return result{err: apiErr}
	}
	sets, err := h.matchers(r)
	if err != nil {
		return result{err: invalidParam(err, "match[]")}
	}
	querier, err := q.Querier(mint, maxt)
	if err != nil {
		return result{err: returnAPIError(err)}
	}
	defer querier.Close()
	ctx := r.Context()
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series", Limit: hintLimit(limit)}
	var set storage.SeriesSet
	if len(sets) > 1 {
		ss := make([]storage.SeriesSet, 0, len(sets))
		for _, ms := range sets {
			ss = append(ss, querier.Select(ctx, true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(ss, 0, storage.ChainedSeriesMerge)
	} else {
		set = querier.Select(ctx, false, hints, sets[0]...)
	}
	b := []byte{'['}
	n := 0
	var warnings annotations.Annotations
	for set.Next() {
		if n%100 == 99 {
			if err := ctx.Err(); err != nil {
				return result{err: returnAPIError(err)}
			}
		}
		if limit > 0 && n == limit {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
			break
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendLabels(b, set.At().Labels())
		n++
	}
	if err := set.Err(); err != nil {
		return result{err: returnAPIError(err)}
	}
	warnings.Merge(set.Warnings())
	return result{data: append(b, ']'), warnings: warnings}
}

func (h *apiHandler) labelNames(r *http.Request, q storage.Queryable) result {
	return h.labelStrings(r, q, returnAPIError, func(ctx context.Context, querier storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return querier.LabelNames(ctx, hints, ms...)
	})
}

func (h *apiHandler) labelValues(r *http.Request, q storage.Queryable, name string) result {
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return result{err: badData(fmt.Errorf("invalid label name: %q", name))}
	}
	execErr := func(err error) *apiError { return &apiError{errorExec, err} }
	return h.labelStrings(r, q, execErr, func(ctx context.Context, querier storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return querier.LabelValues(ctx, name, hints, ms...)
	})
}

// labelStrings is what /labels and /label/{name}/values share: limit, time
// range and match[] parameters, a querier (its error mapped by querierErr),
// and get run per matcher set.
func (h *apiHandler) labelStrings(r *http.Request, q storage.Queryable, querierErr func(error) *apiError,
	get func(context.Context, storage.Querier, *storage.LabelHints, []*labels.Matcher) ([]string, annotations.Annotations, error)) result {
	limit, mint, maxt, apiErr := metadataParams(r)
	if apiErr != nil {
		return result{err: apiErr}
	}
	sets, err := h.matchers(r)
	if err != nil {
		return result{err: badData(err)}
	}
	querier, err := q.Querier(mint, maxt)
	if err != nil {
		return result{err: querierErr(err)}
	}
	defer querier.Close()
	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	vals, warnings, err := collectStrings(sets, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return get(r.Context(), querier, hints, ms)
	})
	if err != nil {
		return result{err: &apiError{errorExec, err}}
	}
	return stringsResult(vals, limit, warnings)
}

// collectStrings runs get once without matchers or once per matcher set and
// returns the sorted union.
func collectStrings(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, annotations.Annotations, error)) ([]string, annotations.Annotations, error) {
	if len(sets) <= 1 {
		var ms []*labels.Matcher
		if len(sets) == 1 {
			ms = sets[0]
		}
		vals, warnings, err := get(ms)
		if err != nil {
			return nil, warnings, err
		}
		vals = slices.Clone(vals)
		slices.Sort(vals)
		return vals, warnings, nil
	}
	var warnings annotations.Annotations
	seen := map[string]struct{}{}
	for _, ms := range sets {
		vals, w, err := get(ms)
		warnings.Merge(w)
		if err != nil {
			return nil, warnings, err
		}
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, warnings, nil
}

func stringsResult(ss []string, limit int, warnings annotations.Annotations) result {
	if limit > 0 && len(ss) > limit {
		ss = ss[:limit]
		warnings = warnings.Add(errors.New("results truncated due to limit"))
	}
	return result{data: appendStrings(nil, ss), warnings: warnings}
}

// metadata serves what Appender.UpdateMetadata recorded, in the shape of
// Prometheus's /api/v1/metadata (family -> list of {type, help, unit}).
func (h *apiHandler) metadata(r *http.Request, t *Tenant) result {
	limit := -1
	if s := r.FormValue("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil {
			return result{err: badData(errors.New("limit must be a number"))}
		}
	}
	limitPerMetric := -1
	if s := r.FormValue("limit_per_metric"); s != "" {
		var err error
		if limitPerMetric, err = strconv.Atoi(s); err != nil {
			return result{err: badData(errors.New("limit_per_metric must be a number"))}
		}
	}
	var md map[string][]metricMetadata
	if t != nil {
		md = t.metadata(r.FormValue("metric"))
	}
	families := slices.Sorted(maps.Keys(md))
	b := []byte{'{'}
	for i, f := range families {
		if limit >= 0 && i >= limit {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f)
		b = append(b, ':', '[')
		for j, m := range md[f] {
			if limitPerMetric > 0 && j >= limitPerMetric {
				break
			}
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendString(b, m.Type)
			b = append(b, `,"help":`...)
			b = appendString(b, m.Help)
			b = append(b, `,"unit":`...)
			b = appendString(b, m.Unit)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return result{data: append(b, '}')}
}

// Times and durations are parsed as web/api/v1/api.go parses them.
var (
	minTime          = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime          = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		s, ns := math.Modf(t)
		ns = math.Round(ns*1000) / 1000
		return time.Unix(int64(s), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if math.IsNaN(ts) || ts >= float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	limit, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if limit < 0 {
		return 0, errors.New("limit must be non-negative")
	}
	return limit, nil
}

// hintLimit asks storage for one more than the limit so that truncation
// can be reported.
func hintLimit(limit int) int {
	if limit > 0 && limit < math.MaxInt {
		return limit + 1
	}
	return limit
}
