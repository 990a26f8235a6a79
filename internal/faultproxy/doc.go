// Package faultproxy is a fault-injecting HTTP/1.1 proxy for tests: it
// listens on 127.0.0.1:0, forwards to a real receiver (a Prometheus, the
// rwkit workspace) and, on command, breaks the path the way networks and
// backends do.
//
//	px, err := faultproxy.New(prom.URL)
//	defer px.Close()
//	p, _ := push.New(px.URL()+"/api/v1/write", reg, ...)
//	px.Set(faultproxy.Fault{Mode: faultproxy.Status, Status: 503, Count: 3}) // the next 3 requests get 503
//	px.Set(faultproxy.Fault{Mode: faultproxy.ResetResponse, Bytes: 10})      // stored, but the client sees a reset
//	px.Clear()
//
// The fault can be switched at any time from any goroutine; it applies to
// requests that start arriving afterwards (Refuse acts at once). Modes:
//
//	Pass           forward unchanged
//	Refuse         stop listening (connection refused), close open connections
//	Close          close the connection when a request starts, no answer
//	ResetRequest   read Bytes of the request, then RST; nothing forwarded
//	ResetResponse  forward, write Bytes of the response, then RST
//	Stall          read the request, never answer; held until the client gives up
//	Status         answer Status (503 default) with optional Retry-After, not forwarded
//	Delay          forward, hold the response for Delay
//
// Count limits a per-request fault to the next Count requests (a 5xx
// burst); then the proxy passes again. After lets that many requests pass
// first (the second request of a split write). ResetRequest with Bytes at
// or above the request's size behaves like Stall.
//
// # What push does under each fault
//
// push/fault_test.go and push/outage_test.go drive a push.Pusher (Run,
// fake clock, 15s interval, 5s push timeout, 1s in the Stall and
// slower-than-timeout rows, 2 attempts per write) through
// this proxy to a real Prometheus (Debian's, via internal/promtest), with
// a tap that decodes what reaches it. "Stored" is a range query on
// Prometheus plus count_over_time: every snapshot's own timestamp, once.
// Goroutines are runtime.NumGoroutine over the count before New; after
// Shutdown and closing idle connections on every hop, 0 are left in every
// row. Buffer bytes are push's own accounting (Snappy bytes).
//
//	fault (pushes under it)            expected                                     observed
//	Refuse (3)                         buffered, delivered oldest first when back   8/8 stored once; 3 buffered (615 B); peak +9 goroutines
//	Close (3)                          same                                         8/8 once; 3 buffered; peak +8
//	ResetRequest 100 B (3)             same                                         8/8 once; 3 buffered; peak +9
//	ResetResponse 9 B (3)              stored but the answer lost: re-sent, the     8/8 once; 14 bodies reached the receiver for
//	                                   TSDB keeps one (identical duplicate)         8 snapshots; 0 rejected
//	ResetResponse, 2nd of split write  only the undelivered half kept and re-sent   6/6 once; 1 buffered, 123 B (half a snapshot)
//	Stall (2)                          the push times out (1s); buffered            7/7 once; 2 buffered; peak +9
//	503 x5 burst (3)                   client retries absorb part of the burst     8/8 once; at most 2 buffered
//	429, no Retry-After (3)            buffered like a 5xx                          8/8 once; 3 buffered
//	429 Retry-After: 1 (2)             client waits 1s (recorded, not slept)        7/7 once; waits [1s 1s]; 2 buffered
//	429 Retry-After: 3600 (2)          a wait past the deadline is not started;     7/7 once; 2 buffered (before the fix in
//	                                   buffered                                     push/cycle.go: 2 lost as "rejected")
//	Delay 300ms (2)                    delivered late, nothing buffered             7/7 once; 0 buffered
//	Delay 1.5s > 1s timeout (2)        stored, the push timed out: re-sent, one     7/7 once; 9 bodies at the receiver; 2 buffered
//	                                   kept
//	outage 10m, Refuse, 40 snapshots,  newest ~10 kept, buffer <= bound, the rest   10 kept, 30 dropped{buffer_full}; peak 15.8 KB
//	  bound 10.5 snapshots (16.4 KB)   dropped; recovery oldest first, original ts  of 16.4 KB; 13/13 stored once, in order;
//	                                                                                heap +0.3 MB; peak +9..11 goroutines
//	outage 10m, 503                    same                                         same figures
//	outage 10m, age bound 150s         the age binds: 11 kept, the rest too_old     29 too_old, 30 after the recovery tick (15s
//	                                                                                later); 13/13 stored once, in order
//
// In every row pushes never overlapped (at most 1 request in flight,
// counted at the pusher's transport) and nothing was rejected.
package faultproxy
