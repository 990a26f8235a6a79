// Command pushservice is a tiny HTTP service that pushes its own metrics
// to a Prometheus remote-write endpoint with package push: no sidecar.
//
//	RWKIT_URL=http://127.0.0.1:9090/api/v1/write RWKIT_SERVICE=hello go run ./examples/pushservice
//	curl localhost:8080/hello
//
// For Amazon Managed Service for Prometheus pass the workspace's
// remote_write URL; SigV4 signing is turned on for AMP URLs, with the
// region read from the URL and credentials from the AWS default chain
// (task role on ECS, IRSA on EKS). The instance label comes from the ECS
// task ID (task-id/container when the task has several application
// containers), the pod name or the host name (RWKIT_INSTANCE overrides it).
// SIGTERM or SIGINT stops the server, pushes a final snapshot and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rwkit/rwkit/push"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pushservice:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", os.Getenv("RWKIT_URL"), "remote-write endpoint (env RWKIT_URL)")
	listen := flag.String("listen", ":8080", "HTTP listen address")
	service := flag.String("service", "", "service label (default: RWKIT_SERVICE, OTEL_SERVICE_NAME, ECS or Kubernetes metadata)")
	interval := flag.Duration("interval", 15*time.Second, "push interval")
	flag.Parse()
	if *url == "" {
		return errors.New("no remote-write URL: pass --url or set RWKIT_URL")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pushservice_requests_total", Help: "HTTP requests served, by path.",
	}, []string{"path"})
	reg.MustRegister(requests)

	opts := []push.Option{
		push.WithInterval(*interval),
		push.WithLogger(log),
		push.WithRegisterer(reg), // self-metrics, pushed along
		push.WithStaleMarkersOnShutdown(),
	}
	if *service != "" {
		opts = append(opts, push.WithService(*service))
	}
	// An AMP URL is SigV4-signed (its region, the AWS default credential
	// chain) without an option.
	p, err := push.New(*url, reg, opts...)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		requests.WithLabelValues("/hello").Inc()
		fmt.Fprintln(w, "hello")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	go p.Run(ctx)
	log.Info("serving", "addr", *listen)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stop()
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "err", err)
		}
	}
	// ECS and Kubernetes give 30s between SIGTERM and SIGKILL by default.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return p.Shutdown(shutdownCtx)
}
