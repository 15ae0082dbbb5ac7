package email

import "testing"

func TestValid(t *testing.T) {
	cases := map[string]bool{
		"jane@example.com":           true,
		"o'neil+tag@sub.example.org": true,
		"jane":                       false,
		"jane@":                      false,
		"jane@example":               false,
		"jane@-example.com":          false,
		"jane doe@example.com":       false,
		"":                           false,
	}
	for in, want := range cases {
		if got := Valid(in); got != want {
			t.Errorf("Valid(%q) = %v, want %v", in, got, want)
		}
	}
}
