package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSecretNeverPrinted prints the configuration every way the program
// might, and fails if the bind password shows up.
func TestSecretNeverPrinted(t *testing.T) {
	const secret = "hunter2-very-secret"
	c := servable()
	c.LDAP.BindPassword = secret
	logged := func(h func(*bytes.Buffer) slog.Handler, v any) string {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", "config", v)
		return buf.String()
	}
	text := func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }
	jsonH := func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }
	marshal := func(f func(any) ([]byte, error), v any) string {
		out, err := f(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	outputs := map[string]string{
		"%v config":        fmt.Sprintf("%v", c),
		"%+v config":       fmt.Sprintf("%+v", c),
		"%#v config":       fmt.Sprintf("%#v", c),
		"%v ldap":          fmt.Sprint(c.LDAP),
		"%#v ldap":         fmt.Sprintf("%#v", c.LDAP),
		"slog text config": logged(text, c),
		"slog json config": logged(jsonH, c),
		"slog text ldap":   logged(text, c.LDAP),
		"slog json ldap":   logged(jsonH, c.LDAP),
		"json config":      marshal(json.Marshal, c),
		"yaml config":      marshal(yaml.Marshal, c),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s prints the password: %s", name, out)
		}
		if !strings.Contains(out, Redacted) || !strings.Contains(out, "dcrgate") {
			t.Errorf("%s should show the redacted LDAP settings: %s", name, out)
		}
	}
	if c.LDAP.BindPassword != secret {
		t.Error("redaction changed the value itself")
	}
}
