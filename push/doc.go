// Package push pushes a service's metrics to a Prometheus remote-write
// backend (Amazon Managed Service for Prometheus, Cortex, Mimir,
// Prometheus) on an interval, from inside the service: no collector
// sidecar.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//	p, err := push.New("https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123/api/v1/remote_write", reg,
//		push.WithService("auth"),       // the instance comes from ECS, Kubernetes or the host name
//		// AMP URLs are signed (SigV4, service aps, the URL's region,
//		// credentials from the AWS default chain) without an option.
//		push.WithInterval(15*time.Second),
//		push.WithLogger(slog.Default()),
//		push.WithRegisterer(reg),       // self-metrics, pushed with the rest
//	)
//	if err != nil {
//		return err // e.g. no instance could be resolved: the message says how to set one
//	}
//	go p.Run(ctx)                         // pushes until ctx ends
//	defer p.Shutdown(context.Background()) // final push; bound it with a deadline
//
// # Identity
//
// Every series gets two identity labels, service and instance (names
// configurable with WithIdentityLabels), resolved once by New through
// package identity. Without them, services that export the same metrics
// (Go runtime, process, HTTP server) write one series, and the backend
// refuses whichever writer comes second at a timestamp with 400
// "new-value-for-timestamp", or, at different timestamps, silently stores a
// series zig-zagging between their values. New therefore refuses to start
// when either value cannot be resolved, naming every source tried and how to
// set one; WithoutIdentity is the explicit opt-out for a sole writer. New
// logs the identity and where each value came from, once.
//
// A metric that already carries a label push adds (an identity label or one
// of WithLabels) is a collision that is never resolved silently: New fails
// with the *gather.LabelConflictError if the gatherer has such a metric
// then; one registered later makes each push fail without sending anything
// (counted as rwkit_push_requests_total{result="failed"}, returned by Push,
// logged once) until it is fixed. Sending the other families would drop
// metrics without a trace; renaming behind the user's back is how series
// end up shared. WithRenameConflictingLabels opts into Prometheus'
// exported_<name> renaming.
//
// # Schedule and timestamps
//
// Run pushes every interval from a random phase in [0, jitter*interval)
// (WithJitter, default 0.1), so a fleet started together does not push in
// lockstep. One goroutine pushes; a push still running when the next is due
// makes that one skipped (rwkit_push_skipped_intervals_total), so a slow
// backend never piles up goroutines. Each push is bounded by WithTimeout
// (default: the interval).
//
// Every sample of one push carries one batch timestamp: the push's start,
// or with WithAlignedTimestamps the start of its interval
// (floor(now/interval)*interval, as Micrometer's step registries stamp),
// whatever the jitter. Timestamps of one Pusher always increase.
//
// # Outages
//
// A snapshot that cannot be delivered (network error, 5xx, or 429 after the
// remotewrite client's own retries) is kept, and buffered snapshots go out
// oldest first, with their original timestamps, before any newer one when
// the backend is back. The buffer holds each snapshot as its
// Snappy-compressed protobuf (RW 1.0, or 2.0 when the client speaks it),
// about a tenth of the encoded request and far smaller than a
// wire.WriteRequest: a service exporting 1,250 series (Go and process
// collectors, a request histogram over 80 label sets) is 196 KB encoded and
// 18 KB buffered, so 15 minutes at 15s cost about 1.1 MB. The buffer is
// bounded by WithBuffer: DefaultBufferBytes (16 MiB) of those bytes and
// DefaultBufferAge (15 minutes), whichever binds first; the oldest are
// dropped first (rwkit_push_dropped_snapshots_total{reason}, logged on the
// first drop of an outage). When a write split into several requests fails
// after delivering some, only the undelivered series stay buffered: exactly
// when every series has one point, as without exemplars; with exemplars a
// few delivered series may be sent twice, which backends accept as
// duplicates.
//
// A snapshot refused with a 4xx other than 429 is never retried: the specs
// say it will not succeed. Its samples are counted by the reason the
// backend gave in rwkit_push_rejected_samples_total{reason}, logged with
// everything known (status, reason, hint, body, sizes, counts, identity),
// and the series after the refused request are still sent, as Prometheus'
// own queue does.
//
// # Shutdown
//
// Shutdown stops Run, cancelling a push in flight (its snapshot is
// buffered), pushes the buffer and one final snapshot, and with
// WithStaleMarkersOnShutdown a stale marker (StaleNaN) 1ms later for every
// series of that snapshot, so that queries stop showing the instance at
// once instead of for the 5-minute lookback. Do not use stale markers with
// WithoutIdentity: they would end series other writers share. Shutdown
// returns when done or when its ctx ends, and is idempotent.
//
// # Queue: many producers, one endpoint
//
// A Queue is the sending half alone, for callers that build their own
// batches: the agent's scrape loops append each scrape to one Queue per
// remote_write. Append copies the batch into the outage buffer and returns
// without waiting for the network. On RW 1.0 it encodes the batch once, as
// the requests the client sends (WithClientOptions' sample and byte
// limits; each a snapshot of its own in the buffer and its metrics), and
// Run sends each as it is, never decoding it; a batch with metadata, a
// series over a limit, or RW 2.0 is kept whole and cut at send.
// AppendBatch takes a batch already encoded (Batch: each series with its
// label block, which the caller keeps between batches, as the agent does
// for its targets' series) and only cuts it into requests. Run sends the
// oldest request, one at a time, each bounded by WithRemoteTimeout (30s)
// and never cancelled because newer batches wait. After a retryable failure it waits the
// backoff of WithBackoff (30ms doubling to 5s, as Prometheus'
// queue_config), which carries over from batch to batch until a write is
// delivered, or what a 429 or 503 asks in Retry-After. Shutdown lets the
// request in flight finish, delivers the rest until its context ends, and
// returns an error counting what it dropped. Self-metrics and log lines are
// a Pusher's.
//
// # Options and defaults
//
//	WithService, WithInstance        identity values (default: package identity's sources)
//	WithIdentityLabels               identity label names (default "service", "instance")
//	WithIdentityOptions              identity lookup: env reader, ECS client, host name
//	WithoutIdentity                  no identity labels (sole writer only)
//	WithLabels                       constant labels on every series
//	WithInterval                     15s (DefaultInterval)
//	WithTimeout                      per push; default the interval
//	WithJitter                       0.1 of the interval, as a phase (DefaultJitter)
//	WithAlignedTimestamps            off: timestamps are the push's start
//	WithBuffer                       16 MiB, 15 minutes; WithBuffer(0, 0) turns it off
//	WithSigV4                        on for AMP URLs (their region), else off
//	WithoutSigV4                     for a transport that signs AMP requests itself
//	WithTransport, WithHTTPClient    remotewrite's client: 30s per attempt
//	WithRemoteTimeout                30s per request (remotewrite.DefaultTimeout)
//	WithBackoff                      30ms doubling to 5s (Prometheus' min/max_backoff)
//	WithTenant                       X-Scope-OrgID for Cortex, Mimir, rwkit's workspace
//	WithHeader                       a header on every request (not Authorization)
//	WithBearerTokenFile              Authorization: Bearer, the file read at every request
//	WithBasicAuth                    user and password file, read at every request
//	WithTLSConfig                    CA, client certificate (mTLS), server name
//	WithClientOptions                any remotewrite.Option (headers, request size, retries)
//	WithRWVersion                    wire.V1; wire.V2 falls back to V1 on 415
//	WithNativeHistograms             off: native histograms go as classic buckets
//	WithExemplars                    off
//	WithStaleMarkersOnShutdown       off
//	WithRenameConflictingLabels      off: a label conflict stops the push
//	WithLogger                       nothing is logged
//	WithRegisterer                   no self-metrics
//
// # Environment variables
//
// Read by package identity through New, unless WithIdentityOptions replaces
// the reader: RWKIT_SERVICE, RWKIT_INSTANCE, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES (service.name, service.instance.id),
// ECS_CONTAINER_METADATA_URI_V4, KUBERNETES_SERVICE_HOST, POD_NAME,
// POD_NAMESPACE, HOSTNAME. Explicit options beat them all. When signing
// (an AMP URL, or WithSigV4), the AWS SDK's default chain reads AWS_REGION, AWS_PROFILE,
// AWS_ACCESS_KEY_ID and the rest (see package remotewrite/sigv4).
//
// # Self-metrics
//
// Registered only on the WithRegisterer registerer. A "write" below is one
// remotewrite.Client.Write of one snapshot (buffered or new, or the stale
// markers), however many HTTP requests it was split into; "samples" are
// float samples plus native histogram samples.
//
//	rwkit_push_requests_total{result}          writes by result: success (delivered);
//	                                           rejected (a 4xx other than 429; not retried);
//	                                           retried (network, 5xx, 429 or timeout; kept in the
//	                                           buffer); failed (not delivered and not kept:
//	                                           buffering off or too small, shutdown, or no snapshot
//	                                           could be built, e.g. a label conflict)
//	rwkit_push_samples_total{result}           samples by fate: success, rejected, failed
//	                                           (dropped unsent); retried counts samples as they
//	                                           enter the buffer, each later ends in one of the three
//	rwkit_push_duration_seconds                histogram: one push (gather, buffered writes, new
//	                                           write, client retries included)
//	rwkit_push_payload_bytes                   histogram: compressed bytes of one write, all its
//	                                           requests (the refused one included; retries once)
//	rwkit_push_rejected_samples_total{reason}  samples refused, by the backend's reason (Cortex's
//	                                           names, e.g. new-value-for-timestamp), http_<status>
//	                                           when it names none
//	rwkit_push_buffered_snapshots              gauge: snapshots in the outage buffer
//	rwkit_push_last_success_timestamp_seconds  gauge: Unix time of the last push that delivered
//	                                           its new snapshot with nothing left buffered
//	rwkit_push_dropped_snapshots_total{reason} snapshots given up: buffer_full, too_old, too_large,
//	                                           buffering_off, shutdown, undecodable
//	rwkit_push_skipped_intervals_total         scheduled pushes skipped by a push overrunning
//
// # Logging
//
// Only through WithLogger, and one line per state change, never one per
// push: the identity at start (Info), the first delivered push (Info), a
// refusal (Error, again only when status or reason change) and the end of
// refusals (Info), an outage (Warn) and its end with how many buffered
// snapshots were delivered and dropped (Info), the first buffer drop of an
// outage (Warn), a snapshot that cannot be built and its repair, pushes
// overrunning the interval (Warn). URLs are logged without credentials.
// The remotewrite client's own lines (each request, each retry) go to the
// same logger at Debug level; a fallback from RW 2.0 to 1.0 is logged once
// at Warn.
//
// # Cost
//
// A push re-reads only what changed since the last one: each series'
// finished labels are kept (package gather) and recognised by the
// identity of the label pairs client_golang hands out, and each series'
// encoded labels are kept by the remotewrite client. Between pushes a
// Pusher keeps about 1 KB per series (the reused request, the converted
// labels, the encoded labels): 99 MB for 100k series, next to the 64 MB
// the client_golang registry of those series holds itself.
// A label pair a Collector has handed out must not be changed afterwards
// (see gather.Converter): client_golang's own metrics never do.
// At 100k series a push takes about 0.9x the CPU time of a hand-written
// Gather + conversion + client_golang exp/api/remote Write of the same
// registry, most of it (60%) in the registry's own Gather; see
// bench/README.md.
package push
