// Package version says which panelftp is running: its version, the commit
// it was built from and the Go toolchain, read from the build information
// Go embeds in every binary, or set at link time by a packager:
//
//	go build -ldflags "-X github.com/panelftp/panelftp/internal/version.version=1.2.0 \
//	  -X github.com/panelftp/panelftp/internal/version.commit=$(git rev-parse HEAD)" ./cmd/panelftp
//
// (packaging/build-deb.sh does so: Go records the commit by itself only
// when it builds inside a plain git checkout).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; empty means "from the build information".
var (
	version string
	commit  string
)

// Info describes the running binary.
type Info struct {
	Version  string // "1.2.0", a Go pseudo-version, or "(devel)"
	Commit   string // full hash, "" when unknown
	Modified bool   // built from a checkout with uncommitted changes
	Go       string // "go1.26.8"
	Platform string // "linux/amd64"
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(bi, version, commit)
}

// fromBuild fills Info from bi (nil when unavailable), preferring the
// link-time values when set.
func fromBuild(bi *debug.BuildInfo, linkVersion, linkCommit string) Info {
	i := Info{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if v := bi.Main.Version; v != "" {
			i.Version = v
		}
		if bi.GoVersion != "" {
			i.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Commit = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if linkVersion != "" {
		i.Version = linkVersion
	}
	if linkCommit != "" {
		i.Commit, i.Modified = linkCommit, false
	}
	return i
}

// String is the one line `panelftp version` prints:
// "panelftp 1.2.0 (commit 0123456789ab, go1.26.8 linux/amd64)".
func (i Info) String() string {
	c := i.Commit
	switch {
	case c == "":
		c = "unknown"
	case len(c) > 12:
		c = c[:12]
	}
	if i.Modified {
		c += " with local changes"
	}
	return fmt.Sprintf("panelftp %s (commit %s, %s %s)", i.Version, c, i.Go, i.Platform)
}
