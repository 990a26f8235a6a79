// Package remotewrite sends Prometheus remote-write requests (RW 1.0 and
// 2.0) and explains every refusal.
//
//	client, err := remotewrite.New("https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123/api/v1/remote_write",
//		remotewrite.WithTransport(sigv4Transport), // from remotewrite/sigv4, for AMP
//	)
//	if err != nil {
//		return err
//	}
//	res, err := client.Write(ctx, &wire.WriteRequest{Series: series})
//	var rwErr *remotewrite.Error
//	if errors.As(err, &rwErr) {
//		// rwErr.StatusCode, rwErr.Body, rwErr.Reason ("new-value-for-timestamp"),
//		// rwErr.Hint, the sizes and counts of the refused request.
//	}
//	fmt.Println(res) // 3 requests (RW 1.0), 5120 series, ...
//
// One Client.Write is one logical write: split into requests bounded by
// uncompressed bytes and samples, sent in order with the headers both specs
// require (Content-Encoding: snappy, Content-Type, X-Prometheus-Remote-
// Write-Version, User-Agent), retried per the specs (network errors, 5xx
// and 429 with backoff and Retry-After; never another 4xx), falling back
// from RW 2.0 to RW 1.0 when the receiver shows it does not take 2.0.
// Client.WriteEncoded sends one RW 1.0 request the caller encoded within
// Client.Limits (push.Queue encodes a batch once, when it buffers it), with
// the same retries and errors.
//
// A refusal is an *Error: status, whole body, the discard reason
// classified from the body (Cortex's names, see validate.Reason, recognised
// in Cortex, AMP, Mimir and Prometheus texts by Classify), a one-line hint,
// the endpoint without credentials, and what the refused request and the
// whole write carried.
//
// Defaults (each option's doc says where the value comes from):
//
//	version                 RW 1.0 (WithVersion)
//	max request bytes       768 KiB uncompressed, under AMP's 1 MB request quota (WithMaxRequestBytes)
//	max samples per request 2000, Prometheus' max_samples_per_send (WithMaxSamplesPerRequest)
//	backoff                 30ms doubling to 5s, equal jitter (a wait in [d/2, d], never below 30ms), carried across writes while the receiver is down, 5 attempts (WithRetry)
//	timeout                 30s per attempt, Prometheus' remote_timeout (WithHTTPClient to change)
//	User-Agent              rwkit/<version> (WithUserAgent)
//	logging                 none (WithLogger)
//
// The package reads no environment variables and logs nothing unless given
// a logger; it never logs credentials, header values or URL userinfo.
package remotewrite
