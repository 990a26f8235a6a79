package gather_test

import (
	"fmt"
	"strings"

	"github.com/rwkit/rwkit/gather"
	"github.com/rwkit/rwkit/wire"
)

func Example() {
	text := `# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds summary
http_request_duration_seconds{quantile="0.5"} 0.05
http_request_duration_seconds{quantile="0.99"} 0.3
http_request_duration_seconds_sum 12.5
http_request_duration_seconds_count 200
`
	fams, err := gather.ParseText(strings.NewReader(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _, err := gather.Convert(fams, gather.Options{
		Timestamp:   1700000000000,
		ExtraLabels: []wire.Label{{Name: "service", Value: "auth"}, {Name: "instance", Value: "task-1"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range req.Series {
		fmt.Println(s.Labels, s.Samples[0].Value, s.Samples[0].Timestamp)
	}
	// Output:
	// [{__name__ http_request_duration_seconds} {instance task-1} {quantile 0.5} {service auth}] 0.05 1700000000000
	// [{__name__ http_request_duration_seconds} {instance task-1} {quantile 0.99} {service auth}] 0.3 1700000000000
	// [{__name__ http_request_duration_seconds_sum} {instance task-1} {service auth}] 12.5 1700000000000
	// [{__name__ http_request_duration_seconds_count} {instance task-1} {service auth}] 200 1700000000000
}

func ExampleLabelConflictError() {
	fams, _ := gather.ParseText(strings.NewReader(`up{instance="localhost:9090"} 1` + "\n"))
	_, _, err := gather.Convert(fams, gather.Options{
		Timestamp:   1700000000000,
		ExtraLabels: []wire.Label{{Name: "instance", Value: "task-1"}},
	})
	fmt.Println(err)
	// Output:
	// gather: label conflict: family "up" series up{instance="localhost:9090"}: label "instance" is "localhost:9090", extra label wants "task-1" (rename the metric's label, drop the extra label, or set ConflictPolicy to ConflictRename to keep the metric's value as exported_instance)
}
