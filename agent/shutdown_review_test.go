package agent

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/internal/waitfor"
	"github.com/rwkit/rwkit/wire"
)

// runSink is a Sink whose Run waits for its context and reports when it
// returned.
type runSink struct {
	recordingSink
	runDone  chan struct{}
	shutdown chan struct{}
}

func (s *runSink) Run(ctx context.Context) error {
	defer close(s.runDone)
	<-ctx.Done()
	return nil
}

func (s *runSink) Shutdown(context.Context) error {
	close(s.shutdown)
	return nil
}

func (s *runSink) Append(req *wire.WriteRequest) error { return s.recordingSink.Append(req) }

// Shutdown with a context already ended (shut down now, drop what is
// queued): the sinks are still shut down and their Run ends; nothing of
// the agent keeps running.
func TestShutdownExpiredContextStopsSinks(t *testing.T) {
	tg := newTarget(t, "a 1\n")
	s := &runSink{runDone: make(chan struct{}), shutdown: make(chan struct{})}
	a, err := New(mustLoad(t, oneJob(tg, "")), Options{NewSink: func(*config.RemoteWriteConfig, string) (Sink, error) { return s, nil }})
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- a.Run(context.Background()) }()
	waitfor.True(t, "a scrape", func() bool { return len(s.labelSets()) > 0 })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.Shutdown(ctx) // may report that ctx ended
	for what, ch := range map[string]<-chan struct{}{"the sink's Shutdown": s.shutdown, "the sink's Run to return": s.runDone} {
		select {
		case <-ch:
		case <-time.After(15 * time.Second):
			t.Fatalf("no %s after Shutdown returned", what)
		}
	}
	select {
	case <-runDone:
	case <-time.After(15 * time.Second):
		t.Fatal("Run still running after Shutdown")
	}
}
