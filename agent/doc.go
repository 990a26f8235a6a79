// Package agent runs a Prometheus agent: it scrapes the targets of a
// Prometheus configuration file and sends every scrape to its remote_write
// endpoints.
//
//	cfg, err := agent.LoadFile("prometheus.yml") // refuses what it would not run, with file:line
//	if err != nil {
//		return err
//	}
//	a, err := agent.New(cfg, agent.Options{
//		Logger:                 slog.Default(),
//		Registerer:             reg, // prometheus_target_*, rwkit_agent_*, rwkit_push_*{remote_write}
//		StaleMarkersOnShutdown: true,
//	})
//	if err != nil {
//		return err
//	}
//	go a.Run(ctx)                          // scrapes and sends until ctx ends
//	defer a.Shutdown(context.Background()) // stop, stale markers, flush; bound it with a deadline
//
// # Why Prometheus' scrape manager
//
// The agent embeds Prometheus' own scrape manager
// (github.com/prometheus/prometheus/scrape) and configuration loader
// (github.com/prometheus/prometheus/config), as Grafana Alloy and the
// OpenTelemetry Collector's prometheusreceiver do, instead of writing
// scrape semantics again. The reference is the real thing: up,
// scrape_duration_seconds, scrape_samples_scraped,
// scrape_samples_post_metric_relabeling and scrape_series_added; stale
// markers for vanished series and failed targets; honor_labels and
// exported_<name>; honor_timestamps; relabel_configs and
// metric_relabel_configs; the text, OpenMetrics and protobuf parsers
// (bodies prometheus/common's text decoder refuses, such as a last line
// without a newline, are scraped as Prometheus scrapes them); scrape
// timeouts, per-job intervals and the scrape offsets that spread targets
// over the interval. A team's Prometheus configuration runs unchanged.
//
// What rwkit adds is the storage the scrape manager appends to: each
// committed scrape becomes a wire.WriteRequest, external_labels are added
// where a series lacks them, each remote_write's write_relabel_configs
// apply, and the result goes to that remote_write's Sink (QueueSink, a
// push.Queue, by default). The default sink on RW 1.0, in a configuration
// without external_labels and write_relabel_configs, takes the
// scrape as encoded series instead (push.Batch), each series' labels
// encoded once when it first appears. Commit never waits for the network:
// a Sink copies. The storage keeps each target's series, with
// the in-order rules of Prometheus' head: a second sample of a series at
// one timestamp is refused (the first is kept, counted in
// rwkit_agent_duplicate_samples_total{job}), as is a sample older than one
// sent (rwkit_agent_out_of_order_samples_total{job}); the scrape goes on.
// A series that went stale or was absent is remembered for 10 minutes of
// scrape time, so that coming back it cannot resend an old timestamp or
// an exemplar already sent.
//
// # Two scrape loops: agent/stream's where it serves, Prometheus' elsewhere
//
// Prometheus' scrape loop parses every body whole into labels, keeps a
// scrape cache and staleness sets, and appends into the storage above: at
// 100k series that alone costs about what vmagent's whole process does.
// So New runs each job that needs nothing more on agent/stream's loop,
// which parses the body as it arrives into compact per-series state and
// encodes the scrape's samples into RW 1.0 requests once it is over (same
// rules, checked against Prometheus' loop by differential tests), and the
// other jobs on Prometheus' scrape
// manager. It decides per job, from the configuration, at New; Run logs
// one line naming the jobs on each loop ("agent scrape loops"
// stream=a,b prometheus="c (target_limit)"). A job stays on Prometheus'
// loop when it sets scrape_native_histograms,
// convert_classic_histograms_to_nhcb, target_limit, a
// fallback_scrape_protocol other than a text format, or scrape_protocols
// without a text format; or when a remote_write is RW 2.0, sets
// send_exemplars or send_native_histograms, or is a Sink other than
// QueueSink on RW 1.0 that takes metadata (metadata_config.send, the
// default); or when the remote_writes' write_relabel_configs differ (a
// series has one label block). Options.PrometheusScrapeLoop (rwkit agent
// --prometheus-scrape-loop) keeps every job on Prometheus' loop, and the
// line says so (prometheus="a (PrometheusScrapeLoop)").
//
// On the stream loop, a target is asked for the text formats only. A body
// the stream parser fails (it is stricter than Prometheus' in places), or
// that comes in another format anyway, is parsed again by Prometheus' own
// parser, so no target Prometheus scrapes is lost; the target's later
// bodies go to that parser (agent/stream's doc says what this costs). Each
// scrape goes to every remote_write as encoded series (push.Batch) when
// the sink is QueueSink on RW 1.0, else decoded into a wire.WriteRequest.
// A target's scrapes are spread over the interval as Prometheus spreads
// them (stream.Loop.Offset, seeded with Prometheus' seed of the host and
// the external labels; the point differs from Prometheus' own, whose hash
// covers the target's internal labels). What differs: of
// prometheus_target_* only
// prometheus_target_scrapes_sample_duplicate_timestamp_total,
// prometheus_target_scrapes_sample_out_of_bounds_total,
// prometheus_target_scrapes_exceeded_sample_limit_total and
// prometheus_target_scrapes_exceeded_body_size_limit_total count its
// scrapes.
//
// # Supported configuration
//
// Load accepts these keys and refuses every other one, naming it and its
// line ("prometheus.yml:12: scrape_configs[0].kubernetes_sd_configs: not
// supported by rwkit agent (supported: static_configs)"): a setting
// silently ignored is a setting the user believes in.
//
//	global:          scrape_interval, scrape_timeout, external_labels,
//	                 evaluation_interval (accepted and ignored: an agent has no rules),
//	                 scrape_protocols, scrape_native_histograms,
//	                 always_scrape_classic_histograms, convert_classic_histograms_to_nhcb,
//	                 body_size_limit, sample_limit, target_limit, label_limit,
//	                 label_name_length_limit, label_value_length_limit
//	scrape_configs:  job_name, static_configs (targets, labels), metrics_path, scheme,
//	                 params, honor_labels, honor_timestamps, scrape_interval,
//	                 scrape_timeout, basic_auth, authorization, bearer_token,
//	                 bearer_token_file (Prometheus 2.x; loaded as authorization),
//	                 tls_config, relabel_configs, metric_relabel_configs;
//	                 and, implemented by the scrape manager and its HTTP client
//	                 with no help from rwkit: scrape_protocols,
//	                 fallback_scrape_protocol, scrape_native_histograms,
//	                 always_scrape_classic_histograms, convert_classic_histograms_to_nhcb,
//	                 native_histogram_bucket_limit, native_histogram_min_bucket_factor,
//	                 track_timestamps_staleness, enable_compression, follow_redirects,
//	                 enable_http2, and the limits of global
//	remote_write:    url, name, headers, basic_auth, authorization, bearer_token,
//	                 bearer_token_file, tls_config, sigv4 (region only: credentials come
//	                 from the AWS default chain), protobuf_message
//	                 (prometheus.WriteRequest: RW 1.0; io.prometheus.write.v2.Request:
//	                 RW 2.0), send_exemplars, send_native_histograms, remote_timeout,
//	                 queue_config (max_samples_per_send, min_backoff, max_backoff,
//	                 sample_age_limit, and, see below, the rest),
//	                 metadata_config (send), write_relabel_configs
//
// basic_auth takes username, password and their _file forms; authorization
// type, credentials and credentials_file; tls_config ca, cert, key, their
// _file forms, server_name, insecure_skip_verify, min_version and
// max_version. The _ref keys need Prometheus' secret manager and are
// refused. Of queue_config, capacity, min_shards and max_shards size
// Prometheus' sharded WAL queue, which push.Queue is not (one request at a
// time, oldest first, bounded by bytes and age): they are accepted, so the
// configurations AWS and Grafana document run unchanged, and logged once as
// having no effect. batch_send_deadline is always met (every scrape is sent
// as it is committed); a 429 is always retried, whatever retry_on_http_429
// says; sample_age_limit bounds the age of what the outage buffer keeps.
// metadata_config.send: false stops the metadata on each series (RW 2.0
// carries it there; RW 1.0's separate metadata requests are not sent).
//
// Load also requires at least one remote_write and one scrape_configs job
// with static_configs targets. Prometheus' own loader then applies its
// defaults and checks (a scrape_timeout above the scrape_interval, an
// invalid relabel regex, ...), so the defaults are exactly Prometheus'.
//
// # Flag mode
//
// StaticConfig builds the same configuration from flags: one job per
// Target, whose URL gives scheme, metrics_path, params and basic_auth
// (user:password@, which appears in no label and no error), and one
// remote_write. A Target without Job gets no job label (rwkit's identity
// is service and instance, given in Target.Labels); its instance is the
// one given, else host:port. The result goes through Load like a file.
//
// # Shutdown and stale markers
//
// Shutdown stops the scrape manager (a scrape in flight completes and is
// sent), then with StaleMarkersOnShutdown writes a stale marker (StaleNaN)
// at the current time for every series of each target's last scrape, so
// that queries stop showing them at once instead of for the 5-minute
// lookback, and finally shuts each sink down, which flushes what it holds.
// Series whose exposition gives their timestamps get no marker, as
// Prometheus tracks no staleness for them. StaleMarkersOnShutdown is off
// by default, as in Prometheus, which expects to be restarted and carry
// its series on; a sidecar dies with its service, and its series should
// end with it: the rwkit agent command turns it on.
//
// # Differences from Prometheus
//
// Prometheus writes each scrape to a write-ahead log that its remote-write
// queues read; here a scrape goes to the sinks when committed. A target
// that answers without a Content-Type is parsed as the text format, as
// Prometheus 2.x did (Prometheus 3 fails such a scrape unless
// fallback_scrape_protocol is set; a file that sets it keeps its choice). Only
// static_configs discovers targets, and the configuration is not reloaded.
// Exemplars are sent once per series and timestamp (as Prometheus'
// exemplar storage keeps them), metadata on every series of every scrape
// when the remote_write sends it. An AMP URL is signed with SigV4 even
// without a sigv4 section (push.Queue does so for AMP's URLs).
//
// # Self-metrics
//
// On Options.Registerer only: the scrape manager's (prometheus_target_*;
// for jobs on the stream loop, see above),
// each QueueSink's rwkit_push_* with remote_write="<name>", and:
//
//	rwkit_agent_duplicate_samples_total{job}      samples refused: their series had one at that timestamp
//	                                              (a line repeated byte for byte is refused by the scrape
//	                                              loop first and counted only in
//	                                              prometheus_target_scrapes_sample_duplicate_timestamp_total)
//	rwkit_agent_out_of_order_samples_total{job}   samples older than one sent for their series
//	rwkit_agent_sink_errors_total{remote_write}   scrapes a sink refused to take
//	rwkit_agent_samples_total{remote_write}       samples and histograms handed to a sink
package agent
