// Package cloudwatch reads Amazon Managed Service for Prometheus' vended
// CloudWatch metric AWS/Prometheus DiscardedSamples by its Reason dimension:
// why AMP dropped samples it answered 400 for, often with an empty body.
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-west-2"))
//	if err != nil {
//		return err
//	}
//	end := time.Now()
//	rep, err := cloudwatch.Discards(ctx, awscw.NewFromConfig(cfg), "ws-1234",
//		cloudwatch.Range{Start: end.Add(-3 * time.Hour), End: end, Period: 5 * time.Minute})
//	if err != nil {
//		return err
//	}
//	for _, r := range rep.Reasons {
//		fmt.Println(r.Name, r.Total) // new-value-for-timestamp 4211
//		fmt.Println(r.Name.Hint())  // the fix, from package validate
//	}
//
// Discards first lists the DiscardedSamples metrics of the workspace
// (ListMetrics with the Workspace dimension) to learn which reasons exist,
// then fetches all of them in one GetMetricData call (paginated by
// NextToken), statistic Sum at the given period. The same data with the AWS
// CLI:
//
//	aws cloudwatch list-metrics --namespace AWS/Prometheus --metric-name DiscardedSamples \
//	  --dimensions Name=Workspace,Value=ws-1234
//	aws cloudwatch get-metric-statistics --namespace AWS/Prometheus --metric-name DiscardedSamples \
//	  --dimensions Name=Workspace,Value=ws-1234 Name=Reason,Value=new-value-for-timestamp \
//	  --statistics Sum --period 300 --start-time ... --end-time ...
//
// The identity needs cloudwatch:ListMetrics and cloudwatch:GetMetricData.
// The client is anything with the two methods of aws-sdk-go-v2's
// *cloudwatch.Client; its version here (v1.75.x) speaks Smithy RPC v2 CBOR
// to CloudWatch.
package cloudwatch
