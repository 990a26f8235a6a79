package proctest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Query GETs an instant PromQL query at ts (to the millisecond) from the
// Prometheus query API at base, the part before /api/v1/query, with
// header set on the request, and returns the answer's status and body.
// The helpers judge the answer themselves: what a non-200 means, and how
// the body is read, is theirs.
func Query(ctx context.Context, base string, header http.Header, query string, ts time.Time) (int, []byte, error) {
	u := base + "/api/v1/query?" + url.Values{
		"query": {query},
		"time":  {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
