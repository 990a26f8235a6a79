package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rwkit/rwkit/internal/disktest"
)

// apiAnswer is a decoded Prometheus API answer.
type apiAnswer struct {
	code      int
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func ask(t *testing.T, h http.Handler, endpoint string, params url.Values) apiAnswer {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/workspaces/ws-1/api/v1/"+endpoint, strings.NewReader(params.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := apiAnswer{code: w.Code}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("%s: %v: %s", endpoint, err, w.Body)
	}
	return a
}

// chain is a PromQL expression whose evaluation grows faster than its
// length: n+1 selectors joined by "+". 9,000 terms (126 KB) take about a
// second of a core.
func chain(n int) string { return strings.Repeat("a+", n) + "a" }

// Each limit refuses with Prometheus's status and errorType, the engine's
// text, and the limit and what sets it: the name the program gave
// (Options.LimitNames) and no Go identifier then, else the Options field.
func TestQueryLimits(t *testing.T) {
	names := LimitNames{
		QueryTimeout:        "prog --timeout",
		QueryMaxSamples:     "prog --samples",
		QueryMaxConcurrency: "prog --slots",
		QueryMaxLength:      "prog --length",
	}
	for _, tc := range []struct {
		name     string
		opts     Options
		endpoint string
		params   url.Values
		code     int
		errType  string
		contains []string
		// option and flag: what names the limit without and with names.
		option, flag string
	}{
		{
			name: "expression too long", opts: Options{QueryMaxLength: 1000}, endpoint: "query",
			params: url.Values{"query": {chain(500)}},
			code:   400, errType: "bad_data",
			contains: []string{`invalid parameter "query": the expression is 1001 bytes long; the limit is 1000`},
			option:   "store.Options.QueryMaxLength", flag: names.QueryMaxLength,
		},
		{
			name: "range expression too long", opts: Options{QueryMaxLength: 1000}, endpoint: "query_range",
			params: url.Values{"query": {chain(500)}, "start": {baseSec}, "end": {"1704067260"}, "step": {"15"}},
			code:   400, errType: "bad_data",
			contains: []string{"the limit is 1000"},
			option:   "store.Options.QueryMaxLength", flag: names.QueryMaxLength,
		},
		{
			// web/api/v1 returnAPIError: ErrTooManySamples is neither
			// canceled, timeout, cost_limit nor storage: execution, 422.
			name: "too many samples", opts: Options{QueryMaxSamples: 100}, endpoint: "query_range",
			params: url.Values{"query": {"count_over_time(vector(1)[1h:1s])"}, "start": {baseSec}, "end": {baseSec}, "step": {"15"}},
			code:   422, errType: "execution",
			contains: []string{"query processing would load too many samples into memory in query execution", "limit 100 samples"},
			option:   "store.Options.QueryMaxSamples", flag: names.QueryMaxSamples,
		},
		{
			name: "timeout", opts: Options{QueryTimeout: 100 * time.Millisecond}, endpoint: "query",
			params: url.Values{"query": {chain(9000)}, "time": {baseSec}},
			code:   503, errType: "timeout",
			contains: []string{"query timed out in", "limit 100ms"},
			option:   "store.Options.QueryTimeout", flag: names.QueryTimeout,
		},
		{
			name: "timeout parameter shortens the limit", opts: Options{}, endpoint: "query",
			params: url.Values{"query": {chain(9000)}, "time": {baseSec}, "timeout": {"0.1"}},
			code:   503, errType: "timeout",
			contains: []string{"query timed out in", "the request's timeout parameter"},
			option:   "store.Options.QueryTimeout", flag: names.QueryTimeout,
		},
	} {
		for _, named := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/named=%v", tc.name, named), func(t *testing.T) {
				opts, contains := tc.opts, append(tc.contains, "set by "+tc.option)
				if named {
					opts.LimitNames = names
					contains = append(tc.contains, "set by "+tc.flag)
				}
				st, _ := openStore(t, opts)
				start := time.Now()
				a := ask(t, st.APIHandler(nil), tc.endpoint, tc.params)
				if a.code != tc.code || a.Status != "error" || a.ErrorType != tc.errType {
					t.Fatalf("got %d %s %s %q, want %d error %s", a.code, a.Status, a.ErrorType, a.Error, tc.code, tc.errType)
				}
				for _, want := range contains {
					if !strings.Contains(a.Error, want) {
						t.Errorf("error %q does not contain %q", a.Error, want)
					}
				}
				if named && strings.Contains(a.Error, "Options") {
					t.Errorf("error %q names a Go identifier where the program named the limit", a.Error)
				}
				t.Logf("%d %s", a.code, a.Error)
				// The bound says the query was stopped, not how fast: the
				// engine checks the deadline only after preparing the plan,
				// which takes seconds under -race on a loaded machine (12 s
				// seen).
				if d := time.Since(start); d > 45*time.Second {
					t.Errorf("refused after %s", d)
				}
			})
		}
	}
}

// The defaults let a realistic query through.
func TestQueryLimitsDefaultsAnswer(t *testing.T) {
	s := apiStore(t)
	a := ask(t, s.APIHandler(nil), "query", url.Values{"query": {`sum(up{service=~"` + strings.Repeat("x|", 20_000) + `auth"})`}, "time": {"1704067230"}})
	if a.code != 200 || a.Status != "success" {
		t.Fatalf("40 KB query: %d %s %s", a.code, a.ErrorType, a.Error)
	}
}

// With every slot taken, a query waits for one: it runs when one frees
// within its timeout, and is answered 503 "query timed out in query
// queue" when none does, naming both limits: the name given to one, the
// Options field of the other.
func TestQueryConcurrency(t *testing.T) {
	const limit = 2
	s, _ := openStore(t, Options{QueryMaxConcurrency: limit, QueryTimeout: 2 * time.Second, LimitNames: LimitNames{QueryMaxConcurrency: "prog --slots"}})
	h := s.APIHandler(nil)
	var releases []func()
	for range limit {
		release, err := s.engine.AcquireQuerySlot(context.Background(), "held by the test")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}

	start := time.Now()
	a := ask(t, h, "query", url.Values{"query": {"vector(1)"}})
	waited := time.Since(start)
	if a.code != 503 || a.ErrorType != "timeout" || !strings.HasPrefix(a.Error, "query timed out in query queue") ||
		!strings.Contains(a.Error, "all 2 query slots stayed taken") || !strings.Contains(a.Error, "the slots are set by prog --slots, the time by store.Options.QueryTimeout") {
		t.Errorf("all slots held: %d %s %q", a.code, a.ErrorType, a.Error)
	}
	if waited < 2*time.Second || waited > 10*time.Second {
		t.Errorf("answered after %s; want after the 2s query timeout", waited)
	}

	// A slot that frees while the query waits lets it run.
	time.AfterFunc(300*time.Millisecond, releases[0])
	start = time.Now()
	a = ask(t, h, "query", url.Values{"query": {"vector(1)"}})
	if a.code != 200 {
		t.Errorf("slot freed after 300ms: %d %s %q", a.code, a.ErrorType, a.Error)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("answered after %s, before a slot was free", waited)
	}
	releases[1]()
}

// A second store on a directory in use is refused before it opens,
// creates or replays anything in it; once the first closes, it opens.
func TestOpenDirectoryInUse(t *testing.T) {
	s, dir := openStore(t, Options{})
	commit(t, func() *Appender {
		a := tenant(t, s, "ws-1").Appender(context.Background())
		if err := a.Append(series("up"), base, 1); err != nil {
			t.Fatal(err)
		}
		return a
	}())
	before := disktest.Listing(t, dir)

	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "another process is using "+dir) {
		t.Fatalf("second Open: %v, want ErrInUse naming %s", err, dir)
	}
	if after := disktest.Listing(t, dir); after != before {
		t.Errorf("the refused Open changed the directory:\nbefore %s\nafter  %s", before, after)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer s2.Close()
	if got := read(t, tenant(t, s2, "ws-1"), "up"); len(got) != 1 {
		t.Errorf("after reopening: %v", got)
	}
}
