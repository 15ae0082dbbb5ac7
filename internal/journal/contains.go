package journal

import (
	"encoding/json"
	"net/url"
)

// Contains reports whether got contains want, as the control API's request count matches bodies:
// every member of an object must be in got's object with a value that contains want's, at any
// depth; every item of an array must be contained in some item of got's array; any other value
// must be equal, numbers by value.
func Contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !Contains(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, wv := range w {
			found := false
			for _, gv := range g {
				if Contains(gv, wv) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case json.Number, float64, int, int32, int64:
		return sameNumber(got, want)
	default:
		return got == want
	}
}

// sameNumber reports whether a and b are the same number, however each was decoded.
func sameNumber(a, b any) bool {
	x, ok1 := number(a)
	y, ok2 := number(b)
	return ok1 && ok2 && x == y
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// requestBody is e's request body as a value to match: JSON decoded, a form as an object of
// strings (a field sent twice as an array of them); nil when it is neither.
func requestBody(e *Entry) any {
	if e.RequestBody == "" {
		return nil
	}
	if baseType(e.RequestHeaders["Content-Type"]) == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(e.RequestBody)
		if err != nil {
			return nil
		}
		out := make(map[string]any, len(v))
		for k, vals := range v {
			if len(vals) == 1 {
				out[k] = vals[0]
				continue
			}
			list := make([]any, len(vals))
			for i, x := range vals {
				list[i] = x
			}
			out[k] = list
		}
		return out
	}
	v, _ := decodeJSON([]byte(e.RequestBody))
	return v
}
