package activeplatform

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/provisiond/provisiond/openapi"
)

// TestPolicySchema: Allows (the spec's minLength and pattern, Schema) agrees with the policy's
// rules read directly, for every combination of rules, on passwords of every kind of character.
func TestPolicySchema(t *testing.T) {
	isIn := func(lo, hi rune) func(rune) bool { return func(r rune) bool { return lo <= r && r <= hi } }
	upper, lower, digit := isIn('A', 'Z'), isIn('a', 'z'), isIn('0', '9')
	letter := func(r rune) bool { return upper(r) || lower(r) }
	symbol := func(r rune) bool { return !letter(r) && !digit(r) }
	passwords := []string{
		"", "a", "abcdefgh", "12345678", "abcdefg1", "1abcdefg", "ABCDEFG1", "Abcdefg1", "Abcdefg!", "Abcdef1!",
		"!!!!!!!!", "!1!1!1!1", "a!1", "pässwört", "pässwört1", "пароль12", "Пароль1!", "١٢٣٤٥٦٧٨ab", "🙂🙂🙂🙂🙂🙂🙂A1",
		"A1", "A1111111", "aaaaaaaaaaaa1", "Zz9 ", " ", "\t\n\r a1bbbbbb",
	}
	for _, rules := range []string{"min=1", "min=8,letter,digit", "min=8,letter", "min=8,digit", "min=1,upper", "min=1,lower",
		"min=3,upper,lower", "min=8,letter,upper", "min=8,letter,upper,lower,digit,symbol", "min=2,symbol", "min=10,upper,digit,symbol"} {
		p, err := ParsePolicy(rules)
		if err != nil {
			t.Fatal(err)
		}
		for _, pw := range passwords {
			has := func(f func(rune) bool) bool { return strings.IndexFunc(pw, f) >= 0 }
			want := utf8.RuneCountInString(pw) >= p.MinLength && (!p.Letter || has(letter)) && (!p.Digit || has(digit)) &&
				(!p.Upper || has(upper)) && (!p.Lower || has(lower)) && (!p.Symbol || has(symbol))
			if got := p.Allows(pw); got != want {
				t.Errorf("%s: Allows(%q) = %v, want %v", rules, pw, got, want)
			}
			// A policy built by hand (no compiled pattern) says the same.
			bare := Policy{MinLength: p.MinLength, Letter: p.Letter, Digit: p.Digit, Upper: p.Upper, Lower: p.Lower, Symbol: p.Symbol}
			if bare.Allows(pw) != want {
				t.Errorf("%s: a hand-built policy's Allows(%q) != %v", rules, pw, want)
			}
		}
		// U+0000 is never allowed: the spec refuses it in a password.
		if p.Allows("Abcdefghij1!\x00") {
			t.Errorf("%s: a password with U+0000 is allowed", rules)
		}
	}
}

// TestSpecStatesDefaultPolicy: the spec as written states DefaultPolicy, so that SpecFor of it
// is the text unchanged; another policy changes exactly the Password schema's minLength and
// pattern.
func TestSpecStatesDefaultPolicy(t *testing.T) {
	text, doc, err := openapi.Load(Name)
	if err != nil {
		t.Fatal(err)
	}
	pw := doc.Components.Schemas["Password"].Value
	min, pattern := DefaultPolicy.Schema()
	if pw.MinLength != uint64(min) || pw.Pattern != pattern {
		t.Errorf("the spec's Password has minLength %d pattern %q; DefaultPolicy is %d %q", pw.MinLength, pw.Pattern, min, pattern)
	}
	same, err := SpecFor(text, DefaultPolicy)
	if err != nil || !bytes.Equal(same, text) {
		t.Errorf("SpecFor(DefaultPolicy) changed the text (%v)", err)
	}
	other, _ := ParsePolicy("min=12,upper,symbol")
	changed, err := SpecFor(text, other)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openapi.Parse(Name, changed)
	if err != nil {
		t.Fatal(err)
	}
	got := d.Components.Schemas["Password"].Value
	min, pattern = other.Schema()
	if got.MinLength != uint64(min) || got.Pattern != pattern || len(bytes.Split(changed, []byte("\n"))) != len(bytes.Split(text, []byte("\n"))) {
		t.Errorf("SpecFor(min=12,upper,symbol): minLength %d pattern %q, want %d %q, line for line", got.MinLength, got.Pattern, min, pattern)
	}
	for _, broken := range [][]byte{
		bytes.Replace(text, []byte("\n    Password:\n"), []byte("\n    Pass:\n"), 1),
		bytes.Replace(text, []byte("      minLength: 8\n"), nil, 1),
	} {
		if _, err := SpecFor(broken, other); err == nil {
			t.Errorf("SpecFor of a spec without the Password schema's lines: no error")
		}
	}
}

// TestFixturePasswordsFollowTheConfiguredPolicy: a fixtures file's passwords are checked by the
// server's policy alone, not by the default one the spec as written states.
func TestFixturePasswordsFollowTheConfiguredPolicy(t *testing.T) {
	lax, _ := ParsePolicy("min=3")
	pw := "abc"
	users := []UserFixture{{FirstName: &pw, LastName: &pw, Email: ptr("a@example.com"), Password: &pw}}
	if got := checkUsers(users, nil, lax); len(got) != 0 {
		t.Errorf("min=3 refused %q: %v", pw, got)
	}
	if got := checkUsers(users, nil, DefaultPolicy); len(got) != 1 || got[0].Error() != "users[0].password: is too weak: at least 8 characters, a letter, a digit" {
		t.Errorf("the default policy: %v, want one problem, the policy's words", got)
	}
}

func ptr(s string) *string { return &s }
