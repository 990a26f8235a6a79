package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "31f5dc8abcdef0123456789abcdef0123456789a"}}
	dirty := append(rev[:2:2], debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"a service requiring rwkit", debug.BuildInfo{
			Main: debug.Module{Path: "example.com/auth", Version: "v1.2.0"},
			Deps: []*debug.Module{{Path: "github.com/prometheus/client_golang", Version: "v1.23.2"}, {Path: modulePath, Version: "v0.3.1"}},
		}, "v0.3.1"},
		{"a service requiring a pseudo-version", debug.BuildInfo{
			Main: debug.Module{Path: "example.com/auth"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0-20261206235612-31f5dc8abcde"}},
		}, "v0.0.0-20261206235612-31f5dc8abcde"},
		{"rwkit replaced by a tagged fork", debug.BuildInfo{
			Main: debug.Module{Path: "example.com/auth"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.3.1", Replace: &debug.Module{Path: "example.com/fork/rwkit", Version: "v0.3.2"}}},
		}, "v0.3.2"},
		{"rwkit replaced by a local directory", debug.BuildInfo{
			Main: debug.Module{Path: "example.com/auth"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.3.1", Replace: &debug.Module{Path: "../rwkit"}}},
		}, "devel"},
		{"go build in the repository, version from the VCS", debug.BuildInfo{
			Main: debug.Module{Path: modulePath, Version: "v0.4.0"}, Settings: rev,
		}, "v0.4.0"},
		{"go build in the repository, revision only", debug.BuildInfo{
			Main: debug.Module{Path: modulePath, Version: "(devel)"}, Settings: rev,
		}, "31f5dc8abcde"},
		{"go build in a changed work tree", debug.BuildInfo{
			Main: debug.Module{Path: modulePath, Version: "(devel)"}, Settings: dirty,
		}, "31f5dc8abcde+dirty"},
		{"go test or go run in the repository", debug.BuildInfo{
			Main: debug.Module{Path: modulePath, Version: "(devel)"},
		}, "devel"},
		{"rwkit not among the modules", debug.BuildInfo{
			Main: debug.Module{Path: "example.com/auth", Version: "v1.2.0"},
		}, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(&tt.bi); got != tt.want {
				t.Errorf("fromBuildInfo = %q, want %q", got, tt.want)
			}
		})
	}
}

// The test binary is rwkit's own module built without VCS stamping (go
// test never stamps it), so the real build information gives "devel".
func TestUserAgentFromThisBinary(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	if bi.Main.Path != modulePath {
		t.Skipf("main module %q: not built from rwkit's module", bi.Main.Path)
	}
	if got, want := UserAgent(), "rwkit/"+fromBuildInfo(bi); got != want {
		t.Errorf("UserAgent() = %q, want %q", got, want)
	}
	if strings.HasSuffix(UserAgent(), "/dev") || Version() == "" {
		t.Errorf("UserAgent() = %q, Version() = %q: not from the build information", UserAgent(), Version())
	}
}
