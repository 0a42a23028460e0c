package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; when
// it is not, the module's version or the VCS revision Go recorded in the
// binary stands in.
var version = ""

// revision is set at build time with -ldflags "-X main.revision=..." where
// Go cannot record the VCS revision itself: the container build, whose
// context leaves out .git (docker/Dockerfile).
var revision = ""

// buildVersion returns the version and VCS revision of this binary: the
// -ldflags version when set, else the module version (go install
// module@version), else "devel"; the -ldflags revision when set, else the
// one in the build info (with "-dirty" for a build from a modified tree),
// when recorded.
func buildVersion() (ver, rev string) {
	ver = version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fallback(ver, "devel"), revision
	}
	if ver == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		ver = info.Main.Version
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	rev = settings["vcs.revision"]
	if rev != "" && settings["vcs.modified"] == "true" {
		rev += "-dirty"
	}
	return fallback(ver, "devel"), fallback(revision, rev)
}

func fallback(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the VCS revision it was built from",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			ver, rev := buildVersion()
			if rev == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "dcrgate", ver)
				return
			}
			fmt.Fprintln(cmd.OutOrStdout(), "dcrgate", ver, rev)
		},
	}
}
