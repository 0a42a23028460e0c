// Command dcrgate is the OAuth 2.0 Dynamic Client Registration gateway. This
// package only wires the other packages together; behaviour lives there.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func main() {
	tuneGC()
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dcrgate:", err)
		os.Exit(1)
	}
}

// tuneGC trades memory the gateway can spare for CPU: at Go's default
// (GOGC=100) the collector took about a tenth of a GET's CPU while the heap
// stayed far below the 64 MiB the process is budgeted. A soft memory limit
// keeps the larger GC target from growing the process past that budget.
// GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dcrgate",
		Short: "OAuth 2.0 Dynamic Client Registration gateway backed by an LDAP directory",
		Long: `dcrgate registers OAuth clients through RFC 7591 and manages them through
RFC 7592, keeping every client as one entry in your LDAP directory.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newDevCommand(), newConfigCommand(), newSchemaCommand(), newVersionCommand(), newHealthCommand(), newTokenCommand())
	root.AddCommand(newClientsCommand())
	root.AddCommand(newDirectoryCommand())
	return root
}
