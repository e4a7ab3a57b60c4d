// Package buildinfo says which build of pes is running: the version and
// commit a release sets with the linker, else what the Go toolchain
// recorded (a module version for go install …@v1.2.3, the VCS revision
// of a build in a clone), and the Go version. pesd prints it (pesd
// version), logs it at start and exports it on /metrics (pes_build_info);
// the client and the provider send it in their User-Agent.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the release build:
//
//	-ldflags "-X github.com/pes-project/terraform-provider-pes/reconciler/buildinfo.version=1.2.3
//	          -X github.com/pes-project/terraform-provider-pes/reconciler/buildinfo.commit=abc123"
var (
	version string
	commit  string
)

// Info is one build's identity.
type Info struct {
	Version   string // 1.2.3, v1.2.3 from go install, or dev
	Commit    string // the VCS revision, with "-dirty" for a modified tree; unknown when not recorded
	GoVersion string // go1.26.8
	Platform  string // linux/amd64
}

// Get returns this binary's build information.
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok && i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	if ok && i.Commit == "" {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			i.Commit = rev + dirty
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// Version is Get().Version.
func Version() string { return Get().Version }
