package occ

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseFilter checks that ParseFilter never panics, fails only with a *FilterError at an
// offset within the input whose message does not repeat a long input, and that a parsed filter
// renders as SQL with one argument per placeholder and prints as filter syntax that parses back
// to the same tree.
func FuzzParseFilter(f *testing.F) {
	for _, tc := range filterParseTests {
		f.Add(tc.in)
	}
	for _, tc := range filterParseErrorTests {
		f.Add(tc.in)
	}
	for _, tc := range filterDBTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q): got %T %v, want a *FilterError", s, err, err)
			}
			if fe.Pos < 0 || fe.Pos > len(s) {
				t.Fatalf("ParseFilter(%q): error at %d, outside the input of %d bytes", s, fe.Pos, len(s))
			}
			if len(s) > 100 && strings.Contains(err.Error(), s) {
				t.Fatalf("ParseFilter(%q): error %q repeats the input", s, err)
			}
			return
		}
		if flt == nil {
			t.Fatalf("ParseFilter(%q): got a nil filter and no error", s)
		}

		// Columns for every attribute of the filter, of each kind in turn.
		columns := map[string]Column{}
		for i, attr := range filterAttrs(flt, nil) {
			expr := fmt.Sprintf("c%d", i)
			switch i % 3 {
			case 0:
				columns[attr] = StringColumn(expr)
			case 1:
				columns[attr] = BoolColumn(expr)
			default:
				columns[attr] = ListColumn(expr)
			}
		}
		sql, args, err := SQL(flt, columns)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("SQL(%q): got %T %v, want a *FilterError", s, err, err)
			}
		} else {
			if n := strings.Count(sql, "?"); n != len(args) {
				t.Fatalf("SQL(%q) = %q with %d placeholders and %d arguments %v", s, sql, n, len(args), args)
			}
			if strings.Count(sql, "(") != strings.Count(sql, ")") {
				t.Fatalf("SQL(%q) = %q: unbalanced parentheses", s, sql)
			}
		}

		// String is filter syntax for the same tree (when it stays within the length limit).
		str := fmt.Sprint(flt)
		if len(str) > maxFilterLen {
			return
		}
		back, err := ParseFilter(str)
		if err != nil {
			t.Fatalf("ParseFilter(String() %q of %q): %v", str, s, err)
		}
		if !reflect.DeepEqual(back, flt) {
			t.Fatalf("ParseFilter(String() %q of %q):\n got %#v\nwant %#v", str, s, back, flt)
		}
	})
}

// filterAttrs appends the attribute names of f, in order of appearance, to attrs.
func filterAttrs(f Filter, attrs []string) []string {
	switch f := f.(type) {
	case Comparison:
		return append(attrs, f.Attr)
	case And:
		return filterAttrs(f.Right, filterAttrs(f.Left, attrs))
	case Or:
		return filterAttrs(f.Right, filterAttrs(f.Left, attrs))
	}
	panic(fmt.Sprintf("unexpected filter %T", f))
}
