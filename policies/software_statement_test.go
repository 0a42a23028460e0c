package policies_test

import (
	"errors"
	"testing"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
)

func TestSoftwareStatementPolicy(t *testing.T) {
	st := &client.Statement{Issuer: "https://sw.example.test"}
	tests := []struct {
		name string
		p    policies.SoftwareStatement
		r    policies.Request
		want error
	}{
		{name: "ok/statement present", r: policies.Request{Operation: "register", Statement: st}},
		{name: "ok/from an accepted issuer", p: policies.SoftwareStatement{Issuers: []string{st.Issuer}},
			r: policies.Request{Operation: "register", Statement: st}},
		{name: "ok/update keeps its statement", r: policies.Request{Operation: "update", Statement: st}},
		{name: "fail/update without statement", r: policies.Request{Operation: "update"}, want: oauth.ErrInvalidSoftwareStatement},
		{name: "fail/no statement", r: policies.Request{Operation: "register"}, want: oauth.ErrInvalidSoftwareStatement},
		{name: "fail/other issuer", p: policies.SoftwareStatement{Issuers: []string{"https://other.test"}},
			r: policies.Request{Operation: "register", Statement: st}, want: oauth.ErrUnapprovedSoftwareStatement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(t.Context(), tt.r)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Check() = %v, want %v", err, tt.want)
			}
		})
	}
}
