package collide_test

import (
	"context"
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

// Writers as rwkit collide takes them, [NAME=]SOURCE, loaded and converted
// as push would send them. Here the expositions come from readers; a
// SOURCE may be a file or a /metrics URL too.
func ExampleLoad() {
	var sources []collide.Source
	for _, w := range []struct{ spec, exposition string }{
		{"auth/1=-", "jvm_threads_live_threads 21\n"},
		{"auth/2=-", "jvm_threads_live_threads 34\n"},
	} {
		s, err := collide.ParseSource(w.spec)
		if err != nil {
			fmt.Println(err)
			return
		}
		s.In = strings.NewReader(w.exposition)
		sources = append(sources, s)
	}
	writers, err := collide.Load(context.Background(), nil, sources)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := collide.Find(writers)
	fmt.Println(rep.Result, rep.Collisions[0].Writers, rep.Suggest)
	// Output:
	// collisions [auth/1 auth/2] [instance]
}
