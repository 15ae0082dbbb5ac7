package scimsql

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/occ/scim"
)

// FuzzWhere checks that a filter ParseFilter accepts renders as SQL with one argument per
// placeholder and balanced parentheses, or fails with a *scim.FilterError, whatever the kinds of
// the columns behind its attributes.
func FuzzWhere(f *testing.F) {
	for _, tc := range filterDBTests {
		f.Add(tc.in)
	}
	for _, tc := range filterSQLTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := scim.ParseFilter(s)
		if err != nil {
			return // scim's FuzzParseFilter checks the errors
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
		sql, args, err := Where(flt, columns)
		if err != nil {
			var fe *scim.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("Where(%q): got %T %v, want a *scim.FilterError", s, err, err)
			}
			return
		}
		if n := strings.Count(sql, "?"); n != len(args) {
			t.Fatalf("Where(%q) = %q with %d placeholders and %d arguments %v", s, sql, n, len(args), args)
		}
		if strings.Count(sql, "(") != strings.Count(sql, ")") {
			t.Fatalf("Where(%q) = %q: unbalanced parentheses", s, sql)
		}
	})
}

// filterAttrs appends the attribute names of f, in order of appearance, to attrs.
func filterAttrs(f scim.Filter, attrs []string) []string {
	switch f := f.(type) {
	case scim.Comparison:
		return append(attrs, f.Attr)
	case scim.And:
		return filterAttrs(f.Right, filterAttrs(f.Left, attrs))
	case scim.Or:
		return filterAttrs(f.Right, filterAttrs(f.Left, attrs))
	}
	panic(fmt.Sprintf("unexpected filter %T", f))
}
