package sigv4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// ChainHint is how to give the AWS SDK's default credential chain
// something to find: each source it tries, in its order, and how to set
// it. rwkit prints it wherever credentials are missing (push, agent,
// verify, doctor, discards), so it lives here, with the chain.
const ChainHint = "the AWS default credential chain tried, in order: " +
	"(1) environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys); " +
	"(2) shared files ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): run `aws configure` or `aws sso login`, and pick a profile with AWS_PROFILE; " +
	"(3) web identity (EKS IRSA): set AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS sets both for a service account annotated with a role); " +
	"(4) ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI, set by ECS when the task definition has a task role (taskRoleArn); " +
	"(5) EC2 instance metadata (IMDS): attach an instance profile (IAM role) to the instance; AWS_EC2_METADATA_DISABLED=true turns this source off. " +
	"The identity needs aps:RemoteWrite (push, agent) or aps:QueryMetrics (verify) on the workspace, or cloudwatch:ListMetrics and cloudwatch:GetMetricData (discards)"

// CredentialsError means that no AWS credentials could be had to sign a
// request: nothing was sent, and sending again will not help until
// credentials are set up. Get it with errors.As:
//
//	var ce *sigv4.CredentialsError
//	if errors.As(err, &ce) {
//		log.Println(ce.Reason())
//	}
//
// remotewrite, which does not import this package, recognises it by its
// Credentials method and neither retries it nor calls it a network error.
type CredentialsError struct {
	// Service and Region are what the request was to be signed for.
	Service, Region string
	// DefaultChain is set when the credentials come from the SDK's default
	// chain (NewDefault, LoadDefaultConfig): the message then lists the
	// chain (ChainHint).
	DefaultChain bool
	// Provider is the type of a provider given to New, for the message
	// when DefaultChain is not set.
	Provider string
	// Err is the SDK's error: the reason of the provider that failed.
	Err error
}

// Error says what failed, the SDK's reason, and how to fix it.
func (e *CredentialsError) Error() string {
	var b strings.Builder
	b.WriteString("sigv4: no AWS credentials to sign with")
	switch {
	case e.Service != "" && e.Region != "":
		fmt.Fprintf(&b, " (service %s, region %s)", e.Service, e.Region)
	case e.Region != "":
		fmt.Fprintf(&b, " (region %s)", e.Region)
	}
	if r := e.Reason(); r != "" {
		fmt.Fprintf(&b, ": %s", r)
	}
	if e.DefaultChain {
		fmt.Fprintf(&b, "; %s", ChainHint)
	} else if e.Provider != "" {
		fmt.Fprintf(&b, "; the credentials provider given (%s) failed", e.Provider)
	}
	return b.String()
}

// Reason is the SDK's own reason, without the wrapping every cached
// provider adds.
func (e *CredentialsError) Reason() string {
	if e.Err == nil {
		return ""
	}
	r := e.Err.Error()
	for {
		trimmed := strings.TrimPrefix(r, "failed to refresh cached credentials, ")
		if trimmed == r {
			return r
		}
		r = trimmed
	}
}

// Unwrap returns Err.
func (e *CredentialsError) Unwrap() error { return e.Err }

// Credentials reports true: it marks the error as a missing-credentials
// error for packages that do not import this one (remotewrite).
func (e *CredentialsError) Credentials() bool { return true }

// LoadDefaultConfig loads the AWS SDK's default configuration as NewDefault
// does, for rwkit's other AWS clients (rwkit discards' CloudWatch client,
// verify, doctor): an empty region is the configuration's own
// (AWS_REGION, the profile's). The SDK's log lines (such as "falling back
// to IMDSv1", which it would print on stderr) go to log at Debug and Warn;
// a nil log drops them. A client that cannot get credentials fails with an
// error that errors.As finds a *CredentialsError in.
func LoadDefaultConfig(ctx context.Context, region string, log *slog.Logger) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(sdkLogger(log))}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("sigv4: load AWS default config: %w", err)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(&explained{next: cfg.Credentials, region: cfg.Region})
	}
	return cfg, nil
}

// explained turns a provider's failure into a *CredentialsError, so that
// an AWS client's error chain carries it.
type explained struct {
	next   aws.CredentialsProvider
	region string
}

func (p *explained) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.next.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		var ce *CredentialsError
		if !errors.As(err, &ce) {
			err = &CredentialsError{Region: p.region, DefaultChain: true, Err: err}
		}
	}
	return creds, err
}

// sdkLogger adapts log to the SDK's logging.Logger; nil drops everything
// (the SDK's default writes to stderr).
func sdkLogger(log *slog.Logger) logging.Logger {
	if log == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
	})
}
