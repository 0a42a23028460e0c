package main

import (
	"fmt"
	"io"
	"os"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/config"
)

// openAudit opens the audit trail cfg names — stderr, stdout, off or a
// file appended to — and returns it with the function that closes it.
func openAudit(cfg config.Audit) (audit.Recorder, func(), error) {
	var w io.Writer
	switch cfg.Output {
	case "off":
		return audit.Discard, func() {}, nil
	case "", "stderr":
		w = os.Stderr
	case "stdout":
		w = os.Stdout
	default:
		f, err := os.OpenFile(cfg.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("audit.output: %w", err)
		}
		return audit.NewWriter(f), func() { _ = f.Close() }, nil
	}
	return audit.NewWriter(w), func() {}, nil
}
