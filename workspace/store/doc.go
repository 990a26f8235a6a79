// Package store is the workspace's storage: one embedded Prometheus TSDB
// per tenant and the PromQL engine over them, with the Prometheus HTTP API
// v1 query endpoints and the other calls Grafana's Prometheus data source
// makes (status/*, query_exemplars, format_query, and empty rules, alerts
// and targets: api_status.go, api_tsdb.go). It is the only rwkit package
// that imports github.com/prometheus/prometheus.
//
//	s, err := store.Open(dir, store.Options{})
//	if err != nil { ... }
//	defer s.Close()
//
//	t, err := s.Tenant("ws-1")
//	app := t.Appender(ctx)
//	ls := []wire.Label{{Name: "__name__", Value: "up"}, {Name: "service", Value: "auth"}}
//	if err := app.Append(ls, ts, 1); err != nil {
//		var ae *store.AppendError
//		if errors.As(err, &ae) { // only this sample is refused: ae.Reason
//		}
//	}
//	err = app.Commit()
//
//	http.Handle("/workspaces/", s.APIHandler(nil)) // /workspaces/ws-1/api/v1/query?query=up
//
// # Refusals
//
// The TSDB's per-sample errors become *AppendError with Cortex's reasons:
// storage.ErrDuplicateSampleForTimestamp is validate.NewValueForTimestamp
// (with the stored and the refused value), ErrOutOfOrderSample is
// SampleOutOfOrder, ErrOutOfBounds is SampleOutOfBounds and ErrTooOldSample
// (out-of-order window set) is SampleTooOld; native histograms get the same
// reasons. The same value again at the same timestamp is accepted silently.
// A refused sample does not spoil its batch: the others still commit.
// Unlike the bare TSDB (and Cortex), a sample that another batch still in
// flight would make the TSDB drop silently at Commit (another value at the
// same timestamp, or an older sample) is refused at Append. Within one
// batch the TSDB's rule stands (the earlier sample is kept, the other
// dropped at Commit) and Append says so: an *AppendError with WithinBatch.
//
// # Query limits
//
// As Prometheus's, with the same answers (web/api/v1 returnAPIError):
//
//	Options.QueryTimeout         2m    503 timeout "query timed out in query execution"
//	Options.QueryMaxConcurrency  4     one more waits; 503 timeout "query timed out in query queue"
//	Options.QueryMaxSamples      50M   422 execution "query processing would load too many samples into memory in query execution"
//	Options.QueryMaxLength       128K  400 bad_data, before parsing (Prometheus has no such limit)
//
// Each text goes on to name the limit and what sets it: the name the
// program gave in Options.LimitNames (rwkit serve gives its flags, "rwkit
// serve --query-timeout"), else the Options field; limits.go says why each
// default. A query waiting for a slot that runs out of time is answered
// 503 "query queue" where Prometheus, without its experimental query-cost
// feature, answers 400 or 422 with "context deadline exceeded".
//
// # Storage
//
// Tenant "x" lives in <dir>/x/ (a plain Prometheus TSDB: promtool can read
// it) with its metric metadata in <dir>/x/rwkit-metadata.json. Its TSDB is
// opened, and the folder created, by its first accepted sample (Open opens
// those of tenants with data on disk): until then a tenant costs about 20
// KiB and no open file, and its queries answer as an empty TSDB's. Committed
// samples are in the WAL before Commit returns and survive Close and a
// process crash. Native histograms are always accepted (the TSDB of
// Prometheus v3 has no switch for them). Exemplars are kept only with
// Options.MaxExemplars > 0 (query_exemplars answers them). <dir>/queries.active
// holds the queries running (Prometheus's active query tracker: those that
// were running when the process died are logged at the next Open), and
// <dir>/rwkit.lock is locked while the store is open: a second Open of the
// same directory, in any process, fails with ErrInUse before it touches
// anything.
//
// # A full disk
//
// A Commit that fails to write the WAL (ENOSPC, EIO) is rolled back in
// memory by the TSDB, but its WAL may now end in a torn record, and the
// TSDB's WAL keeps appending behind it: at the next Open the repair
// (wlog.WL.Repair) truncates the WAL at the tear and deletes every later
// segment, so every write committed after the failure would be lost, and
// cutting a new segment would not save them. So the tenant fails closed:
// from that Commit on, every write is refused with an error wrapping
// ErrCannotWrite (nothing of it stored) and Store.Unwritable lists the
// tenant. At most once a second, on a Tenant.Writable or Store.Unwritable
// call (the workspace makes one before each write and on /-/ready), it
// tries to recover: once a probe file as large as the WAL's newest
// segment can be written and synced (the repair rewrites that segment),
// and no appender or querier holds the TSDB, it closes the TSDB, cuts from
// the WAL what the failed commit left in it (the close would otherwise
// flush the rest of that record, and the refused write would come back),
// and opens it again: the replay repairs the tear, a new segment is
// started, and writes are taken again. A tenant whose TSDB is not open yet
// has nothing to repair: a first open that a full disk fails refuses the
// sample that asked for it with the open's error, and the next sample
// tries again. A repair that a still full disk interrupted (the segment
// renamed to .repair, a short copy in its place) is undone before the
// next Open. The failure is logged once (ERROR, with the OS error and the
// tenant's directory), and the recovery once (INFO, with failed_writes,
// the writes refused in between).
//
// Head chunks are memory-mapped files the TSDB writes in the background
// (every minute, and at Close); a full disk there makes the TSDB panic
// (tsdb.handleChunkWriteError) and the process exit, with every committed
// sample still in the WAL. Options.DiskReserve prevents it (reserve.go): a
// file of that size is kept allocated in the store's directory
// (ReserveFile), writes are refused once the free space outside it is under
// half of it, and the file is then deleted so the TSDB has room to finish.
// Compaction and WAL checkpoints that fail for room are retried by the
// TSDB and delete nothing. With Options.OutOfOrderWindow > 0, the TSDB
// only logs a failure to write out-of-order samples to the WBL.
package store
