package logging

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRequestIDIsLogged(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info", "json").With("component", "test")
	log.InfoContext(WithRequestID(context.Background(), "req-42"), "hello")
	log.DebugContext(context.Background(), "hidden")
	out := buf.String()
	if !strings.Contains(out, `"request_id":"req-42"`) || !strings.Contains(out, `"component":"test"`) {
		t.Fatalf("log line lacks request id or attrs: %s", out)
	}
	if strings.Contains(out, "hidden") {
		t.Fatalf("debug record written at info level: %s", out)
	}
}
