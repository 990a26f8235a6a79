package cloudwatch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/rwkit/rwkit/cloudwatch"
)

// fakeAPI answers as CloudWatch would for a workspace whose writers
// collided from 09:00 to 09:10. With AWS, pass
// awscw.NewFromConfig(cfg) instead.
type fakeAPI struct{}

func (fakeAPI) ListMetrics(ctx context.Context, in *awscw.ListMetricsInput, _ ...func(*awscw.Options)) (*awscw.ListMetricsOutput, error) {
	return &awscw.ListMetricsOutput{Metrics: []types.Metric{{
		Namespace: in.Namespace, MetricName: in.MetricName,
		Dimensions: []types.Dimension{
			{Name: aws.String("Reason"), Value: aws.String("new-value-for-timestamp")},
			{Name: aws.String("Workspace"), Value: in.Dimensions[0].Value},
		},
	}}}, nil
}

func (fakeAPI) GetMetricData(ctx context.Context, in *awscw.GetMetricDataInput, _ ...func(*awscw.Options)) (*awscw.GetMetricDataOutput, error) {
	at := func(hhmm string) time.Time { t, _ := time.Parse("2006-01-02 15:04", "2025-05-01 "+hhmm); return t }
	return &awscw.GetMetricDataOutput{MetricDataResults: []types.MetricDataResult{{
		Id:         in.MetricDataQueries[0].Id,
		Timestamps: []time.Time{at("09:00"), at("09:05"), at("09:10")},
		Values:     []float64{312, 348, 406},
		StatusCode: types.StatusCodeComplete,
	}}}, nil
}

func ExampleDiscards() {
	end := time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	rep, err := cloudwatch.Discards(context.Background(), fakeAPI{}, "ws-a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
		cloudwatch.Range{Start: end.Add(-30 * time.Minute), End: end, Period: 5 * time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Reasons {
		fmt.Printf("%s %.0f from %s to %s: %v\n", r.Name, r.Total, r.First.Format("15:04"), r.Last.Format("15:04"), r.Values)
	}
	// Output:
	// new-value-for-timestamp 1066 from 09:00 to 09:10: [312 348 406 0 0 0]
}
