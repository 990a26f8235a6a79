package collide_test

import (
	"fmt"
	"strings"

	"github.com/rwkit/rwkit/collide"
	"github.com/rwkit/rwkit/gather"
)

// Two services expose the same JVM metrics and nothing tells them apart:
// pushed to one workspace, every sample after the first of each shared
// series is refused (new-value-for-timestamp).
func Example() {
	expositions := map[string]string{
		"auth": "jvm_threads_live_threads 21\nauth_logins_total 5\n",
		"bff":  "jvm_threads_live_threads 34\nbff_calls_total 9\n",
	}
	var writers []collide.Writer
	for _, name := range []string{"auth", "bff"} {
		fams, err := gather.ParseText(strings.NewReader(expositions[name]))
		if err != nil {
			fmt.Println(err)
			return
		}
		// Timestamp is irrelevant to which series are sent; Convert needs one.
		req, _, err := gather.Convert(fams, gather.Options{Timestamp: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		writers = append(writers, collide.Writer{Name: name, Series: req.Series})
	}
	rep := collide.Find(writers)
	for _, c := range rep.Collisions {
		fmt.Println(c.Labels, c.Writers)
	}
	fmt.Printf("%d of %d series collide; add %v\n", len(rep.Collisions), rep.Distinct, rep.Suggest)
	// Output:
	// [{__name__ jvm_threads_live_threads}] [auth bff]
	// 1 of 3 series collide; add [service]
}
