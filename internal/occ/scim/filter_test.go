package scim

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func fCmp(attr, op string, v any) Comparison { return Comparison{Attr: attr, Op: op, Value: v} }
func fAnd(l, r Filter) And                   { return And{Left: l, Right: r} }
func fOr(l, r Filter) Or                     { return Or{Left: l, Right: r} }

var (
	// deepest is a filter with parentheses nested as deep as ParseFilter allows.
	filterDeepest = strings.Repeat("(", maxFilterDepth) + `a eq "x"` + strings.Repeat(")", maxFilterDepth)
	// longest is a filter of the greatest length ParseFilter allows.
	filterLongest = `a eq "` + strings.Repeat("x", maxFilterLen-len(`a eq ""`)) + `"`
	// tooLong is a 5000-byte filter.
	filterTooLong = `a eq "` + strings.Repeat("x", 5000-len(`a eq ""`)) + `"`
	// tooDeep is a filter with 100 nested parentheses.
	filterTooDeep = strings.Repeat("(", 100) + `a eq "x"` + strings.Repeat(")", 100)
)

// parseTests are valid filters and the trees they parse into.
var filterParseTests = []struct {
	in   string
	want Filter
}{
	{`email eq "a@example.com"`, fCmp("email", "eq", "a@example.com")},
	{`firstName co "mb"`, fCmp("firstName", "co", "mb")},
	{`lastName sw "Ad"`, fCmp("lastName", "sw", "Ad")},
	{`x-1_y eq ""`, fCmp("x-1_y", "eq", "")},

	// Precedence: and binds tighter than or; both associate to the left.
	{`a eq "1" or b eq "2" and c eq "3"`, fOr(fCmp("a", "eq", "1"), fAnd(fCmp("b", "eq", "2"), fCmp("c", "eq", "3")))},
	{`a eq "1" and b eq "2" or c eq "3"`, fOr(fAnd(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3"))},
	{`a eq "1" or b eq "2" or c eq "3"`, fOr(fOr(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3"))},
	{`a eq "1" and b eq "2" and c eq "3"`, fAnd(fAnd(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3"))},
	{`a eq "1" or b eq "2" and c eq "3" or d eq "4"`,
		fOr(fOr(fCmp("a", "eq", "1"), fAnd(fCmp("b", "eq", "2"), fCmp("c", "eq", "3"))), fCmp("d", "eq", "4"))},

	// Parentheses override precedence and associativity.
	{`(a eq "1" or b eq "2") and c eq "3"`, fAnd(fOr(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3"))},
	{`a eq "1" and (b eq "2" or c eq "3")`, fAnd(fCmp("a", "eq", "1"), fOr(fCmp("b", "eq", "2"), fCmp("c", "eq", "3")))},
	{`a eq "1" or (b eq "2" or c eq "3")`, fOr(fCmp("a", "eq", "1"), fOr(fCmp("b", "eq", "2"), fCmp("c", "eq", "3")))},
	{`a eq "1" and (b eq "2" and c eq "3")`, fAnd(fCmp("a", "eq", "1"), fAnd(fCmp("b", "eq", "2"), fCmp("c", "eq", "3")))},
	{`((a eq "1"))`, fCmp("a", "eq", "1")},
	{filterDeepest, fCmp("a", "eq", "x")},

	// Keywords, operators and literals are case-insensitive; attribute names are kept as written.
	{`EMAIL EQ "x" AND active Eq TRUE`, fAnd(fCmp("EMAIL", "eq", "x"), fCmp("active", "eq", true))},
	{`a Co "x" Or b sW "y" oR c cO "z"`, fOr(fOr(fCmp("a", "co", "x"), fCmp("b", "sw", "y")), fCmp("c", "co", "z"))},
	{`active eq False`, fCmp("active", "eq", false)},
	{`active eq fAlSe aNd active eq tRuE`, fAnd(fCmp("active", "eq", false), fCmp("active", "eq", true))},

	// Strings: JSON escapes, raw UTF-8, and text that looks like syntax.
	{`firstName eq "A \"quoted\" \u00e9"`, fCmp("firstName", "eq", `A "quoted" é`)},
	{`a eq "\\ \/ \b \f \n \r \t \u0041\u00E9 \ud83d\ude00"`, fCmp("a", "eq", "\\ / \b \f \n \r \t Aé \U0001F600")},
	{`a eq "José 😀 ü"`, fCmp("a", "eq", "José 😀 ü")},
	{`a eq "x) or (b eq \"y"`, fCmp("a", "eq", `x) or (b eq "y`)},
	{`a eq "50%_off!"`, fCmp("a", "eq", "50%_off!")},
	{filterLongest, fCmp("a", "eq", strings.Repeat("x", maxFilterLen-len(`a eq ""`)))},

	// Whitespace: any amount of spaces, tabs, CR and LF; none needed around parentheses and strings.
	{`   a   eq   "x"   `, fCmp("a", "eq", "x")},
	{"a\teq\t\"x\"\r\nand\nb eq \"y\"", fAnd(fCmp("a", "eq", "x"), fCmp("b", "eq", "y"))},
	{`(a eq "x")and(b eq "y")`, fAnd(fCmp("a", "eq", "x"), fCmp("b", "eq", "y"))},
	{`a eq"x"or b eq"y"`, fOr(fCmp("a", "eq", "x"), fCmp("b", "eq", "y"))},
	{` ( ( a eq "x" ) or b eq "y" ) `, fOr(fCmp("a", "eq", "x"), fCmp("b", "eq", "y"))},

	// Numbers in JSON syntax.
	{`a eq 42`, fCmp("a", "eq", 42.0)},
	{`a eq 0`, fCmp("a", "eq", 0.0)},
	{`a eq -0`, fCmp("a", "eq", 0.0)},
	{`a eq -1.5e3`, fCmp("a", "eq", -1500.0)},
	{`a eq 1E+2`, fCmp("a", "eq", 100.0)},
	{`a eq 0.25 or b eq 2.5e-1`, fOr(fCmp("a", "eq", 0.25), fCmp("b", "eq", 0.25))},
}

func TestParseFilter(t *testing.T) {
	for _, tc := range filterParseTests {
		got, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): got error %v, want %v", filterShort(tc.in), err, tc.want)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFilter(%q):\n got %#v\nwant %#v", filterShort(tc.in), got, tc.want)
			continue
		}
		// The tree's String is filter syntax that parses back to the same tree.
		s := fmt.Sprint(got)
		back, err := ParseFilter(s)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("ParseFilter(String() of %q = %q): got %#v, %v; want %#v", filterShort(tc.in), filterShort(s), back, err, got)
		}
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct {
		f    Filter
		want string
	}{
		{fCmp("email", "eq", `a "b" \ é`+"\n\x01"), `email eq "a \"b\" \\ é\n\u0001"`},
		{fCmp("a", "eq", true), `a eq true`},
		{fCmp("a", "eq", -1500.0), `a eq -1500`},
		{fCmp("a", "eq", 1e21), `a eq 1e+21`},
		{fOr(fCmp("a", "eq", "1"), fAnd(fCmp("b", "eq", "2"), fCmp("c", "eq", "3"))), `a eq "1" or b eq "2" and c eq "3"`},
		{fAnd(fOr(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3")), `(a eq "1" or b eq "2") and c eq "3"`},
		{fOr(fOr(fCmp("a", "eq", "1"), fCmp("b", "eq", "2")), fCmp("c", "eq", "3")), `a eq "1" or b eq "2" or c eq "3"`},
		{fOr(fCmp("a", "eq", "1"), fOr(fCmp("b", "eq", "2"), fCmp("c", "eq", "3"))), `a eq "1" or (b eq "2" or c eq "3")`},
		{fAnd(fCmp("a", "eq", "1"), fAnd(fCmp("b", "eq", "2"), fCmp("c", "eq", "3"))), `a eq "1" and (b eq "2" and c eq "3")`},
		{&And{Left: &Or{Left: fCmp("a", "eq", "1"), Right: fCmp("b", "eq", "2")}, Right: nil}, `(a eq "1" or b eq "2") and <nil>`},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(tc.f); got != tc.want {
			t.Errorf("String(%#v): got %q, want %q", tc.f, got, tc.want)
		}
	}
}

// parseErrorTests are malformed filters and the byte offset their error must report.
var filterParseErrorTests = []struct {
	in  string
	pos int
	msg string // a part of the message
}{
	{`email`, 5, "want an operator"},
	{`email eq`, 8, "want a value"},
	{`email gt "a"`, 6, `operator "gt" is not supported`},
	{`email ne "a"`, 6, `operator "ne" is not supported`},
	{`email pr`, 6, `operator "pr" is not supported`},
	{`email PR and b eq "c"`, 6, `operator "PR" is not supported`},
	{`email like "a"`, 6, `unknown operator "like"`},
	{`email ſw "a"`, 6, "unknown operator"}, // only ASCII letters fold
	{`email eq eq`, 9, `invalid value "eq"`},
	{`email "a"`, 6, "want an operator"},
	{`not (email eq "a")`, 0, "not is not supported"},
	{`email eq "a" and not(b eq "c")`, 17, "not is not supported"},
	{`(email eq "a"`, 13, "want and, or or ')' to close the '(' at 0"},
	{`((email eq "a")`, 15, "to close the '(' at 0"},
	{`email eq "a")`, 12, "unbalanced ')'"},
	{`(email eq "a"))`, 14, "unbalanced ')'"},
	{`()`, 1, "want an attribute name or '('"},
	{`)`, 0, "want an attribute name or '('"},
	{`email eq "a"(`, 12, "unexpected '('"},
	{`email eq "unterminated`, 9, "unterminated string"},
	{`email eq "ends with backslash\`, 9, "unterminated string"},
	{`email eq "a" and`, 16, "want an attribute name"},
	{`email eq "a" or`, 15, "want an attribute name"},
	{`email eq "a" and or`, 19, "want an operator"},
	{`email eq "a" xor b eq "c"`, 13, `unexpected "xor"`},
	{`email eq "a" "b"`, 13, `unexpected string "b"`},
	{`emails.value eq "a"`, 6, "attribute paths"},
	{`emails[type eq "work"]`, 6, "value filters"},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, 3, "schema-qualified"},
	{`1email eq "a"`, 0, "invalid attribute name"},
	{`e$mail eq "a"`, 0, "invalid attribute name"},
	{`émail eq "a"`, 0, "invalid attribute name"},
	{``, 0, "empty filter"},
	{`   `, 3, "empty filter"},
	{"\t\n", 2, "empty filter"},
	{`email eq abc`, 9, `invalid value "abc"`},
	{`email eq 'a'`, 9, "invalid value"},
	{`email eq null`, 9, "null is not supported"},
	{`email eq 01`, 9, "invalid value"},
	{`email eq 1.`, 9, "invalid value"},
	{`email eq .5`, 9, "invalid value"},
	{`email eq +1`, 9, "invalid value"},
	{`email eq 1e`, 9, "invalid value"},
	{`email eq 0x10`, 9, "invalid value"},
	{`email eq 1e999`, 9, "out of range"},
	{`email eq "\x"`, 10, `invalid escape \x`},
	{`email eq "\u12"`, 10, `invalid \u escape`},
	{`email eq "\u12G4"`, 10, `invalid \u escape`},
	{`email eq "\ud83d"`, 10, "unpaired surrogate"},
	{`email eq "\ud83d\u0041"`, 10, "unpaired surrogate"},
	{`email eq "\ude00"`, 10, "unpaired surrogate"},
	{`email eq "\u0000"`, 10, "U+0000"},
	{"email eq \"a\nb\"", 11, "control character"},
	{"email eq \"\x00\"", 10, "control character"},
	{"email eq \"\xff\"", 10, "invalid UTF-8"},
	{"em\xc3", 2, "invalid UTF-8"},
	{filterTooLong, maxFilterLen, "longer than 4096 bytes"},
	{filterTooDeep, maxFilterDepth, "nested deeper than 32"},
	{"(" + filterDeepest + ")", maxFilterDepth, "nested deeper than 32"},
}

func TestParseFilterErrors(t *testing.T) {
	for _, tc := range filterParseErrorTests {
		got, err := ParseFilter(tc.in)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q): got %v, %v; want a *FilterError at %d", filterShort(tc.in), got, err, tc.pos)
			continue
		}
		if fe.Pos != tc.pos || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("ParseFilter(%q): got error at %d %q, want at %d one containing %q", filterShort(tc.in), fe.Pos, fe.Msg, tc.pos, tc.msg)
		}
		if want := fmt.Sprintf("invalid filter at %d: %s", fe.Pos, fe.Msg); err.Error() != want {
			t.Errorf("ParseFilter(%q).Error(): got %q, want %q", filterShort(tc.in), err.Error(), want)
		}
		if len(err.Error()) > 200 {
			t.Errorf("ParseFilter(%q).Error(): got %d bytes %q, want a short message", filterShort(tc.in), len(err.Error()), filterShort(err.Error()))
		}
	}
}

// TestParseFilterErrorQuotesLittle checks that an error quotes only a short piece of a long token.
func TestParseFilterErrorQuotesLittle(t *testing.T) {
	long := strings.Repeat("é", 1000)
	for _, in := range []string{
		`email eq ` + strings.Repeat("y", 4000),
		`a` + strings.Repeat("b", 4000) + `.c eq "x"`,
		`email ` + strings.Repeat("z", 4000) + ` "x"`,
		`email eq "x" ` + strings.Repeat("w", 4000),
		`email eq "x" "` + long + `"`,
	} {
		_, err := ParseFilter(in)
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("ParseFilter(%q): got %v, want an error of at most 200 bytes", filterShort(in), err)
		}
	}
}

// short abbreviates s for test messages.
func filterShort(s string) string {
	if len(s) <= 80 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:60], len(s))
}
