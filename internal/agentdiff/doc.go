// Package agentdiff is rwkit's differential test of `rwkit agent` (package
// agent) against a real Prometheus agent: Debian's Prometheus 2.42 started
// with --enable-feature=agent by promtest.StartAgent.
//
//	RWKIT_REQUIRE_PROMETHEUS=1 go test -count=1 -v ./internal/agentdiff
//
// Both scrapers get one prometheus.yml, rendered from a Plan for each with
// its own target ports and receiver URL. Every scripted target (a Script:
// the answer to its n-th scrape) runs once per scraper, so both see the
// same sequence of answers whatever their timing. Each scraper
// remote-writes to its own Receiver, which decodes RW 1.0 and 2.0 with
// package wire and keeps every sample in arrival order.
//
// When every target's up has reached both receivers for one scrape more
// than the Plan compares, both are stopped (SIGTERM; agent.Shutdown) and
// Observe turns what each received into an Observation: for every label
// set, its values by scrape index (a target's scrape timestamps are its up
// samples'; a body's own timestamps are kept apart, relative to the plan's
// base), staleness markers told apart from NaN; the metadata by family;
// the problems (a series' timestamps going back in arrival order, a
// receiver refusal). Compare then checks them side by side.
//
// Tests:
//
//   - TestPrometheusAgainstItself runs two Prometheus agents and requires
//     the same observation from both, and that observation to be
//     testdata/prometheus-2.42.golden (go test ./internal/agentdiff -args
//     -update rewrites it): it validates the harness and pins what
//     Prometheus 2.42 does with every scenario.
//   - TestRwkitMatchesPrometheus runs Prometheus against package agent
//     (agent.LoadFile, agent.New with StaleMarkersOnShutdown false, Run),
//     and requires rwkit's observation to be Prometheus's with the known
//     differences applied (knownDifferences in rwkit_test.go, each with its
//     reason; an rwkit bug would be marked BUG). A known difference that no
//     longer shows fails the test, so the table stays exact. rwkit also
//     writes RW 2.0 to a second receiver: its samples must equal its RW 1.0
//     ones, and its per-series metadata Prometheus's per-family metadata
//     with knownMetadataDifferences applied.
//   - TestRwkitLoadsPrometheusFile: agent.LoadFile takes the file the
//     Prometheus agent runs, unchanged; the rwkit side only adds
//     scrape_native_histograms (2.42 refuses the key) and an RW 2.0
//     remote_write.
//
// Both differential tests skip with -short. Without a Prometheus binary
// they skip, or fail with RWKIT_REQUIRE_PROMETHEUS=1 (as in scripts/test).
package agentdiff
