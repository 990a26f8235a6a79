package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/rwkit/rwkit/remotewrite/sigv4"
	"github.com/rwkit/rwkit/validate"
)

// Names of AMP's vended metric
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-CW-usage-metrics.html).
const (
	Namespace          = "AWS/Prometheus"
	MetricName         = "DiscardedSamples"
	DimensionWorkspace = "Workspace"
	DimensionReason    = "Reason"
)

// maxQueriesPerCall is GetMetricData's limit on MetricDataQueries.
const maxQueriesPerCall = 500

// API is the part of aws-sdk-go-v2's *cloudwatch.Client that Discards uses.
type API interface {
	ListMetrics(ctx context.Context, in *awscw.ListMetricsInput, optFns ...func(*awscw.Options)) (*awscw.ListMetricsOutput, error)
	GetMetricData(ctx context.Context, in *awscw.GetMetricDataInput, optFns ...func(*awscw.Options)) (*awscw.GetMetricDataOutput, error)
}

// Range is the time range and bucket width of a report. Start is rounded
// down to a multiple of Period, as CloudWatch aligns its buckets.
type Range struct {
	Start, End time.Time
	Period     time.Duration
}

// Report is DiscardedSamples of one workspace by reason.
type Report struct {
	WorkspaceID string        `json:"workspace_id"`
	Start       time.Time     `json:"start"`
	End         time.Time     `json:"end"`
	Period      time.Duration `json:"-"`
	// Buckets is the number of Period-wide buckets from Start to End.
	Buckets int `json:"buckets"`
	// Reasons is sorted by Total, largest first, then by name.
	Reasons []Reason `json:"reasons"`
	// Messages are CloudWatch's notes on the data (e.g. partial data), as
	// "code: value".
	Messages []string `json:"messages,omitempty"`
}

// Reason is the discards for one Reason dimension value.
type Reason struct {
	// Name is the Reason dimension's value: AMP uses Cortex's reason names,
	// so it is one of validate's constants (Name.Hint() gives the fix), or
	// a name rwkit does not know yet.
	Name  validate.Reason `json:"reason"`
	Total float64         `json:"total"`
	// Values holds one sum per bucket from the report's Start; a bucket
	// CloudWatch has no data point for is 0.
	Values []float64 `json:"values"`
	// First and Last are the start times of the first and last buckets with
	// discards; zero when there are none.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
}

// Discards returns AMP's DiscardedSamples for workspaceID over r, by reason.
// A workspace with no DiscardedSamples metric (none in about the last two
// weeks, CloudWatch's ListMetrics horizon) gives a report with no reasons.
func Discards(ctx context.Context, api API, workspaceID string, r Range) (*Report, error) {
	if workspaceID == "" {
		return nil, errors.New("cloudwatch: workspace ID is empty: pass the AMP workspace ID (ws-...)")
	}
	if r.Period < time.Minute || r.Period%time.Minute != 0 {
		return nil, fmt.Errorf("cloudwatch: period %s: AMP's metrics have one-minute resolution; use a multiple of 1m", r.Period)
	}
	start := r.Start.UTC().Truncate(r.Period)
	end := r.End.UTC()
	if !end.After(start) {
		return nil, fmt.Errorf("cloudwatch: range %s to %s is empty", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	rep := &Report{
		WorkspaceID: workspaceID, Start: start, End: end, Period: r.Period,
		Buckets: int((end.Sub(start) + r.Period - 1) / r.Period), Reasons: []Reason{},
	}

	metrics, err := listMetrics(ctx, api, workspaceID)
	if err != nil {
		return nil, err
	}
	if len(metrics) == 0 {
		return rep, nil
	}
	byReason := map[string]*Reason{}
	// queryReason maps a query ID to its reason: ListMetrics may return one
	// reason with more dimension sets, and they add up.
	queryReason := map[string]string{}
	queries := make([]types.MetricDataQuery, 0, len(metrics))
	for i, m := range metrics {
		reason := dimension(m, DimensionReason)
		if reason == "" {
			continue // not broken down by reason: nothing to attribute
		}
		if byReason[reason] == nil {
			byReason[reason] = &Reason{Name: validate.Reason(reason), Values: make([]float64, rep.Buckets)}
		}
		id := "m" + strconv.Itoa(i)
		queryReason[id] = reason
		queries = append(queries, types.MetricDataQuery{
			Id:    aws.String(id),
			Label: aws.String(reason),
			MetricStat: &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String(Namespace), MetricName: aws.String(MetricName), Dimensions: m.Dimensions},
				Period: aws.Int32(int32(r.Period / time.Second)),
				Stat:   aws.String("Sum"),
			},
			ReturnData: aws.Bool(true),
		})
	}
	for len(queries) > 0 {
		n := min(len(queries), maxQueriesPerCall)
		if err := getMetricData(ctx, api, queries[:n], rep, byReason, queryReason); err != nil {
			return nil, err
		}
		queries = queries[n:]
	}
	for _, rs := range byReason {
		for i, v := range rs.Values {
			if v == 0 {
				continue
			}
			rs.Total += v
			t := start.Add(time.Duration(i) * r.Period)
			if rs.First.IsZero() {
				rs.First = t
			}
			rs.Last = t
		}
		rep.Reasons = append(rep.Reasons, *rs)
	}
	sort.Slice(rep.Reasons, func(i, j int) bool {
		a, b := rep.Reasons[i], rep.Reasons[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Name < b.Name
	})
	return rep, nil
}

func listMetrics(ctx context.Context, api API, workspaceID string) ([]types.Metric, error) {
	in := &awscw.ListMetricsInput{
		Namespace:  aws.String(Namespace),
		MetricName: aws.String(MetricName),
		Dimensions: []types.DimensionFilter{{Name: aws.String(DimensionWorkspace), Value: aws.String(workspaceID)}},
	}
	var out []types.Metric
	for page := 0; ; page++ {
		res, err := api.ListMetrics(ctx, in)
		if err != nil {
			return nil, wrap("ListMetrics", err)
		}
		out = append(out, res.Metrics...)
		if res.NextToken == nil || *res.NextToken == "" || page > 1000 {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
}

func getMetricData(ctx context.Context, api API, queries []types.MetricDataQuery, rep *Report, byReason map[string]*Reason, queryReason map[string]string) error {
	in := &awscw.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(rep.Start),
		EndTime:           aws.Time(rep.End),
		ScanBy:            types.ScanByTimestampAscending,
	}
	for page := 0; ; page++ {
		res, err := api.GetMetricData(ctx, in)
		if err != nil {
			return wrap("GetMetricData", err)
		}
		for _, m := range res.Messages {
			rep.Messages = append(rep.Messages, aws.ToString(m.Code)+": "+aws.ToString(m.Value))
		}
		for _, mr := range res.MetricDataResults {
			reason, ok := queryReason[aws.ToString(mr.Id)]
			if !ok {
				continue
			}
			rs := byReason[reason]
			for i, ts := range mr.Timestamps {
				if i >= len(mr.Values) {
					break
				}
				b := int(ts.Sub(rep.Start) / rep.Period)
				if b >= 0 && b < len(rs.Values) {
					rs.Values[b] += mr.Values[i]
				}
			}
			for _, m := range mr.Messages {
				rep.Messages = append(rep.Messages, reason+": "+aws.ToString(m.Code)+": "+aws.ToString(m.Value))
			}
			if mr.StatusCode == types.StatusCodeForbidden || mr.StatusCode == types.StatusCodeInternalError {
				rep.Messages = append(rep.Messages, fmt.Sprintf("%s: status %s", reason, mr.StatusCode))
			}
		}
		if res.NextToken == nil || *res.NextToken == "" || page > 1000 {
			return nil
		}
		in.NextToken = res.NextToken
	}
}

func dimension(m types.Metric, name string) string {
	for _, d := range m.Dimensions {
		if aws.ToString(d.Name) == name {
			return aws.ToString(d.Value)
		}
	}
	return ""
}

// wrap names the call and, for the errors people meet first, the fix.
func wrap(op string, err error) error {
	// Missing credentials: the SDK's chain of wrappers ("operation error
	// CloudWatch: ListMetrics, get identity: get credentials: failed to
	// refresh cached credentials, ...") says less than the error itself,
	// which sigv4.LoadDefaultConfig's provider returns.
	var ce *sigv4.CredentialsError
	if errors.As(err, &ce) {
		return fmt.Errorf("cloudwatch %s: %w", op, ce)
	}
	if msg := err.Error(); strings.Contains(msg, "get identity") || strings.Contains(msg, "failed to refresh cached credentials") {
		// A configuration loaded without sigv4.LoadDefaultConfig.
		return fmt.Errorf("cloudwatch %s: no AWS credentials: %w; %s", op, err, sigv4.ChainHint)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return fmt.Errorf("cloudwatch %s: %w (the identity needs cloudwatch:ListMetrics and cloudwatch:GetMetricData)", op, err)
		case "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch":
			return fmt.Errorf("cloudwatch %s: %w (check the AWS credentials: AWS_PROFILE, the environment, or the task/instance role)", op, err)
		}
	}
	return fmt.Errorf("cloudwatch %s: %w", op, err)
}
