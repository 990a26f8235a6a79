package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// transportGoroutines counts the goroutines of HTTP client connections.
func transportGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "net/http.(*persistConn)")
}

// After the default sink's Shutdown, none of its connections is left
// open: a process that builds agents again (a reload) does not collect
// one per remote_write each time.
func TestQueueSinkShutdownClosesConnections(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer rcv.Close()
	before := transportGoroutines()
	rw := config.DefaultRemoteWriteConfig
	rw.URL = mustURL(t, rcv.URL+"/write")
	s, err := QueueSink(&rw, "rw", Options{})
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- s.Run(context.Background()) }()
	req := wire.WriteRequest{Series: []wire.TimeSeries{{
		Labels:  []wire.Label{{Name: model.MetricNameLabel, Value: "a"}},
		Samples: []wire.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}},
	}}}
	if err := s.Append(&req); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-runDone
	waitfor.True(t, "the sink's connections closed", func() bool { return transportGoroutines() <= before })
}

func mustURL(t *testing.T, s string) *config_util.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return &config_util.URL{URL: u}
}
