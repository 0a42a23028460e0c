package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestWithDescriptionCopies(t *testing.T) {
	e := ErrInvalidClientMetadata.WithDescription("field %q is bad", "scope")
	if ErrInvalidClientMetadata.Description == e.Description {
		t.Fatal("WithDescription mutated the shared value")
	}
	if e.Description != `field "scope" is bad` {
		t.Fatalf("description = %q", e.Description)
	}
	if !errors.Is(e, ErrInvalidClientMetadata) {
		t.Fatal("errors.Is must match by code")
	}
	if errors.Is(e, ErrInvalidRedirectURI) {
		t.Fatal("errors.Is matched a different code")
	}
}

func TestFrom(t *testing.T) {
	cause := errors.New("boom")
	if got := From(cause); got.Status != http.StatusInternalServerError || !errors.Is(got, cause) {
		t.Fatalf("From(unknown) = %+v", got)
	}
	wrapped := fmt.Errorf("ctx: %w", ErrInvalidToken)
	if got := From(wrapped); got != ErrInvalidToken {
		t.Fatalf("From(wrapped) = %+v", got)
	}
}

func TestWithCauseHiddenFromDescription(t *testing.T) {
	e := ErrTemporarilyUnavailable.WithCause(errors.New("ldap: connection refused"))
	if e.Description != ErrTemporarilyUnavailable.Description {
		t.Fatal("cause leaked into description")
	}
	if !errors.Is(e, ErrTemporarilyUnavailable) {
		t.Fatal("lost identity")
	}
}
