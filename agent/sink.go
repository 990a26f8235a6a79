package agent

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/wire"
)

// A Sink takes one committed scrape's series, already relabelled for this remote write.
// Append copies what it keeps: req is reused after Append returns. It must not block on the network.
//
// Append must not modify req. The agent serializes the Append calls of one
// Sink; Run and Shutdown are called once each, from other goroutines.
type Sink interface {
	Append(req *wire.WriteRequest) error
	Run(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// sink is one remote_write: its Sink and what the agent does before
// handing series to it.
type sink struct {
	name       string
	s          Sink
	relabel    []*relabel.Config
	exemplars  bool
	histograms bool
	metadata   bool
	// batch: the sink is a QueueSink on RW 1.0, which takes a scrape as
	// encoded series (push.Batch) instead of a wire.WriteRequest.
	batch *push.Queue

	mu     sync.Mutex  // serializes Append
	logged atomic.Bool // a refusal was logged; cleared by the next success
}

func wrapSink(rw *config.RemoteWriteConfig, name string, s Sink) *sink {
	var batch *push.Queue
	if q, ok := s.(*queueSink); ok && rwVersion(rw) == wire.V1 {
		batch = q.Queue
	}
	return &sink{
		batch:      batch,
		name:       name,
		s:          s,
		relabel:    rw.WriteRelabelConfigs,
		exemplars:  rw.SendExemplars,
		histograms: rw.SendNativeHistograms,
		metadata:   rw.MetadataConfig.Send,
	}
}

// outLabels is what the series ls becomes for this sink: external labels
// added where ls lacks them, then write_relabel_configs, as Prometheus'
// QueueManager.StoreSeries does. nil: dropped.
func (s *sink) outLabels(b *labels.Builder, ls labels.Labels, external []labels.Label) []wire.Label {
	b.Reset(ls)
	for _, l := range external {
		if b.Get(l.Name) == "" {
			b.Set(l.Name, l.Value)
		}
	}
	if !relabel.ProcessBuilder(b, s.relabel...) {
		return nil
	}
	out := b.Labels()
	if out.IsEmpty() {
		return nil
	}
	wl := make([]wire.Label, 0, out.Len())
	out.Range(func(l labels.Label) {
		wl = append(wl, wire.Label{Name: l.Name, Value: l.Value})
	})
	return wl
}

func (s *sink) append(req *wire.WriteRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Append(req)
}

func (s *sink) appendBatch(b *push.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batch.AppendBatch(b)
}

// rwVersion maps protobuf_message (validated by Prometheus' loader) onto
// a wire.Version.
func rwVersion(rw *config.RemoteWriteConfig) wire.Version {
	if rw.ProtobufMessage == "io.prometheus.write.v2.Request" {
		return wire.V2
	}
	return wire.V1
}
