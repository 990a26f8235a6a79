package cloudwatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/rwkit/rwkit/cloudwatch"
	"github.com/rwkit/rwkit/cloudwatch/cwtest"
	"github.com/rwkit/rwkit/internal/awstest"
	"github.com/rwkit/rwkit/remotewrite/sigv4"
)

// Without credentials, Discards says so and how to set them, with the
// hint push gives (sigv4.ChainHint), not the SDK's chain of wrappers; and
// nothing reaches CloudWatch.
func TestDiscardsWithoutCredentials(t *testing.T) {
	awstest.ClearEnv(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := cwtest.NewServer(t, "testdata/seed")
	cfg, err := sigv4.LoadDefaultConfig(context.Background(), "us-west-2", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := awscw.NewFromConfig(cfg, func(o *awscw.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	end := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	_, err = cloudwatch.Discards(context.Background(), client, ws, cloudwatch.Range{Start: end.Add(-time.Hour), End: end, Period: 5 * time.Minute})
	var ce *sigv4.CredentialsError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *sigv4.CredentialsError", err)
	}
	if !strings.Contains(err.Error(), sigv4.ChainHint) || strings.Contains(err.Error(), "operation error CloudWatch") {
		t.Errorf("error does not give the hint alone:\n%s", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests reached CloudWatch", n)
	}
}
