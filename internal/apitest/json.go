package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// DecodeObject decodes b as exactly one JSON object (with nothing but white space after it),
// keeping numbers as json.Number.
func DecodeObject(b []byte) (map[string]any, error) {
	if !json.Valid(b) {
		return nil, errors.New("not one JSON value")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null, not an object")
	}
	return m, nil
}

// exactNumber is the exact value of a JSON number in a canonical spelling, so that numbers compare
// by value and never equal a string.
type exactNumber string

// Canonical replaces every json.Number in v by its exact value, so that two decoded JSON values
// compare equal with reflect.DeepEqual when they hold the same numbers, however spelt.
func Canonical(v any) any {
	switch v := v.(type) {
	case json.Number:
		return canonicalNumber(string(v))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = Canonical(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = Canonical(x)
		}
		return out
	}
	return v
}

// canonicalNumber spells the exact decimal value of the JSON number s as [-]digits"e"exponent,
// with no leading or trailing zero digits ("0" for zero, of either sign): 1.50 and 15e-1 are
// both "15e-1". The exponent may be arbitrarily large.
func canonicalNumber(s string) exactNumber {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mantissa, exp, _ := strings.Cut(strings.ToLower(s), "e")
	e := new(big.Int)
	if exp != "" {
		if _, ok := e.SetString(exp, 10); !ok {
			return exactNumber("invalid " + s)
		}
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	e.Sub(e, big.NewInt(int64(len(frac))))
	if digits == "" {
		return "0"
	}
	trimmed := strings.TrimRight(digits, "0")
	e.Add(e, big.NewInt(int64(len(digits)-len(trimmed))))
	sign := ""
	if neg {
		sign = "-"
	}
	return exactNumber(sign + trimmed + "e" + e.String())
}

// JSONText renders v as JSON for a message.
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// LastLines is the last n lines of s, for a message.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
