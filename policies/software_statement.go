package policies

import (
	"context"
	"slices"

	"github.com/dcrgate/dcrgate/oauth"
)

// KindSoftwareStatement requires registrations to carry a verified
// software statement (RFC 7591 §2.3), optionally from given issuers.
const KindSoftwareStatement = "software_statement"

// SoftwareStatement is the policy of KindSoftwareStatement. The statement
// itself is verified before policies run (bad ones never get here); this
// only decides whether one is needed and whose.
type SoftwareStatement struct {
	// Name names the policy in refusals; "" is the kind.
	Name string
	// Issuers, when set, are the statement issuers accepted here: a subset
	// of the trusted ones, e.g. one federation for this chain.
	Issuers []string
}

// Check implements Policy. An update is judged by the statement it sends
// or, when it sends none (RFC 7592 lets it be omitted), by the one the
// client was registered with.
func (p SoftwareStatement) Check(_ context.Context, r Request) error {
	if r.Statement == nil {
		return oauth.ErrInvalidSoftwareStatement.WithDescription("a software statement is required to register here").WithPolicy(p.name())
	}
	if len(p.Issuers) > 0 && !slices.Contains(p.Issuers, r.Statement.Issuer) {
		return oauth.ErrUnapprovedSoftwareStatement.WithDescription("software statements of %q are not accepted here", r.Statement.Issuer).WithPolicy(p.name())
	}
	return nil
}

func (p SoftwareStatement) name() string {
	if p.Name == "" {
		return KindSoftwareStatement
	}
	return p.Name
}
