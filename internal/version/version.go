// Package version says which build of provisiond is running: the version, commit and build date
// the Makefile (and the Dockerfile, through it) set with -ldflags, or what the Go toolchain
// recorded in the binary when they are not set.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the linker: go build -ldflags "-X github.com/provisiond/provisiond/internal/version.version=v1.2.3 …".
var version, commit, date string

// Info describes one build.
type Info struct {
	Version   string // a release tag, or "(devel)"
	Commit    string // the source commit, "" when unknown
	Date      string // when it was built (RFC 3339), or the commit's time, "" when unknown
	GoVersion string
}

// Get is the running binary's build.
func Get() Info {
	info := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok && info.Version == "" {
		info.Version = bi.Main.Version // v1.2.3 when installed with go install …@v1.2.3
	}
	if ok && info.Commit == "" {
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && info.Commit != "" {
			info.Commit += "-dirty"
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// String is the build in one line, as `provisiond version` prints it.
func (i Info) String() string {
	s := "provisiond " + i.Version
	if i.Commit != "" {
		s += ", commit " + i.Commit
	}
	if i.Date != "" {
		s += ", built " + i.Date
	}
	return fmt.Sprintf("%s, %s", s, i.GoVersion)
}
