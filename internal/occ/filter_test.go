package occ

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
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

var filterTestColumns = map[string]Column{
	"email":     StringColumn("email"),
	"firstName": StringColumn("first_name"),
	"lastName":  StringColumn("last_name"),
	"active":    BoolColumn("active"),
	"roles":     ListColumn("roles"),
}

func TestSQL(t *testing.T) {
	tests := []struct {
		in   string
		sql  string
		args []any
	}{
		// StringColumn: both sides lower-cased; % _ ! escaped with ! in co and sw.
		{`email eq "Amber@Example.COM"`, `(lower(email) = ?)`, []any{"amber@example.com"}},
		{`email eq "50%_off!"`, `(lower(email) = ?)`, []any{"50%_off!"}},
		{`firstName co "Mb"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"%mb%"}},
		{`firstName co "50%_OFF!"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"%50!%!_off!!%"}},
		{`lastName sw "O'Brien"`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{"o'brien%"}},
		{`lastName sw "a\\b%"`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{`a\b!%%`}},
		{`lastName co ""`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{"%%"}},
		{`firstName eq "JOSÉ"`, `(lower(first_name) = ?)`, []any{"josé"}},
		// Attribute names are looked up case-insensitively.
		{`EMAIL eq "x"`, `(lower(email) = ?)`, []any{"x"}},
		{`FIRSTNAME sw "x"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"x%"}},
		// BoolColumn.
		{`active eq true`, `(active = ?)`, []any{true}},
		{`Active EQ FALSE`, `(active = ?)`, []any{false}},
		// ListColumn.
		{`roles eq "Admin"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,admin,%"}},
		{`roles co "dm"`, `(roles LIKE ? ESCAPE '!')`, []any{"%dm%"}},
		{`roles sw "AD"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,ad%"}},
		{`roles eq "a_b%!"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,a!_b!%!!,%"}},
		{`roles co "a_b"`, `(roles LIKE ? ESCAPE '!')`, []any{"%a!_b%"}},
		{`roles sw "%"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,!%%"}},
		{`roles eq ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,,%"}},
		{`roles co ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,%,%"}},
		{`roles sw ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,%,%"}},
		{`roles eq "admin,buyer"`, `(1 = 0)`, []any{}},
		{`roles co "n,b"`, `(1 = 0)`, []any{}},
		{`roles sw ","`, `(1 = 0)`, []any{}},
		// Full parenthesization keeps precedence; arguments follow the placeholders' order.
		{`email eq "A" or firstName co "B" and active eq true`,
			`((lower(email) = ?) OR ((lower(first_name) LIKE ? ESCAPE '!') AND (active = ?)))`,
			[]any{"a", "%b%", true}},
		{`(email eq "A" or firstName co "B") and active eq false`,
			`(((lower(email) = ?) OR (lower(first_name) LIKE ? ESCAPE '!')) AND (active = ?))`,
			[]any{"a", "%b%", false}},
		{`email eq "1" or email eq "2" or email eq "3"`,
			`(((lower(email) = ?) OR (lower(email) = ?)) OR (lower(email) = ?))`,
			[]any{"1", "2", "3"}},
		{`email eq "1" and (roles eq "x,y" or roles eq "z")`,
			`((lower(email) = ?) AND ((1 = 0) OR (roles LIKE ? ESCAPE '!')))`,
			[]any{"1", "%,z,%"}},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		sql, args, err := SQL(f, filterTestColumns)
		if err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("SQL(%q):\n got %q %#v %v\nwant %q %#v", tc.in, sql, args, err, tc.sql, tc.args)
		}
	}
}

func TestSQLErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{`phone eq "1"`, `unknown attribute "phone"`},
		{`email eq "a" and (active eq true or Phone co "1")`, `unknown attribute "Phone"`},
		{`email eq true`, `attribute "email" takes a string`},
		{`EMAIL co 1`, `attribute "EMAIL" takes a string`},
		{`lastName sw false`, `attribute "lastName" takes a string`},
		{`active eq "true"`, `attribute "active" takes true or false`},
		{`active eq 1`, `attribute "active" takes true or false`},
		{`active co "t"`, `attribute "active" does not support operator "co"`},
		{`active sw true`, `attribute "active" does not support operator "sw"`},
		{`roles eq false`, `attribute "roles" takes a string`},
		{`roles co 2`, `attribute "roles" takes a string`},
		{`email eq "a" or roles eq true`, `attribute "roles" takes a string`},
		{`a` + strings.Repeat("b", 3000) + ` eq "x"`, `unknown attribute "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"...`},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", filterShort(tc.in), err)
			continue
		}
		sql, args, err := SQL(f, filterTestColumns)
		var fe *FilterError
		if !errors.As(err, &fe) || fe.Msg != tc.msg || fe.Pos != 0 {
			t.Errorf("SQL(%q): got %q %v %v, want a *FilterError at 0 %q", filterShort(tc.in), sql, args, err, tc.msg)
		}
	}
}

// TestSQLTrees renders trees built by hand: pointers, a nil filter, unknown operators and value
// types, and column keys that differ only in case.
func TestSQLTrees(t *testing.T) {
	upper := func(op string, value any) (string, []any, error) { return "UPPER = ?", []any{value}, nil }
	lower := func(op string, value any) (string, []any, error) { return "lower = ?", []any{value}, nil }
	failing := func(op string, value any) (string, []any, error) { return "", nil, errors.New("boom") }
	columns := map[string]Column{"Name": upper, "name": lower, "NAME": upper, "x": StringColumn("x"), "f": failing, "nil": nil}
	tests := []struct {
		f    Filter
		sql  string
		args []any
		err  string
	}{
		{f: fCmp("name", "eq", "v"), sql: "(lower = ?)", args: []any{"v"}},
		{f: fCmp("nAmE", "eq", "v"), sql: "(UPPER = ?)", args: []any{"v"}}, // NAME < Name
		{f: &And{Left: &Comparison{Attr: "x", Op: "eq", Value: "A"}, Right: &Or{Left: fCmp("x", "co", "B"), Right: fCmp("x", "sw", "C")}},
			sql: "((lower(x) = ?) AND ((lower(x) LIKE ? ESCAPE '!') OR (lower(x) LIKE ? ESCAPE '!')))", args: []any{"a", "%b%", "c%"}},
		{f: nil, err: "missing filter"},
		{f: (*And)(nil), err: "missing filter"},
		{f: (*Comparison)(nil), err: "missing filter"},
		{f: fOr(fCmp("x", "eq", "a"), nil), err: "missing filter"},
		{f: fAnd((*Or)(nil), fCmp("x", "eq", "a")), err: "missing filter"},
		{f: fCmp("x", "gt", "a"), err: `attribute "x" does not support operator "gt"`},
		{f: fCmp("x", "EQ", "a"), err: `attribute "x" does not support operator "EQ"`},
		{f: fCmp("x", "eq", 3), err: `attribute "x" takes a string`},
		{f: fCmp("x", "eq", nil), err: `attribute "x" takes a string`},
		{f: fCmp("f", "eq", "a"), err: `attribute "f": boom`},
		{f: fCmp("nil", "eq", "a"), err: `unknown attribute "nil"`},
		{f: fCmp("name", "eq", "a"), sql: "(lower = ?)", args: []any{"a"}},
	}
	for _, tc := range tests {
		sql, args, err := SQL(tc.f, columns)
		var fe *FilterError
		switch {
		case tc.err != "":
			if !errors.As(err, &fe) || fe.Msg != tc.err {
				t.Errorf("SQL(%#v): got %q %v %v, want a *FilterError %q", tc.f, sql, args, err, tc.err)
			}
		case err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args):
			t.Errorf("SQL(%#v):\n got %q %#v %v\nwant %q %#v", tc.f, sql, args, err, tc.sql, tc.args)
		}
	}

	deep := Filter(fCmp("x", "eq", "a"))
	for range maxSQLDepth + 1 {
		deep = fAnd(fCmp("x", "eq", "a"), deep)
	}
	if _, _, err := SQL(deep, columns); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("SQL(tree %d deep): got %v, want an error", maxSQLDepth+1, err)
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name  string
		col   Column
		op    string
		value any
		sql   string
		args  []any
		err   string
	}{
		{"string eq", StringColumn("u.email"), "eq", "A_B", "lower(u.email) = ?", []any{"a_b"}, ""},
		{"string co", StringColumn("u.email"), "co", "A_B", "lower(u.email) LIKE ? ESCAPE '!'", []any{"%a!_b%"}, ""},
		{"string sw", StringColumn("u.email"), "sw", "!x", "lower(u.email) LIKE ? ESCAPE '!'", []any{"!!x%"}, ""},
		{"string gt", StringColumn("u.email"), "gt", "x", "", nil, `does not support operator "gt"`},
		{"string number", StringColumn("u.email"), "eq", 1.0, "", nil, "takes a string"},
		{"bool eq", BoolColumn("u.active"), "eq", true, "u.active = ?", []any{true}, ""},
		{"bool co", BoolColumn("u.active"), "co", true, "", nil, `does not support operator "co"`},
		{"bool string", BoolColumn("u.active"), "eq", "true", "", nil, "takes true or false"},
		{"list eq", ListColumn("u.roles"), "eq", "Buyer", "u.roles LIKE ? ESCAPE '!'", []any{"%,buyer,%"}, ""},
		{"list co", ListColumn("u.roles"), "co", "UY", "u.roles LIKE ? ESCAPE '!'", []any{"%uy%"}, ""},
		{"list sw", ListColumn("u.roles"), "sw", "b_", "u.roles LIKE ? ESCAPE '!'", []any{"%,b!_%"}, ""},
		{"list comma", ListColumn("u.roles"), "sw", "b,", "1 = 0", []any{}, ""},
		{"list ne", ListColumn("u.roles"), "ne", "b", "", nil, `does not support operator "ne"`},
		{"list bool", ListColumn("u.roles"), "eq", false, "", nil, "takes a string"},
	}
	for _, tc := range tests {
		sql, args, err := tc.col(tc.op, tc.value)
		if tc.err != "" {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Msg != tc.err {
				t.Errorf("%s: %s %#v: got %q %v %v, want a *FilterError %q", tc.name, tc.op, tc.value, sql, args, err, tc.err)
			}
			continue
		}
		if err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%s: %s %#v:\n got %q %#v %v\nwant %q %#v", tc.name, tc.op, tc.value, sql, args, err, tc.sql, tc.args)
		}
	}
}

// envDatabaseURL names the PostgreSQL database the database test also runs on when it is set.
const filterEnvDatabaseURL = "PROVISIOND_TEST_DATABASE_URL"

type filterPerson struct {
	id                         int
	email, firstName, lastName string
	lastNameNull               bool
	active                     bool
	roles                      string
}

var filterPeople = []filterPerson{
	{1, "amber@example.com", "Amber", "Adams", false, true, ",admin,buyer,"},
	{2, "Bob@Example.com", "Bob", "Smith", false, true, ",buyer,"},
	{3, "carol@example.com", "Carol", "Adamson", false, false, ",approver,"},
	{4, "dave@example.org", "Dave", "", true, true, ""},
	{5, "50%off@example.com", "Eve", "Percent", false, false, ",buyer,"},
	{6, "under_score@example.com", "Frank", "O'Neil", false, true, ",admin,"},
	{7, "jose@example.com", "José", "Núñez", false, false, ",account-manager,"},
	{8, "bang!@example.com", "Grace", `Back\slash`, false, true, ",administrator,"},
}

// dbTests are filters and the sorted ids of the people they select.
var filterDBTests = []struct {
	in  string
	ids []int
}{
	{`email eq "Amber@Example.com"`, []int{1}},
	{`email eq "bob@EXAMPLE.com"`, []int{2}},
	{`email eq "nobody@example.com"`, nil},
	{`firstName co "mb"`, []int{1}},
	{`firstName co "A"`, []int{1, 3, 4, 6, 8}},
	{`firstName eq "JOSÉ"`, []int{7}},
	{`firstName co "\u00e9"`, []int{7}},
	{`lastName sw "Ad"`, []int{1, 3}},
	{`lastName co ""`, []int{1, 2, 3, 5, 6, 7, 8}},
	{`lastName co "\\"`, []int{8}},
	{`lastName co "'"`, []int{6}},
	{`active eq false`, []int{3, 5, 7}},
	{`active eq TRUE`, []int{1, 2, 4, 6, 8}},
	{`roles eq "admin"`, []int{1, 6}},
	{`roles eq "ADMIN"`, []int{1, 6}},
	{`roles eq "adm"`, nil},
	{`roles eq "account-manager"`, []int{7}},
	{`roles sw "adm"`, []int{1, 6, 8}},
	{`roles sw "uyer"`, nil},
	{`roles co "uyer"`, []int{1, 2, 5}},
	{`roles co "min"`, []int{1, 6, 8}},
	{`roles co "n,b"`, nil},
	{`roles eq "admin,buyer"`, nil},
	{`roles co ""`, []int{1, 2, 3, 5, 6, 7, 8}},
	{`roles co "_"`, nil},
	{`email co "%"`, []int{5}},
	{`email co "_"`, []int{6}},
	{`email co "!"`, []int{8}},
	{`email sw "50%"`, []int{5}},
	{`email sw "5_"`, nil},
	{`lastName sw "ad" and active eq true`, []int{1}},
	{`lastName sw "ad" or roles eq "buyer"`, []int{1, 2, 3, 5}},
	{`(lastName sw "ad" or roles eq "buyer") and active eq false`, []int{3, 5}},
	{`lastName sw "ad" or roles eq "buyer" and active eq false`, []int{1, 3, 5}},
	{`active eq false and lastName sw "ad" or roles eq "buyer"`, []int{1, 2, 3, 5}},
	{`active eq false and (lastName sw "ad" or roles eq "buyer")`, []int{3, 5}},
	{`email co "@example.org" or (firstName eq "eve" and roles co "buy")`, []int{4, 5}},
	{`EMAIL SW "A" OR Roles Eq "Approver"`, []int{1, 3}},
	{`roles eq "a,b" or email eq "bob@example.com"`, []int{2}},
}

func TestFilterDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "f.db")), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatalf("open SQLite: %v", err)
		}
		t.Cleanup(func() { filterCloseDB(db) })
		runFilterDatabaseTests(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(filterEnvDatabaseURL)
		if base == "" {
			t.Skip(filterEnvDatabaseURL + " is not set")
		}
		cfg := &gorm.Config{Logger: logger.Discard}
		admin, err := gorm.Open(postgres.Open(base), cfg)
		if err != nil {
			t.Fatalf("open %s: %v", filterEnvDatabaseURL, err)
		}
		t.Cleanup(func() { filterCloseDB(admin) })
		schema := "f_" + strings.ToLower(rand.Text())
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", filterEnvDatabaseURL, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := gorm.Open(postgres.Open(u.String()), cfg)
		if err != nil {
			t.Fatalf("open schema %s: %v", schema, err)
		}
		t.Cleanup(func() { filterCloseDB(db) }) // before the schema is dropped
		runFilterDatabaseTests(t, db)
	})
}

func filterCloseDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

func runFilterDatabaseTests(t *testing.T, db *gorm.DB) {
	t.Helper()
	err := db.Exec(`CREATE TABLE people (
		id INTEGER PRIMARY KEY,
		email TEXT NOT NULL,
		first_name TEXT NOT NULL,
		last_name TEXT,
		active BOOLEAN NOT NULL,
		roles TEXT NOT NULL
	)`).Error
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	for _, p := range filterPeople {
		var lastName any = p.lastName
		if p.lastNameNull {
			lastName = nil
		}
		err := db.Exec("INSERT INTO people (id, email, first_name, last_name, active, roles) VALUES (?, ?, ?, ?, ?, ?)",
			p.id, p.email, p.firstName, lastName, p.active, p.roles).Error
		if err != nil {
			t.Fatalf("insert %d: %v", p.id, err)
		}
	}
	for _, tc := range filterDBTests {
		f, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		where, args, err := SQL(f, filterTestColumns)
		if err != nil {
			t.Errorf("SQL(%q): %v", tc.in, err)
			continue
		}
		var ids []int
		if err := db.Raw("SELECT id FROM people WHERE "+where+" ORDER BY id", args...).Scan(&ids).Error; err != nil {
			t.Errorf("select %q (%s %v): %v", tc.in, where, args, err)
			continue
		}
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("select %q (%s %v): got ids %v, want %v", tc.in, where, args, ids, tc.ids)
		}
	}
}
