package verify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rwkit/rwkit/verify"
)

func Example() {
	// A stand-in for a Prometheus-compatible API holding three services.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[
			{"metric":{"service":"auth"},"value":[1700000000,"1"]},
			{"metric":{"service":"actor"},"value":[1700000000,"1"]},
			{"metric":{"service":"bff"},"value":[1700000000,"1"]}]}}`)
	}))
	defer api.Close()

	res, err := verify.Query(context.Background(), api.Client(), api.URL,
		`count by (service) (rwkit_push_requests_total)`, time.Unix(1700000000, 0), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	outcomes := verify.Check(res, []verify.Expectation{
		verify.ExpectLabel("service"),
		verify.ExpectDistinct("service", 6),
	})
	for _, o := range outcomes {
		fmt.Printf("%-26s %-5v %s\n", o.Expectation, o.Pass, o.Got)
	}
	fmt.Println("passed:", verify.Passed(outcomes))
	// Output:
	// every series has service   true  3 series, all with service
	// distinct service = 6       false 3 values: actor, auth, bff
	// passed: false
}
