// Package version holds rwkit's version as the Go toolchain recorded it in
// the binary (runtime/debug.ReadBuildInfo), so that every build says which
// rwkit it carries without a link-time flag anyone must remember to set:
//
//   - rwkit as a dependency of a service: the module version the service
//     requires, e.g. "v0.3.1" (or a pseudo-version);
//   - rwkit built from its repository: the version go build derived from
//     the VCS (tag or pseudo-version, "+dirty" for local changes), else the
//     VCS revision, else "devel" (go test and go run stamp neither).
package version

import (
	"runtime/debug"
	"sync"
)

// modulePath is rwkit's module, looked up among the build's modules.
const modulePath = "github.com/rwkit/rwkit"

// devel is the version of a build that records none, after Go's own
// "(devel)".
const devel = "devel"

var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return devel
	}
	return fromBuildInfo(bi)
})

// Version is rwkit's version in this binary; see the package comment.
func Version() string { return version() }

// UserAgent is the User-Agent rwkit sends with every request:
// "rwkit/<version>".
func UserAgent() string { return "rwkit/" + version() }

func fromBuildInfo(bi *debug.BuildInfo) string {
	if bi.Main.Path == modulePath {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return revision(bi.Settings)
	}
	for _, m := range bi.Deps {
		if m.Path != modulePath {
			continue
		}
		if m.Replace != nil {
			// A replace by a local directory has no version.
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return devel
		}
		return m.Version
	}
	return devel
}

// revision is the VCS revision go build stamped (-buildvcs), shortened to
// 12 characters as Go's pseudo-versions do, with "+dirty" when the work
// tree had changes; devel when there is none.
func revision(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return devel
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
