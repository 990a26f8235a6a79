// Package version holds rwkit's version, set at build time with
//
//	go build -ldflags "-X github.com/rwkit/rwkit/internal/version.Version=v0.1.0"
package version

// Version is rwkit's version; "dev" for builds from a work tree.
var Version = "dev"

// UserAgent is the User-Agent rwkit sends with every request.
func UserAgent() string { return "rwkit/" + Version }
