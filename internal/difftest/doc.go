// Package difftest holds rwkit's differential test of the local workspace
// (package workspace, profile "cortex") against a real Cortex v1.21.1 (the
// engine Amazon Managed Service for Prometheus runs, started by package
// cortextest).
//
// Every scenario is a sequence of remote writes sent, byte for byte and
// with the same headers, to Cortex's /api/v1/push and to the workspace's
// /api/v1/push, under a tenant of its own on both. After each scenario the
// test compares, "(-cortex +workspace)":
//
//   - the status of every answer: its class (2xx, 5xx), or the exact code
//     when it is a 4xx;
//   - what is stored: every raw sample of the tenant, read back with PromQL
//     ({__name__=~".+"}[4h]) from both;
//   - the per-reason discard counts: cortex_discarded_samples_total summed
//     over Cortex's two processes against the workspace's
//     rwkit_discarded_samples_total{workspace,reason};
//
// and, on the workspace alone, rwkit_dropped_samples_total against the
// scenario's expectation: what Cortex answers 2xx for and drops without a
// word (a second value or an older sample of a series in one request),
// which the workspace must drop too and count there;
//
// and checks that the first line of each workspace refusal contains the
// core of Cortex's text (without the gRPC "... desc = " prefix).
//
// Scenarios where the two cannot agree carry a documented known
// difference, which the test asserts instead of skipping: the observation
// expected from the workspace is Cortex's with the difference applied, and
// the test fails when the difference disappears, so the marker is removed
// then. README.md's "Where the workspace and Cortex differ" lists them.
//
// ha_test.go holds HA deduplication to the same standard against a Cortex
// with its HA tracker on (cortextest.Options.HATracker, short timings on
// both sides): exact statuses (200 and 202 differ), the answers' texts,
// stored samples, discards, and cortex_distributor_deduped_samples_total
// against rwkit_ha_deduplicated_samples_total by cluster.
//
// The same runner holds other profiles against the servers they model
// (backends_test.go): `--limits prometheus` against a real Prometheus 3
// (prometheus3_test.go, RW 1.0 and 2.0, with the RW 2.0 Written headers
// compared too) and `--limits mimir` against a real Mimir (mimir_test.go,
// Mimir's discard reasons read back through validate.MimirReason). Their
// servers come from internal/backendtest.
//
// Without a Cortex binary the test is skipped, or fails with
// RWKIT_REQUIRE_CORTEX=1:
//
//	RWKIT_CORTEX_BIN="$(./scripts/cortex build)" RWKIT_REQUIRE_CORTEX=1 go test -count=1 -v ./internal/difftest
package difftest
