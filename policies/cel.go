package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"cel.dev/cel-go/cel"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
)

// celRule is a policy written as a CEL expression that must evaluate to
// true. It sees:
//
//	operation  string  "register" or "update"
//	client_id  string  empty on register, but for a metadata document's
//	                   client: its URL (restrict the hosts trusted so)
//	metadata   map     the validated metadata as its canonical JSON object
//	principal  map     issuer, subject, client_id, scopes (list), claims (map)
//	                   of the token that registered the client (on update
//	                   too); empty for open registration
//
// Example: only callers with dcr:admin may register client_credentials clients:
//
//	!("client_credentials" in metadata.grant_types) || "dcr:admin" in principal.scopes
type celRule struct {
	name    string
	program cel.Program
	refuse  *oauth.Error
}

// celEnv declares the variables; built once, it is safe for concurrent use.
var celEnv = mustCELEnv()

func mustCELEnv() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("operation", cel.StringType),
		cel.Variable("client_id", cel.StringType),
		cel.Variable("metadata", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("principal", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		panic(err) // a programming error in the fixed declarations above
	}
	return env
}

// celErrors are the error codes a CEL policy may answer with.
var celErrors = map[string]*oauth.Error{
	"":                        oauth.ErrInvalidClientMetadata,
	"invalid_client_metadata": oauth.ErrInvalidClientMetadata,
	"invalid_redirect_uri":    oauth.ErrInvalidRedirectURI,
	"access_denied":           oauth.ErrAccessDenied,
}

func newCELRule(s Spec) (Policy, error) {
	base, ok := celErrors[s.Error]
	if !ok {
		return nil, fmt.Errorf("error: %q is not one of invalid_client_metadata, invalid_redirect_uri, access_denied", s.Error)
	}
	if s.Expression == "" {
		return nil, errors.New("expression: required")
	}
	ast, issues := celEnv.Compile(s.Expression)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("expression: %w", issues.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("expression: must evaluate to a bool, not %s", ast.OutputType())
	}
	prg, err := celEnv.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("expression: %w", err)
	}
	msg := s.Message
	if msg == "" {
		msg = "the request does not meet this server's registration policy"
	}
	return celRule{name: s.displayName(), program: prg, refuse: refusal(base, s.displayName(), "%s", msg)}, nil
}

// Check implements Policy. An expression that fails to evaluate (a missing
// member, a type error) refuses: a policy fails closed.
func (c celRule) Check(ctx context.Context, r Request) error {
	ok, err := c.eval(ctx, r)
	switch {
	case err != nil:
		return c.refuse.WithCause(err)
	case !ok:
		return c.refuse
	}
	return nil
}

// eval evaluates the expression on r.
func (c celRule) eval(ctx context.Context, r Request) (bool, error) {
	vars, err := celVars(r)
	if err != nil {
		return false, err
	}
	out, _, err := c.program.ContextEval(ctx, vars)
	if err != nil {
		return false, err
	}
	ok, isBool := out.Value().(bool)
	return ok && isBool, nil
}

// celVars exposes the request to the expression. Metadata goes through its
// canonical JSON, so rules see exactly the member names developers send.
func celVars(r Request) (map[string]any, error) {
	raw, err := r.Metadata.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var md map[string]any
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, err
	}
	return map[string]any{
		"operation": r.Operation,
		"client_id": r.ClientID,
		"metadata":  md,
		"principal": principalVars(r.Principal),
	}, nil
}

func principalVars(p *iat.Principal) map[string]any {
	if p == nil {
		return map[string]any{"scopes": []string{}, "claims": map[string]any{}}
	}
	claims := p.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	return map[string]any{
		"issuer": p.Issuer, "subject": p.Subject, "client_id": p.ClientID,
		"scopes": p.Scopes, "claims": claims,
	}
}
