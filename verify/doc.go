// Package verify runs PromQL checks against any Prometheus-compatible query
// API (Prometheus, Cortex, Mimir, Amazon Managed Service for Prometheus,
// rwkit's workspace) to prove that pushed data was stored, with the labels
// that keep writers apart.
//
//	base := "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1"
//	tr, err := sigv4.NewDefault(ctx, "us-west-2")
//	if err != nil {
//		return err
//	}
//	res, err := verify.Query(ctx, &http.Client{Transport: tr}, base,
//		`count by (service) (jvm_threads_live_threads)`, time.Now(), nil)
//	if err != nil {
//		return err // an *APIError carries the API's errorType and error
//	}
//	for _, o := range verify.Check(res, []verify.Expectation{
//		verify.ExpectDistinct("service", 6),
//		verify.ExpectLabel("instance"),
//	}) {
//		fmt.Println(o.Expectation, o.Pass, o.Got)
//	}
//
// The base URL is the part before /api/v1/query: a Prometheus server's root,
// Cortex's /prometheus prefix (with an X-Scope-OrgID header for the tenant),
// an AMP workspace's URL. Query sends the query as a form-encoded POST, as
// awscurl does against AMP, so the body is signed with the request.
//
// Check is pure: it compares a Result with expectations and says, for each,
// whether it held and what was found instead.
package verify
