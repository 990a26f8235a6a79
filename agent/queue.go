package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/config"

	"github.com/rwkit/rwkit/push"
	"github.com/rwkit/rwkit/remotewrite"
)

// QueueSink is the default sink of a remote_write: a push.Queue, which
// copies each scrape into its outage buffer on Append and sends them in
// order from Run, as Prometheus' remote-write queue does. It maps:
//
//	url                            the Queue's URL
//	basic_auth, authorization,     the HTTP transport, built by prometheus/common
//	bearer_token(_file), tls_config  (config.NewRoundTripperFromConfig) as Prometheus builds it
//	headers                        remotewrite.WithHeader
//	sigv4.region                   push.WithSigV4 (credentials: the AWS default chain)
//	protobuf_message               push.WithRWVersion (prometheus.WriteRequest: RW 1.0,
//	                               io.prometheus.write.v2.Request: RW 2.0)
//	remote_timeout                 push.WithRemoteTimeout
//	queue_config.min_backoff,      push.WithBackoff
//	  max_backoff
//	queue_config.max_samples_per_send  remotewrite.WithMaxSamplesPerRequest
//
// send_exemplars, send_native_histograms, metadata_config.send and
// write_relabel_configs are applied by the agent before Append. The
// Queue's logger and self-metrics (rwkit_push_*) carry remote_write=name.
func QueueSink(rw *config.RemoteWriteConfig, name string, o Options) (Sink, error) {
	if rw.URL == nil || rw.URL.URL == nil {
		return nil, errors.New("no url")
	}
	if err := checkSigV4(rw); err != nil {
		return nil, err
	}
	rt, err := config_util.NewRoundTripperFromConfig(rw.HTTPClientConfig, "rwkit_agent_"+name)
	if err != nil {
		return nil, fmt.Errorf("building the HTTP transport: %w", err)
	}
	opts := []push.Option{
		push.WithTransport(rt),
		push.WithRWVersion(rwVersion(rw)),
	}
	if rw.RemoteTimeout > 0 {
		opts = append(opts, push.WithRemoteTimeout(time.Duration(rw.RemoteTimeout)))
	}
	q := rw.QueueConfig
	if q.MinBackoff <= 0 {
		return nil, fmt.Errorf("queue_config.min_backoff is %s: it must be positive", q.MinBackoff)
	}
	opts = append(opts, push.WithBackoff(time.Duration(q.MinBackoff), time.Duration(q.MaxBackoff)))
	if q.SampleAgeLimit > 0 {
		opts = append(opts, push.WithBuffer(push.DefaultBufferBytes, time.Duration(q.SampleAgeLimit)))
	}
	if d := config.DefaultQueueConfig; o.Logger != nil && (q.Capacity != d.Capacity || q.MinShards != d.MinShards || q.MaxShards != d.MaxShards) {
		o.Logger.Info("remote_write queue_config capacity, min_shards and max_shards have no effect: rwkit sends one request at a time, oldest first, from a buffer bounded by bytes and age",
			"remote_write", name, "capacity", q.Capacity, "min_shards", q.MinShards, "max_shards", q.MaxShards)
	}
	var copts []remotewrite.Option
	if q.MaxSamplesPerSend > 0 {
		copts = append(copts, remotewrite.WithMaxSamplesPerRequest(q.MaxSamplesPerSend))
	}
	headers := make([]string, 0, len(rw.Headers))
	for k := range rw.Headers {
		headers = append(headers, k)
	}
	slices.Sort(headers)
	for _, k := range headers {
		copts = append(copts, remotewrite.WithHeader(k, rw.Headers[k]))
	}
	if len(copts) > 0 {
		opts = append(opts, push.WithClientOptions(copts...))
	}
	if rw.SigV4Config != nil {
		opts = append(opts, push.WithSigV4(rw.SigV4Config.Region))
	}
	if o.Logger != nil {
		opts = append(opts, push.WithLogger(o.Logger.With("remote_write", name)))
	}
	if o.Registerer != nil {
		opts = append(opts, push.WithRegisterer(prometheus.WrapRegistererWith(prometheus.Labels{"remote_write": name}, o.Registerer)))
	}
	queue, err := push.NewQueue(rw.URL.String(), opts...)
	if err != nil {
		return nil, err
	}
	return &queueSink{Queue: queue, rt: rt}, nil
}

// queueSink is a push.Queue that closes its connections once shut down.
type queueSink struct {
	*push.Queue
	rt http.RoundTripper
}

// Shutdown shuts the queue down and closes its idle connections: each
// holds two goroutines until the receiver closes it. A request still in
// flight (Shutdown's ctx ended first) keeps its own until it ends.
func (s *queueSink) Shutdown(ctx context.Context) error {
	err := s.Queue.Shutdown(ctx)
	if ci, ok := s.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
	return err
}

// checkSigV4 refuses what Load refuses, for configurations built by hand.
func checkSigV4(rw *config.RemoteWriteConfig) error {
	c := rw.SigV4Config
	if c == nil {
		return nil
	}
	for _, f := range []struct {
		set  bool
		name string
	}{
		{c.AccessKey != "" || c.SecretKey != "", "access_key/secret_key"},
		{c.Profile != "", "profile"},
		{c.RoleARN != "" || c.ExternalID != "" || c.SessionName != "" || len(c.Tags) > 0, "role_arn"},
		{c.UseFIPSSTSEndpoint, "use_fips_sts_endpoint"},
		{c.ServiceName != "" && c.ServiceName != "aps", "service_name"},
	} {
		if f.set {
			return fmt.Errorf("sigv4.%s: not supported by rwkit agent (supported: region; credentials come from the AWS default chain)", f.name)
		}
	}
	return nil
}
