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
// first (the second request of a split write). ResetRequest with Bytes at or above
// the request's size behaves like Stall.
package faultproxy
