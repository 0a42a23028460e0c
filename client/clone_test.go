package client

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestCloneIsDeep fills every reference-typed field of Metadata through
// reflection, so a field added later without a line in Clone fails here.
func TestCloneIsDeep(t *testing.T) {
	var m Metadata
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			if f.Type() == reflect.TypeOf(json.RawMessage{}) {
				f.Set(reflect.ValueOf(json.RawMessage(`{"keys":[]}`)))
			} else {
				f.Set(reflect.ValueOf([]string{"original"}))
			}
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("original").Convert(f.Type().Elem()))
		case reflect.Pointer:
			age := int64(1)
			f.Set(reflect.ValueOf(&age))
		}
	}
	c := m.Clone()
	if !reflect.DeepEqual(c, m) {
		t.Fatal("clone differs from the original")
	}
	cv := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		orig, copied := v.Field(i), cv.Field(i)
		name := v.Type().Field(i).Name
		switch orig.Kind() {
		case reflect.Slice:
			if orig.Len() > 0 && orig.Pointer() == copied.Pointer() {
				t.Errorf("%s shares its backing array with the clone", name)
			}
		case reflect.Map, reflect.Pointer:
			if orig.Pointer() == copied.Pointer() {
				t.Errorf("%s is shared with the clone", name)
			}
		}
	}
}
