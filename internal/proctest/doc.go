// Package proctest runs the server processes that the real-server test
// helpers (internal/cortextest, internal/promtest, internal/backendtest)
// start: finding a binary, picking free loopback ports, launching a
// process with its output in a log file, waiting until it answers ready,
// and stopping it; and asking a started server an instant PromQL query
// (Query), which each helper then judges in its own way. Each helper keeps only what is particular to its
// server: flags, configuration and what "started" means beyond ready.
//
//	ports, err := proctest.FreePorts(1)
//	...
//	var g proctest.Group
//	t.Cleanup(g.Stop)
//	p, err := g.Launch(dir, "prometheus", bin, "--web.listen-address="+proctest.HostPort(ports[0]))
//	...
//	err = p.WaitReady(url+"/-/ready", nil, time.Now().Add(time.Minute))
//
// A process dies with the test binary (Pdeathsig), so a test killed by
// go test's timeout, which runs no cleanup, leaves no server behind.
//
// It is for tests only, like the packages that use it: product code never
// imports it.
package proctest
