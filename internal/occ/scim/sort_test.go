package scim

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		in   string
		want Sort
	}{
		{"email:asc", Sort{Property: "email"}},
		{"firstName:desc", Sort{Property: "firstName", Desc: true}},
		{"EMAIL:DESC", Sort{Property: "EMAIL", Desc: true}},
		{"x-1_y:Asc", Sort{Property: "x-1_y"}},
	}
	for _, tc := range tests {
		got, err := ParseSort(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSort(%q): got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseSortErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string // a part of the message
	}{
		{"email", 5, "missing ':asc' or ':desc'"},
		{"", 0, "missing ':asc' or ':desc'"},
		{":asc", 0, "missing sort property"},
		{"email:", 6, `unknown sort order ""`},
		{"email:up", 6, `unknown sort order "up"`},
		{"email:asc:desc", 6, `unknown sort order "asc:desc"`},
		{"email:ASC ", 6, "unknown sort order"},
		{"1email:asc", 0, "invalid attribute name"},
		{"emails.value:asc", 6, "attribute paths"},
		{"email:" + strings.Repeat("d", 4000), 6, "unknown sort order"},
	}
	for _, tc := range tests {
		got, err := ParseSort(tc.in)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseSort(%q): got %+v, %v; want a *FilterError at %d", filterShort(tc.in), got, err, tc.pos)
			continue
		}
		if fe.Pos != tc.pos || !strings.Contains(fe.Msg, tc.msg) || len(err.Error()) > 200 {
			t.Errorf("ParseSort(%q): got error at %d %q, want at %d a short one containing %q", filterShort(tc.in), fe.Pos, fe.Msg, tc.pos, tc.msg)
		}
	}
}
