package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readObjectReference is the original readObject, built on json.Decoder's
// token stream. It is slow but obviously right, so FuzzReadObject holds the
// hand-written scanner to it.
func readObjectReference(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	var members []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		if err != nil || !isName {
			return nil, errNotObject
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, errNotObject
		}
		if seen[name] {
			return nil, &duplicateMemberError{name: name}
		}
		seen[name] = true
		members = append(members, member{name: name, value: value})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotObject
	}
	return members, nil
}

// readObjectSeeds are bodies that exercise every branch of the scanner.
var readObjectSeeds = []string{
	mcpBody,
	readObjectBody,
	`{}`,
	` { } `,
	"\t\r\n{\"a\":1}\n\t\r ",
	`{"a":1}`,
	`{"a":{"b":{"c":[1,2,{"d":"}"}]}},"e":[[],{},[{}]]}`,
	`{"a":"}","b":"]","c":"{[","d":"\"}"}`,
	`{"a\"b":"c\\","d\\":"\\\"","e":"\\"}`,
	`{"\u0061b":1,"\ud83d\ude00":"\u00e9","x":"\u0022"}`,
	`{"a\/b":1,"\b\f\n\r\t":2}`,
	`{"a":1,"a":2}`,
	`{"a":1,"\u0061":2}`,
	`{"ab":1,"a\u0062":2}`,
	`{"a":1,"b":2,"b":3,"a":4}`,
	`{"\ud800":1,"\udc00":2}`,
	"{\"\xff\":1,\"\xfe\":2}",
	"{\"a\xffb\":1}",
	`{"a":1}x`,
	`{"a":1}}`,
	`{"a":1}{}`,
	`{} {}`,
	`{"a":1,}`,
	`{"a" 1}`,
	`{"a":1 "b":2}`,
	`{a:1}`,
	`{"a":1,"a":2,`,
	`{"a":1,"a":2`,
	`{"a":1,"a":2}x`,
	`[]`,
	`[{"a":1}]`,
	`"{}"`,
	`null`,
	`1`,
	``,
	`   `,
	`{`,
	`}`,
	`{"a":-0.5e+10,"b":1E-3,"c":0,"d":-1,"e":12.25e2,"f":true,"g":false,"h":null}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":tru}`,
	`{"a" : [ 1 , 2 ] , "b" : { "c" : "d" } }`,
	`{"":1,"":2}`,
	`{"":""}`,
	manyMembers(31, ""),
	manyMembers(40, ""),
	manyMembers(40, `"m05"`),
	manyMembers(40, `"m35"`),
	manyMembers(40, `"\u006d39"`),
}

// manyMembers returns an object with n members, past the point where
// readObject stops comparing names one by one, and then a member named by
// the JSON string extra, if any.
func manyMembers(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"m%02d":%d,`, i, i)
	}
	if extra != "" {
		b.WriteString(extra + ":true,")
	}
	return strings.TrimSuffix(b.String(), ",") + "}"
}

func FuzzReadObject(f *testing.F) {
	for _, s := range readObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		input := bytes.Clone(data)
		got, gotErr := readObject(data)
		if !bytes.Equal(data, input) {
			t.Fatalf("readObject modified its input")
		}
		want, wantErr := readObjectReference(data)
		compareReadObject(t, data, got, gotErr, want, wantErr)
	})
}

// TestReadObjectSeeds runs the differential check on the seeds in a plain
// go test run, so that a regression shows without fuzzing.
func TestReadObjectSeeds(t *testing.T) {
	for _, s := range readObjectSeeds {
		got, gotErr := readObject([]byte(s))
		want, wantErr := readObjectReference([]byte(s))
		compareReadObject(t, []byte(s), got, gotErr, want, wantErr)
	}
}

func compareReadObject(t *testing.T, data []byte, got []member, gotErr error, want []member, wantErr error) {
	t.Helper()
	var gotDup, wantDup *duplicateMemberError
	switch {
	case errors.As(wantErr, &wantDup) && errors.Is(gotErr, errNotObject) && !json.Valid(data):
		// Deliberate divergence: the reference reports a duplicate as soon
		// as it reads it, even when the body turns out to be invalid JSON
		// later on ({"a":1,"a":2,). readObject validates the whole body
		// first, so any invalid body is errNotObject.
		return
	case wantErr == nil && errors.Is(gotErr, errNotObject) && nestingDepth(data) > maxNestingDepth:
		// Deliberate divergence: encoding/json refuses nesting deeper than
		// maxNestingDepth. The reference scans each member value on its own,
		// so a value nested exactly that deep passes; readObject's json.Valid
		// also counts the outer object and refuses it.
		return
	case errors.As(wantErr, &wantDup):
		if !errors.As(gotErr, &gotDup) || gotDup.name != wantDup.name {
			t.Fatalf("readObject(%q): error %v, want %v", data, gotErr, wantErr)
		}
		return
	case wantErr != nil:
		if gotErr != errNotObject || wantErr != errNotObject {
			t.Fatalf("readObject(%q): error %v, want %v", data, gotErr, wantErr)
		}
		return
	case gotErr != nil:
		t.Fatalf("readObject(%q): error %v, want none", data, gotErr)
	}
	if len(got) != len(want) {
		t.Fatalf("readObject(%q): %d members, want %d", data, len(got), len(want))
	}
	for i := range got {
		if got[i].name != want[i].name {
			t.Fatalf("readObject(%q): member %d is named %q, want %q", data, i, got[i].name, want[i].name)
		}
		// Both values are the member's exact bytes, with no whitespace around them.
		if !bytes.Equal(got[i].value, want[i].value) {
			t.Fatalf("readObject(%q): member %q is %q, want %q", data, got[i].name, got[i].value, want[i].value)
		}
	}
}

// maxNestingDepth is encoding/json's limit on nested arrays and objects.
const maxNestingDepth = 10000

// nestingDepth returns how deeply data's arrays and objects nest, counting
// brackets outside strings. data must be well-formed apart from its depth.
func nestingDepth(data []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// TestReadObjectDepth pins the depth divergence at encoding/json's limit.
func TestReadObjectDepth(t *testing.T) {
	nested := func(depth int) []byte {
		return []byte(`{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	}
	if _, err := readObject(nested(maxNestingDepth - 1)); err != nil {
		t.Errorf("value nested %d deep: %v", maxNestingDepth-1, err)
	}
	// The known divergence: only the reference accepts it.
	body := nested(maxNestingDepth)
	got, gotErr := readObject(body)
	want, wantErr := readObjectReference(body)
	if gotErr != errNotObject || wantErr != nil {
		t.Errorf("value nested %d deep: got %v, reference %v; the divergence changed", maxNestingDepth, gotErr, wantErr)
	}
	compareReadObject(t, body, got, gotErr, want, wantErr)
	for _, depth := range []int{maxNestingDepth + 1, 3 * maxNestingDepth} {
		body := nested(depth)
		got, gotErr := readObject(body)
		want, wantErr := readObjectReference(body)
		compareReadObject(t, body, got, gotErr, want, wantErr)
	}
	if d := nestingDepth([]byte(`{"a":"[{\\","b\\\"[":[{}]}`)); d != 3 {
		t.Errorf("nestingDepth = %d, want 3", d)
	}
}
