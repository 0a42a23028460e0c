package ldapstore

import (
	"reflect"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// TestChangesAreMinimal: an update that changes one member sends only the
// attributes derived from it, and an emptied attribute is replaced by no
// values, which deletes it without failing when it is already gone.
func TestChangesAreMinimal(t *testing.T) {
	r := storetest.NewRecord("minimal")
	old, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Metadata.ClientName = ""
	next, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	req := ldap.NewModifyRequest("x", nil)
	defaultLayout.changes(req, old, old)
	if len(req.Changes) != 0 {
		t.Fatalf("no-op update sends %d changes", len(req.Changes))
	}
	defaultLayout.changes(req, old, next)
	var got []string
	for _, c := range req.Changes {
		got = append(got, c.Modification.Type)
	}
	if want := []string{schema.AttrMetadata, schema.AttrClientName}; !reflect.DeepEqual(got, want) {
		t.Fatalf("changed %v, want %v", got, want)
	}
	if c := req.Changes[1]; c.Operation != ldap.ReplaceAttribute || len(c.Modification.Vals) != 0 {
		t.Fatalf("an emptied attribute must be replaced by no values, got %+v", c)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := storetest.NewRecord("roundtrip")
	a, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(a)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("decode(encode(r)) = %+v, %v", got, err)
	}
}

// FuzzDecode feeds hand-edited or hostile attribute values to the decoder:
// it must return an error or a record, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(`{"client_name":"x"}`, "3", "20260101000000Z", "20260101000000Z${SSHA512}abc", "{SSHA512}abc")
	f.Add("not json", "-1", "2026", "$", "")
	f.Fuzz(func(t *testing.T, metadata, revision, issuedAt, retained, password string) {
		_, _ = decode(attrs{
			schema.AttrMetadata: {metadata}, schema.AttrRevision: {revision}, schema.AttrIssuedAt: {issuedAt},
			schema.AttrRetainedSecret: {retained}, schema.AttrUserPassword: {password},
		})
	})
}
