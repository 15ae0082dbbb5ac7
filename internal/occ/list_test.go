package occ

import (
	"errors"
	"reflect"
	"testing"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/occ/scimsql"
)

var listTestColumns = Columns{
	Filter: map[string]scimsql.Column{"email": scimsql.StringColumn("email_key"), "active": scimsql.BoolColumn("active")},
	Sort:   map[string]string{"email": "email_key", "firstName": "first_name"},
}

// TestList parses q and sort as a service does and compiles them as a store does: the SQL, the
// sort as the columns name it, and OCC's 22007 with the field and message of each error.
func TestList(t *testing.T) {
	tests := []struct {
		q, sort string
		want    ListSQL
		field   string // of the error, "" for none
		message string
	}{
		{q: "", sort: "", want: ListSQL{}},
		{q: `EMAIL eq "A"`, sort: "FIRSTNAME:desc",
			want: ListSQL{Where: "(lower(email_key) = ?)", Args: []any{"a"}, Order: "first_name desc", Sort: scim.Sort{Property: "firstName", Desc: true}}},
		{q: `active eq true`, want: ListSQL{Where: "(active = ?)", Args: []any{true}}},
		{sort: "email:asc", want: ListSQL{Order: "email_key asc", Sort: scim.Sort{Property: "email"}}},
		{q: `email gt "a"`, field: "/q", message: `The filter is invalid: invalid filter at 6: operator "gt" is not supported; want eq, co or sw.`},
		{q: `password eq "x"`, field: "/q", message: `The filter is invalid: invalid filter at 0: unknown attribute "password".`},
		{q: `active eq "yes"`, field: "/q", message: `The filter is invalid: invalid filter at 0: attribute "active" takes true or false.`},
		{sort: "password:asc", field: "/sort", message: "The sort property password is not one of the sortable properties."},
		{sort: "email", field: "/sort", message: "The sort is invalid: invalid filter at 5: missing ':asc' or ':desc' after the sort property."},
		// The filter is checked before the sort, in both halves.
		{q: `email`, sort: "email", field: "/q", message: "The filter is invalid: invalid filter at 5: unexpected end of filter; want an operator (eq, co or sw) after attribute \"email\"."},
		{q: `password eq "x"`, sort: "password:asc", field: "/q", message: `The filter is invalid: invalid filter at 0: unknown attribute "password".`},
	}
	for _, tc := range tests {
		var got ListSQL
		f, s, err := ParseList(tc.q, tc.sort)
		if err == nil {
			got, err = listTestColumns.SQL(f, s)
		}
		if tc.field == "" {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("q=%q sort=%q: got %#v, %v; want %#v", tc.q, tc.sort, got, err, tc.want)
			}
			continue
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalid || ae.Field != tc.field || ae.Rule != CodeInvalidInput || ae.Message != tc.message {
			t.Errorf("q=%q sort=%q: got %v, want invalid %s (%s): %s", tc.q, tc.sort, err, tc.field, CodeInvalidInput, tc.message)
		}
	}
}

func TestLimit(t *testing.T) {
	ten, many := 10, 1000
	for _, c := range []struct {
		sent *int
		want int
	}{{nil, 250}, {&ten, 10}, {&many, 250}} {
		if got := Limit(c.sent, 250); got != c.want {
			t.Errorf("Limit(%v, 250) = %d, want %d", c.sent, got, c.want)
		}
	}
}
