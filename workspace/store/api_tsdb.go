package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
)

// status/tsdb and query_exemplars: what the tenant's TSDB knows about
// itself, as web/api/v1/api.go answers it for Prometheus's one TSDB.

// tsdbStat, headStats and tsdbStatus are Prometheus's TSDBStat, HeadStats
// and TSDBStatus.
type tsdbStat struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

type headStats struct {
	NumSeries     uint64 `json:"numSeries"`
	NumLabelPairs int    `json:"numLabelPairs"`
	ChunkCount    int64  `json:"chunkCount"`
	MinTime       int64  `json:"minTime"`
	MaxTime       int64  `json:"maxTime"`
}

type tsdbStatus struct {
	HeadStats                   headStats  `json:"headStats"`
	SeriesCountByMetricName     []tsdbStat `json:"seriesCountByMetricName"`
	LabelValueCountByLabelName  []tsdbStat `json:"labelValueCountByLabelName"`
	MemoryInBytesByLabelName    []tsdbStat `json:"memoryInBytesByLabelName"`
	SeriesCountByLabelValuePair []tsdbStat `json:"seriesCountByLabelValuePair"`
}

// maxTSDBStatusLimit is Prometheus's bound on status/tsdb's limit.
const maxTSDBStatusLimit = 10000

// tsdbStatus answers status/tsdb for tenant t (nil: unknown, empty).
func (h *apiHandler) tsdbStatus(r *http.Request, t *Tenant) result {
	limit := 10
	if s := r.FormValue("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			return result{err: badData(errors.New("limit must be a positive number"))}
		}
		if limit > maxTSDBStatusLimit {
			return result{err: badData(fmt.Errorf("limit must not exceed %d", maxTSDBStatusLimit))}
		}
	}
	st := emptyTSDBStatus()
	if t != nil {
		var err error
		if st, err = t.tsdbStatus(r.Context(), limit); err != nil {
			return result{err: &apiError{errorInternal, err}}
		}
	}
	return jsonResult(st)
}

// emptyTSDBStatus is what an empty head reports: its time bounds are
// still the values it starts with, as on a Prometheus that has no sample.
func emptyTSDBStatus() tsdbStatus {
	return tsdbStatus{
		HeadStats:                   headStats{MinTime: math.MaxInt64, MaxTime: math.MinInt64},
		SeriesCountByMetricName:     []tsdbStat{},
		LabelValueCountByLabelName:  []tsdbStat{},
		MemoryInBytesByLabelName:    []tsdbStat{},
		SeriesCountByLabelValuePair: []tsdbStat{},
	}
}

// tsdbStatus reports the head's statistics (tsdb.Head.Stats, by metric
// name, limit entries per list) and its chunk count, which Prometheus reads
// from its prometheus_tsdb_head_chunks gauge and the store counts from the
// head's index (the chunks of every series), since the tenant's TSDB
// metrics may be registered nowhere.
func (t *Tenant) tsdbStatus(ctx context.Context, limit int) (tsdbStatus, error) {
	t.dbMu.RLock()
	defer t.dbMu.RUnlock()
	if t.db == nil {
		return emptyTSDBStatus(), nil
	}
	head := t.db.Head()
	s := head.Stats(labels.MetricName, limit)
	chunkCount, err := countHeadChunks(ctx, head)
	if err != nil {
		return tsdbStatus{}, err
	}
	return tsdbStatus{
		HeadStats: headStats{
			NumSeries:     s.NumSeries,
			NumLabelPairs: s.IndexPostingStats.NumLabelPairs,
			ChunkCount:    chunkCount,
			MinTime:       s.MinTime,
			MaxTime:       s.MaxTime,
		},
		SeriesCountByMetricName:     fromIndexStats(s.IndexPostingStats.CardinalityMetricsStats),
		LabelValueCountByLabelName:  fromIndexStats(s.IndexPostingStats.CardinalityLabelStats),
		MemoryInBytesByLabelName:    fromIndexStats(s.IndexPostingStats.LabelValueStats),
		SeriesCountByLabelValuePair: fromIndexStats(s.IndexPostingStats.LabelValuePairsStats),
	}, nil
}

// countHeadChunks counts the chunks the head's series hold (memory-mapped
// and open ones), as the head's chunk gauge counts them.
func countHeadChunks(ctx context.Context, head *tsdb.Head) (int64, error) {
	ir, err := head.Index()
	if err != nil {
		return 0, err
	}
	defer ir.Close()
	name, value := index.AllPostingsKey()
	p, err := ir.Postings(ctx, name, value)
	if err != nil {
		return 0, err
	}
	var (
		n       int64
		builder labels.ScratchBuilder
		chks    []chunks.Meta
	)
	for p.Next() {
		if err := ir.Series(p.At(), &builder, &chks); err != nil {
			if errors.Is(err, storage.ErrNotFound) { // removed since the postings were read
				continue
			}
			return 0, err
		}
		n += int64(len(chks))
	}
	return n, p.Err()
}

// fromIndexStats converts a top list, largest first as the TSDB gives it;
// ties, which the TSDB leaves in no particular order, are sorted by name.
func fromIndexStats(stats []index.Stat) []tsdbStat {
	out := make([]tsdbStat, 0, len(stats))
	for _, s := range stats {
		out = append(out, tsdbStat{Name: s.Name, Value: s.Count})
	}
	slices.SortStableFunc(out, func(a, b tsdbStat) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// queryExemplars answers query_exemplars: the exemplars of the series the
// query's selectors select, between start and end, from the tenant's
// exemplar storage (empty unless Options.MaxExemplars > 0).
func (h *apiHandler) queryExemplars(r *http.Request, t *Tenant) result {
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return result{err: invalidParam(err, "start")}
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return result{err: invalidParam(err, "end")}
	}
	if end.Before(start) {
		return result{err: badData(errors.New("end timestamp must not be before start timestamp"))}
	}
	qs := r.FormValue("query")
	if apiErr := h.s.limits.checkLength(qs); apiErr != nil {
		return result{err: apiErr}
	}
	expr, err := h.s.parser.ParseExpr(qs)
	if err != nil {
		return result{err: badData(err)}
	}
	selectors := parser.ExtractSelectors(expr)
	if len(selectors) == 0 {
		return result{} // 204
	}
	var res []exemplar.QueryResult
	if t != nil {
		if res, err = t.selectExemplars(timestamp.FromTime(start), timestamp.FromTime(end), selectors...); err != nil {
			return result{err: returnAPIError(err)}
		}
	}
	return result{data: appendList(nil, res, appendExemplarResult)}
}

// selectExemplars reads the tenant's exemplar storage.
func (t *Tenant) selectExemplars(mint, maxt int64, selectors ...[]*labels.Matcher) ([]exemplar.QueryResult, error) {
	t.dbMu.RLock()
	defer t.dbMu.RUnlock()
	if t.db == nil {
		return nil, nil
	}
	eq, err := t.db.ExemplarQuerier(context.Background())
	if err != nil {
		return nil, err
	}
	return eq.Select(mint, maxt, selectors...)
}

// appendExemplarResult writes {"seriesLabels":{...},"exemplars":[...]},
// each exemplar as {"labels":{...},"value":"v","timestamp":t}
// (web/api/v1/json_codec.go marshalExemplarJSON).
func appendExemplarResult(b []byte, r exemplar.QueryResult) []byte {
	b = append(b, `{"seriesLabels":`...)
	b = appendLabels(b, r.SeriesLabels)
	b = append(b, `,"exemplars":`...)
	b = appendList(b, r.Exemplars, func(b []byte, e exemplar.Exemplar) []byte {
		b = append(b, `{"labels":`...)
		b = appendLabels(b, e.Labels)
		b = append(b, `,"value":`...)
		b = appendFloat(b, e.Value)
		b = append(b, `,"timestamp":`...)
		b = appendTimestamp(b, e.Ts)
		return append(b, '}')
	})
	return append(b, '}')
}
