// Package sigv4 signs HTTP requests with AWS Signature Version 4, for
// pushing remote write to Amazon Managed Service for Prometheus (AMP).
//
//	url := "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-123/api/v1/remote_write"
//	region, _ := sigv4.RegionFromURL(url)                   // "us-west-2"
//	tr, err := sigv4.NewDefault(ctx, region)                 // AWS default credential chain
//	if err != nil {
//		return err
//	}
//	client, err := remotewrite.New(url, remotewrite.WithTransport(tr))
//
// Transport is an http.RoundTripper. It signs a clone of each request (the
// caller's request is never modified) with signing name "aps" (WithService
// changes it), hashing the exact body bytes sent: for remote write, the
// Snappy-compressed protobuf. The hex SHA-256 goes in X-Amz-Content-Sha256
// and into the signature; the signer adds Authorization, X-Amz-Date and,
// for temporary credentials, X-Amz-Security-Token.
//
// Credentials come from an aws.CredentialsProvider given to New, or from the
// SDK's default chain with NewDefault, which calls config.LoadDefaultConfig
// and so reads, in this order: environment variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared config and
// credentials files (AWS_PROFILE, AWS_CONFIG_FILE,
// AWS_SHARED_CREDENTIALS_FILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE
// and AWS_ROLE_ARN, as EKS IRSA sets them), the ECS container credentials
// endpoint (task roles) and EC2 instance metadata (IMDS). With an empty
// region NewDefault uses AWS_REGION, AWS_DEFAULT_REGION or the profile's
// region. Providers are wrapped in an aws.CredentialsCache.
//
// When no credentials can be had, RoundTrip sends nothing and returns a
// *CredentialsError: the SDK's reason, and, for the default chain, each
// source it tried and how to set it (ChainHint). remotewrite neither
// retries it nor calls it a network error. rwkit's other AWS clients load
// their configuration with LoadDefaultConfig to get the same error.
//
// The AWS SDK logs a few lines of its own (such as "falling back to
// IMDSv1" when instance metadata refuses a token); its default logger
// prints them on stderr. Here they go to the *slog.Logger of WithLogger
// (or LoadDefaultConfig's), at Debug and Warn, or nowhere.
//
// Nothing in this package prints, logs or wraps a secret key or session
// token: String, GoString and every error name the service, the region and
// the provider's type only.
package sigv4
