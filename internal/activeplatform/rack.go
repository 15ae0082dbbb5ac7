package activeplatform

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxDepth is Rack 3's param_depth_limit: a key nested deeper is refused (ParamsTooDeepError).
const maxDepth = 32

// decodeRack turns a form-encoded body into the value Rack (and so Grape) builds from it:
// a[b]=1 is {"a": {"b": "1"}}, a[]=1&a[]=2 is {"a": ["1", "2"]}, and
// a[][k]=x&a[][v]=1&a[][k]=y starts a new element of a whenever the last one already has k:
// [{"k": "x", "v": "1"}, {"k": "y"}]. Values are strings. Pairs are read in their order in the body.
func decodeRack(body string) (map[string]any, error) {
	out := map[string]any{}
	for i, pair := range strings.Split(body, "&") {
		if i > 0 {
			pair = strings.TrimLeft(pair, " ") // Rack splits on /& */
		}
		if pair == "" {
			continue
		}
		rawKey, rawValue, hasValue := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("form key: %w", err)
		}
		text, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("form value of %.64q: %w", key, err)
		}
		if key == "" {
			continue // Rack drops a pair without a name
		}
		// A key without "=" has no value: nil, as in Rack.
		var value any
		if hasValue {
			value = text
		}
		name, rest, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if len(rest) >= maxDepth {
			return nil, fmt.Errorf("form key %.64q is nested too deep", key)
		}
		if err := assign(out, name, rest, value); err != nil {
			return nil, fmt.Errorf("form key %.64q: %w", key, err)
		}
	}
	return out, nil
}

// splitKey splits "a[b][]" into "a" and ["b", ""].
func splitKey(key string) (string, []string, error) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return key, nil, nil
	}
	name, rest := key[:i], key[i:]
	if name == "" {
		return "", nil, fmt.Errorf("form key %.64q has no name", key)
	}
	var parts []string
	for rest != "" {
		if rest[0] != '[' {
			return "", nil, fmt.Errorf("form key %.64q is malformed", key)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", nil, fmt.Errorf("form key %.64q is malformed", key)
		}
		parts = append(parts, rest[1:j])
		rest = rest[j+1:]
	}
	return name, parts, nil
}

// assign sets value at name followed by the bracketed parts under m.
func assign(m map[string]any, name string, parts []string, value any) error {
	if len(parts) == 0 {
		m[name] = value
		return nil
	}
	if parts[0] == "" { // name[]...
		list, _ := m[name].([]any)
		if m[name] != nil && list == nil {
			return fmt.Errorf("%s is both a list and something else", name)
		}
		if len(parts) == 1 {
			m[name] = append(list, value)
			return nil
		}
		if parts[1] == "" { // name[][]: no ActivePlatform parameter is a list of lists
			return fmt.Errorf("%s is a list of lists", name)
		}
		// name[][k]...: add to the last element unless it already has k, as Rack does.
		var last map[string]any
		if n := len(list); n > 0 {
			last, _ = list[n-1].(map[string]any)
		}
		if last == nil || has(last, parts[1:]) {
			last = map[string]any{}
			list = append(list, last)
		}
		m[name] = list
		return assign(last, parts[1], parts[2:], value)
	}
	child, _ := m[name].(map[string]any)
	if m[name] != nil && child == nil {
		return fmt.Errorf("%s is both a hash and something else", name)
	}
	if child == nil {
		child = map[string]any{}
		m[name] = child
	}
	return assign(child, parts[0], parts[1:], value)
}

// has reports whether m already holds a value at the path parts (the first names a key), as
// Rack's params_hash_has_key? does: a path with [] is never held, nor one through a non-hash.
func has(m map[string]any, parts []string) bool {
	if slices.Contains(parts, "") {
		return false
	}
	var v any = m
	for _, p := range parts {
		h, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = h[p]; !ok {
			return false
		}
	}
	return true
}
