package validate_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rwkit/rwkit/validate"
	"github.com/rwkit/rwkit/wire"
)

func Example() {
	l, _ := validate.Profile("amp")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	req := &wire.WriteRequest{Series: []wire.TimeSeries{
		{Labels: []wire.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "auth"}},
			Samples: []wire.Sample{{Value: 1, Timestamp: now.UnixMilli()}}},
		{Labels: []wire.Label{{Name: "job", Value: "auth"}},
			Samples: []wire.Sample{{Value: 1, Timestamp: now.UnixMilli()}}},
	}}
	res := validate.ValidateRequest(&l, req, now)
	fmt.Println("kept:", len(res.Series))
	if d := res.FirstError(); d != nil {
		fmt.Println(d.Status, d.Reason, d.Message)
	}
	// Output:
	// kept: 1
	// 400 missing_metric_name sample missing metric name
}

func ExampleIngesterMessage() {
	series := []wire.Label{{Name: "__name__", Value: "m"}, {Name: "job", Value: "j"}}
	// What Prometheus' TSDB says when a float sample has another value at
	// a stored timestamp (storage.NewDuplicateFloatErr).
	cause := errors.New("duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2")
	msg := validate.IngesterMessage(cause, validate.NewValueForTimestamp, 1795611126435, series)
	fmt.Println(validate.UserMessage("T", msg))
	// Output:
	// user=T: err: duplicate sample for timestamp 1795611126435; overrides not allowed: existing 1, new value 2. series={__name__="m", job="j"}
}

func ExampleRateLimiter() {
	l, _ := validate.Profile("cortex")
	rl := validate.NewRateLimiterFor(&l)
	now := time.Unix(0, 0)
	fmt.Println(rl.Allow(now, 50000), rl.Allow(now, 1))
	fmt.Println(validate.RateLimitedMessage(rl.Limit(), 1, 0))
	// Output:
	// true false
	// ingestion rate limit (25000) exceeded while adding 1 samples and 0 metadata
}
