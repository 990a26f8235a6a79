package push_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/identity"
	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/wire"
)

// receiver is a remote-write endpoint that prints what it receives.
func receiver() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := wire.Decompress(nil, body, 1<<20)
		var req wire.WriteRequest
		if err == nil {
			err = wire.DecodeWriteRequest(raw, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, s := range req.Series {
			fmt.Println(s.Labels, s.Samples[0].Value)
		}
	}))
}

func ExampleNew() {
	srv := receiver()
	defer srv.Close()

	reg := prometheus.NewRegistry()
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_done_total", Help: "Jobs done."})
	reg.MustRegister(jobs)
	jobs.Add(3)

	p, err := push.New(srv.URL+"/api/v1/write", reg,
		push.WithService("auth"),
		push.WithInstance("auth-1"), // default: ECS task ID, pod name or host name
		push.WithInterval(15*time.Second),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go p.Run(ctx) // pushes every 15s, starting within 1.5s
	cancel()

	// The final push.
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShutdown()
	if err := p.Shutdown(shutdownCtx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// [{__name__ jobs_done_total} {instance auth-1} {service auth}] 3
}

// Without a service, New refuses to start and says how to set one.
func ExampleNew_noIdentity() {
	reg := prometheus.NewRegistry()
	_, err := push.New("http://127.0.0.1:9090/api/v1/write", reg,
		push.WithInstance("auth-1"),
		// Only for the example's sake: no environment, no ECS, no Kubernetes.
		push.WithIdentityOptions(identity.Options{Getenv: func(string) string { return "" }, DisableECS: true, DisableKubernetes: true}),
	)
	var ue *identity.UnresolvedError
	fmt.Println(errors.As(err, &ue), ue.Missing)
	// Output:
	// true [service]
}

func ExamplePusher_Push() {
	srv := receiver()
	defer srv.Close()

	reg := prometheus.NewRegistry()
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "up_seconds", Help: "Uptime."})
	reg.MustRegister(up)
	up.Set(42)

	p, err := push.New(srv.URL+"/api/v1/write", reg,
		push.WithService("billing"), push.WithInstance("billing-0"),
		push.WithIdentityLabels("job", "instance"),
		push.WithLabels(map[string]string{"env": "prod"}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Push(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// [{__name__ up_seconds} {env prod} {instance billing-0} {job billing}] 42
}
