package store

import (
	"encoding/json"
	"fmt"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/stats"
)

// The stats parameter of query and query_range (web/api/v1/api.go): any
// value adds the engine's statistics to the answer's data, "all" adds the
// per-step sample counts too; a value other than "true" and "all" works
// and is warned about, as Prometheus 3 warns.
const (
	statsTrue = "true"
	statsAll  = "all"
)

func statsParamWarning(s string) error {
	switch s {
	case "", statsTrue, statsAll:
		return nil
	}
	return fmt.Errorf("value %q for parameter \"stats\" is deprecated and will be rejected in the next major release, use %q or %q", s, statsTrue, statsAll)
}

// appendQueryStats writes the query's statistics as Prometheus's
// stats.QueryStats: {"timings":{...},"samples":{...}}.
func appendQueryStats(b []byte, qry promql.Query) ([]byte, error) {
	enc, err := json.Marshal(stats.NewQueryStats(qry.Stats()))
	if err != nil {
		return b, fmt.Errorf("encoding query stats: %w", err)
	}
	return append(b, enc...), nil
}
