package scim

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseFilter checks that ParseFilter never panics, fails only with a *FilterError at an
// offset within the input whose message does not repeat a long input, and that a parsed filter
// prints as filter syntax that parses back to the same tree. (scimsql's FuzzWhere checks that it
// renders as SQL.)
func FuzzParseFilter(f *testing.F) {
	for _, tc := range filterParseTests {
		f.Add(tc.in)
	}
	for _, tc := range filterParseErrorTests {
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
