// Package workspace is rwkit's local remote-write receiver: it refuses
// exactly what Amazon Managed Service for Prometheus (Cortex) refuses, with
// the same status codes and texts, stores what it accepts in an embedded
// Prometheus TSDB (package store), answers PromQL, and names the writers
// that collided, which Cortex never does.
//
//	lim, _ := validate.Profile("amp")
//	ws, err := workspace.Open(dir, workspace.WithLimits(lim)) // the store's settings come from the limits
//	if err != nil {
//		return err
//	}
//	defer ws.Close() // and its store
//	return http.ListenAndServe("127.0.0.1:9095", ws.Handler())
//
// New serves a store the caller opened and shares (workspace/store). In
// tests, workspacetest.Start (workspace/workspacetest) runs one on a
// loopback port in one line.
//
// # Endpoints
//
//	POST /workspaces/{id}/api/v1/remote_write   AMP: tenant {id}
//	POST /api/v1/push                           Cortex: tenant from X-Scope-OrgID, else "default"
//	POST /api/v1/write                          Prometheus: tenant "default"
//	GET|POST /workspaces/{id}/api/v1/{query,query_range,series,labels,label/{name}/values,metadata}
//	GET|POST /prometheus/api/v1/...             the same for X-Scope-OrgID (else "default")
//	GET|POST /api/v1/...                        the same (Prometheus's base: a Grafana data source on the root)
//	GET|POST .../api/v1/{query_exemplars,format_query}, and GET .../api/v1/{status/{buildinfo,runtimeinfo,
//	         config,flags,tsdb},rules,alerts,targets,targets/metadata}: Grafana's calls under each base,
//	         answered as Prometheus 3 answers them; stats=true|all on query and query_range
//	GET /workspaces/{id}/api/v1/collisions      JSON list of Collision, most recent first
//	GET /workspaces/{id}/api/v1/writers         JSON list of WriterStats, most recently seen first
//	GET /, GET /workspaces/{id}/                the page (page.go, ui/: embedded, no outside
//	                                            resource); its data: GET /ui/api/workspaces[/{id}]
//	GET /workspaces/{id}/api/v1/ha              JSON HAStatus: the elected replica of each HA cluster
//	GET /metrics                                the workspace's registry (with Open, the TSDB's metrics too)
//	GET /-/ready, GET /-/healthy
//
// A tenant is a workspace: X-Scope-OrgID x and /workspaces/x address the
// same data, counters and collisions.
//
// # Pass-through
//
// WithUpstream puts the workspace in front of a real backend: each write is
// forwarded unchanged to the upstream's remote-write URL and its answer is
// the sender's (upstream.go); the workspace validates and attributes the
// write without storing it (unless Upstream.Store) and records the
// upstream's 4xx refusals as KindUpstreamRefused collisions, counted in
// rwkit_upstream_refusals_total{workspace,reason} (upstream_refusals.go).
// Upstream.SigV4 signs the forwarded requests for AMP (the sender cannot:
// its signature names the workspace's host); Upstream.Transport carries
// other credentials and TLS; Upstream.ExplainHeader puts the analysis of a
// refusal in the answer's ExplanationHeader (upstream_explain.go).
// That analysis runs after the sender has its answer, off the request path:
// a write that finds its queue full is not analysed, counted in
// rwkit_upstream_analyses_skipped_total{workspace}. Without Upstream.Store
// it does not touch the store, and what it keeps is bounded by
// WithMaxTrackedSeries (upstream_analysis.go).
//
// # Answers to remote writes
//
//	200, empty body     RW 1.0 accepted (Cortex; the prometheus profile answers 204)
//	204                 RW 2.0 accepted, X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written set
//	400                 a sample or series was refused (the valid rest is stored), or the body is not
//	                    Snappy ("snappy: corrupt input") or not the protobuf its Content-Type names,
//	                    or the tenant id is invalid, or the tenant would be one more than
//	                    WithMaxTenants
//	405                 not POST (Allow: POST)
//	413                 body over the limit ("received message larger than max (N vs M)"), refused
//	                    from Content-Length unread, or after reading the limit, or from the Snappy
//	                    block's declared length before decoding
//	403                 credentials missing or wrong, when WithSigV4Auth or WithBearerToken is set
//	413                 also: more series than WithMaxSeriesPerRequest, or a body whose decoded
//	                    structures would take more than 4x the decoded-size limit (counted by the
//	                    decoder, before it allocates past the limit)
//	415                 Content-Type other than application/x-protobuf[;proto=prometheus.WriteRequest|
//	                    io.prometheus.write.v2.Request], or Content-Encoding other than snappy
//	429                 the tenant's ingestion rate limit; nothing of the request is stored
//	500                 the store failed; nothing of the request is stored (the log says why)
//	503                 WithMaxConcurrentWrites writes in flight; Retry-After: 1, body unread
//	503                 "the workspace cannot write to its disk; nothing of this request was stored,
//	                    retry it": a commit failed to write the WAL (a full disk); the tenant refuses
//	                    writes until it has recovered; or, with WithDiskReserve, the disk's free
//	                    space is under half the reserve (store.ErrCannotWrite; the body shows no path)
//
// A request that holds a second value for one series and timestamp, or a
// sample older than an earlier one of its series, is answered as Cortex
// answers it (Mimir and Prometheus 3 answer alike): the earlier sample is
// stored, the other dropped without a refusal, as the TSDB drops it at
// commit. The
// answer carries X-Rwkit-Dropped (DroppedHeader: "1
// (new-value-for-timestamp=1)"), the sample is counted in
// rwkit_dropped_samples_total and listed in the collisions log as
// dropped-within-request. WithStrict refuses it instead (400).
//
// GET /-/ready answers 503 while a tenant cannot write to its disk, naming
// it ("workspace ws-1 cannot write to disk"), and tries the recovery.
//
// The refusals for WithMaxTenants, WithMaxRequestBytes,
// WithMaxSeriesPerRequest and WithMaxConcurrentWrites end with what sets the
// limit: the name the program gave in WithLimitNames (rwkit serve gives its
// flags, "rwkit serve --max-request-bytes"), else the Option's. Refusal
// lines longer than 4 KiB are cut (Cortex echoes whole series).
//
// RW 2.0 answers carry the Written headers on errors too (what was stored).
//
// # Refusal bodies
//
// The first line is the backend's text, byte for byte (Cortex's
// distributor or ingester; Prometheus' for the prometheus profile). Cortex
// answers with the ingester's first error when there is one, else with the
// distributor's. rwkit's lines follow, each starting with "rwkit: ":
//
//	user=default: err: duplicate sample for timestamp 1700000000000; overrides not allowed: existing 21, new value 14. series={__name__="jvm_threads_live_threads"}
//	rwkit: discarded 1 samples: new-value-for-timestamp=1
//	rwkit: stored the other 5 of 6 samples (partial ingestion: the valid samples of a refused request are kept)
//	rwkit: new-value-for-timestamp series={__name__="jvm_threads_live_threads"} at 2023-11-14T22:13:20Z (1700000000000): value 21 written by writer (User-Agent auth/1.0, 10.0.0.1:53422) at 2023-11-14T22:13:20.01Z; value 14 refused from writer (User-Agent actor/1.0, 10.0.0.2:53430)
//	rwkit: every collision with both writers: GET /workspaces/default/api/v1/collisions
//
// At most five writer lines are shown per answer.
//
// # Writers and collisions
//
// A writer is the values of the identity labels (service and instance,
// WithIdentityLabels) on the first series of its request that has them,
// its User-Agent and its connection's remote address. Each tenant remembers,
// for at most WithMaxTrackedSeries series (default 262144, about 100 bytes
// each: 26 MiB), the writer, timestamp and value of the newest accepted
// sample and of the writer before; the least recently written series are
// forgotten first. Writers are interned to 4-byte ids; a tenant keeps at
// most 4096 of them beyond those its tracked series refer to.
//
// The collision log (WithMaxCollisions groups per tenant, default 1000)
// groups by series, writer pair and kind: new-value-for-timestamp (refused),
// alternating-writers (accepted: writer A, then B, then A again on one
// series within WithAlternationWindow of sample time, so the stored series
// zig-zags between their values) and dropped-within-request (one writer,
// one request: its Reason and Note say what was dropped). A client that spreads one series over
// several connections at once (Prometheus with many shards reusing pooled
// connections) can look like alternating writers, since the remote port is
// part of the writer.
//
// # Limits
//
// The rules are package validate's (Limits, Profile "amp", "cortex",
// "prometheus"): the distributor's checks per series in Cortex's order, then
// the tenant's token-bucket rate limit on what passed (429 drops the whole
// request), then, for series the workspace has not seen, the ingester's
// per-user (TSDB head series) and per-metric series limits, then the TSDB.
// Series seen since start-up are remembered in a set (about 40 bytes each)
// to apply those limits; after a restart the per-metric counts start from
// zero. Appends to one tenant are serialized, so the writer of a stored value
// is known.
//
// # Metrics
//
//	rwkit_received_samples_total{workspace}           samples and histograms decoded
//	rwkit_discarded_samples_total{workspace,reason}   counted as Cortex counts them (1 for a series
//	                                                  refused for its labels, whatever its samples)
//	rwkit_accepted_samples_total{workspace}
//	rwkit_remote_write_requests_total{workspace,code}
//	rwkit_remote_write_request_duration_seconds{code}
//	rwkit_collisions_total{workspace,kind}
//	rwkit_dropped_samples_total{workspace,reason}     accepted with the request and dropped, as
//	                                                  Cortex does without counting (not a discard)
//	rwkit_refused_whole_samples_total{workspace}      valid samples of a request refused as a whole
//	rwkit_ha_deduplicated_samples_total{workspace,cluster}   HA pairs (hatracker.go): answered 202, not stored
//	rwkit_ha_elected_replica_timestamp_seconds{workspace,cluster,replica}
//	rwkit_ha_elected_replica_changes_total{workspace,cluster}
package workspace
