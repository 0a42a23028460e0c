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

// buildVersion returns the version and VCS revision of this binary: the
// -ldflags version when set, else the module version (go install
// module@version), else "devel"; the revision (with "-dirty" for a build
// from a modified tree) and its time from the build info, when recorded.
func buildVersion() (ver, revision string) {
	ver = version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fallback(ver, "devel"), ""
	}
	if ver == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		ver = info.Main.Version
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	revision = settings["vcs.revision"]
	if revision != "" && settings["vcs.modified"] == "true" {
		revision += "-dirty"
	}
	return fallback(ver, "devel"), revision
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
			ver, revision := buildVersion()
			if revision == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "dcrgate", ver)
				return
			}
			fmt.Fprintln(cmd.OutOrStdout(), "dcrgate", ver, revision)
		},
	}
}
