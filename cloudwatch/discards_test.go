package cloudwatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rwkit/rwkit/cloudwatch"
	"github.com/rwkit/rwkit/cloudwatch/cwtest"
)

const ws = "ws-a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"

// seedRange is the three hours of the recorded responses: the collisions
// run from 09:00 until the fix at 11:15.
var seedRange = cloudwatch.Range{
	Start:  time.Date(2025, 5, 1, 9, 2, 30, 0, time.UTC), // rounded down to 09:00
	End:    time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC),
	Period: 5 * time.Minute,
}

func TestDiscardsRecorded(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := cwtest.NewServer(t, "testdata/seed")
	rep, err := cloudwatch.Discards(context.Background(), srv.Client(), ws, seedRange)
	if err != nil {
		t.Fatal(err)
	}

	reqs := srv.Requests()
	var ops []string
	for _, r := range reqs {
		ops = append(ops, r.Operation)
	}
	if diff := cmp.Diff([]string{"ListMetrics", "GetMetricData", "GetMetricData"}, ops); diff != "" {
		t.Fatalf("operations (-want +got):\n%s", diff)
	}
	wantList := map[string]any{
		"Namespace": "AWS/Prometheus", "MetricName": "DiscardedSamples",
		"Dimensions": []any{map[string]any{"Name": "Workspace", "Value": ws}},
	}
	if diff := cmp.Diff(wantList, reqs[0].Body); diff != "" {
		t.Errorf("ListMetrics input (-want +got):\n%s", diff)
	}
	query := func(id, reason string) map[string]any {
		return map[string]any{
			"Id": id, "Label": reason, "ReturnData": true,
			"MetricStat": map[string]any{
				"Metric": map[string]any{
					"Namespace": "AWS/Prometheus", "MetricName": "DiscardedSamples",
					"Dimensions": []any{
						map[string]any{"Name": "Reason", "Value": reason},
						map[string]any{"Name": "Workspace", "Value": ws},
					},
				},
				"Period": int64(300), "Stat": "Sum",
			},
		}
	}
	wantGet := map[string]any{
		"StartTime": time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC),
		"EndTime":   time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC),
		"ScanBy":    "TimestampAscending",
		"MetricDataQueries": []any{
			query("m0", "new-value-for-timestamp"),
			query("m1", "sample-out-of-order"),
		},
	}
	if diff := cmp.Diff(wantGet, reqs[1].Body); diff != "" {
		t.Errorf("GetMetricData input (-want +got):\n%s", diff)
	}
	wantGet["NextToken"] = "page2"
	if diff := cmp.Diff(wantGet, reqs[2].Body); diff != "" {
		t.Errorf("GetMetricData page 2 input (-want +got):\n%s", diff)
	}

	if rep.Buckets != 36 || !rep.Start.Equal(seedRange.Start.Truncate(5*time.Minute)) || len(rep.Reasons) != 2 {
		t.Fatalf("report: %d buckets from %s, %d reasons", rep.Buckets, rep.Start, len(rep.Reasons))
	}
	nv, oo := rep.Reasons[0], rep.Reasons[1]
	if nv.Name != "new-value-for-timestamp" || nv.Total != 10662 || oo.Name != "sample-out-of-order" || oo.Total != 40 {
		t.Errorf("reasons: %s %v, %s %v", nv.Name, nv.Total, oo.Name, oo.Total)
	}
	// Both pages of m0 land in their buckets; after the fix, nothing.
	if nv.Values[0] != 312 || nv.Values[17] != 409 || nv.Values[18] != 385 || nv.Values[26] != 419 || nv.Values[27] != 0 || nv.Values[35] != 0 {
		t.Errorf("new-value-for-timestamp values: %v", nv.Values)
	}
	if want := time.Date(2025, 5, 1, 11, 10, 0, 0, time.UTC); !nv.First.Equal(seedRange.Start.Truncate(5*time.Minute)) || !nv.Last.Equal(want) {
		t.Errorf("first %s last %s", nv.First, nv.Last)
	}
	if want := time.Date(2025, 5, 1, 10, 25, 0, 0, time.UTC); !oo.First.Equal(time.Date(2025, 5, 1, 9, 15, 0, 0, time.UTC)) || !oo.Last.Equal(want) {
		t.Errorf("out-of-order first %s last %s", oo.First, oo.Last)
	}
}

func TestDiscardsNone(t *testing.T) {
	srv := cwtest.NewServer(t, "testdata/none")
	rep, err := cloudwatch.Discards(context.Background(), srv.Client(), ws, seedRange)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reasons) != 0 || len(srv.Requests()) != 1 {
		t.Errorf("reasons %v after %d requests; want none and no GetMetricData", rep.Reasons, len(srv.Requests()))
	}
}

func TestDiscardsAccessDenied(t *testing.T) {
	srv := cwtest.NewServer(t, "testdata/denied")
	_, err := cloudwatch.Discards(context.Background(), srv.Client(), ws, seedRange)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("error %v, want the API's AccessDenied", err)
	}
	for _, want := range []string{"cloudwatch ListMetrics", "not authorized to perform: cloudwatch:ListMetrics", "needs cloudwatch:ListMetrics and cloudwatch:GetMetricData"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDiscardsArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		ws   string
		r    cloudwatch.Range
		want string
	}{
		{"no workspace", "", seedRange, "workspace ID is empty"},
		{"sub-minute period", ws, cloudwatch.Range{Start: seedRange.Start, End: seedRange.End, Period: 30 * time.Second}, "multiple of 1m"},
		{"empty range", ws, cloudwatch.Range{Start: seedRange.End, End: seedRange.End, Period: time.Minute}, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No server: argument errors come before any call.
			_, err := cloudwatch.Discards(context.Background(), nil, tc.ws, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
