package activeplatform

import (
	"fmt"
	"net/url"
	"strings"
)

// decodeRack turns a form-encoded body into the value Rack (and so Grape) builds from it:
// a[b]=1 is {"a": {"b": "1"}}, a[]=1&a[]=2 is {"a": ["1", "2"]}, and
// a[][k]=x&a[][v]=1&a[][k]=y starts a new element of a whenever the last one already has k:
// [{"k": "x", "v": "1"}, {"k": "y"}]. Values are strings. Pairs are read in their order in the body.
func decodeRack(body string) (map[string]any, error) {
	out := map[string]any{}
	for _, pair := range strings.Split(body, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("form key: %w", err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("form value of %s: %w", key, err)
		}
		name, rest, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if err := assign(out, name, rest, value); err != nil {
			return nil, fmt.Errorf("form key %s: %w", key, err)
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
		return "", nil, fmt.Errorf("form key %q has no name", key)
	}
	var parts []string
	for rest != "" {
		if rest[0] != '[' {
			return "", nil, fmt.Errorf("form key %q is malformed", key)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", nil, fmt.Errorf("form key %q is malformed", key)
		}
		parts = append(parts, rest[1:j])
		rest = rest[j+1:]
	}
	return name, parts, nil
}

// assign sets value at name followed by the bracketed parts under m.
func assign(m map[string]any, name string, parts []string, value string) error {
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

// has reports whether m already holds a value at the path parts (the first names a key).
func has(m map[string]any, parts []string) bool {
	v, ok := m[parts[0]]
	if !ok {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	if child, isMap := v.(map[string]any); isMap && parts[1] != "" {
		return has(child, parts[1:])
	}
	return true
}
