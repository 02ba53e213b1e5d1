package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Version: "v0.0.0-20261203120000-faf9d207882e"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "faf9d207882e9f70d8a118361a6903b863515a60"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name                string
		bi                  *debug.BuildInfo
		linkVersion, commit string
		want                string
	}{
		{"build info", bi, "", "", "panelftp v0.0.0-20261203120000-faf9d207882e (commit faf9d207882e with local changes, go1.26.8 linux/amd64)"},
		{"set at link time", bi, "1.2.0", "0123456789abcdef0123", "panelftp 1.2.0 (commit 0123456789ab, go1.26.8 linux/amd64)"},
		{"nothing known", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "", "", "panelftp (devel) (commit unknown, go1.26.8 linux/amd64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := fromBuild(tc.bi, tc.linkVersion, tc.commit)
			i.Platform = "linux/amd64"
			if got := i.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if i := fromBuild(nil, "", ""); i.Version != "(devel)" || i.Go == "" {
		t.Errorf("without build information: %+v", i)
	}
}
