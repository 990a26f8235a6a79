package wire

import (
	"fmt"
	"strconv"
)

// benchSeries builds n realistic series: 9 labels each as a service's
// metrics look after identity labels are added, one sample each.
func benchSeries(n int) []TimeSeries {
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	statuses := []string{"200", "201", "400", "404", "500"}
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	series := make([]TimeSeries, n)
	for i := range series {
		series[i] = TimeSeries{
			Labels: []Label{
				{"__name__", "http_server_request_duration_seconds_bucket"},
				{"cluster", "prod-eu-west-1"},
				{"handler", "/api/v1/things/" + strconv.Itoa(i%50)},
				{"instance", fmt.Sprintf("10.1.%d.%d:8080", (i/1000)%256, (i/10)%100)},
				{"job", "document-service"},
				{"le", les[i%len(les)]},
				{"method", methods[(i/10)%len(methods)]},
				{"service", "document"},
				{"status", statuses[(i/40)%len(statuses)]},
			},
			Samples: []Sample{{Value: float64(i%1000) * 3.5, Timestamp: 1700000000000}},
		}
	}
	return series
}

// benchBody is the RW 1.0 body of benchSeries(n).
func benchBody(n int) []byte {
	return AppendWriteRequest(nil, &WriteRequest{Series: benchSeries(n)})
}
