package httpserver

import (
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's limit of nested arrays and objects.
const maxJSONDepth = 10000

// decodeJSONValue decodes data, one JSON value with nothing but white space around it, into what
// encoding/json's Decoder with UseNumber decodes into an any: map[string]any, []any, string,
// json.Number, bool or nil, with the same strings (invalid UTF-8 and lone surrogates become
// U+FFFD, the last of duplicate keys wins) and the same refusals. It does so in one pass over
// data, where encoding/json scans a value twice, and sizes each object and array once; keys that
// are in names (the specs' property names) are not allocated again.
func decodeJSONValue(data []byte, names map[string]string) (any, error) {
	d := scratch.Get().(*jsonDecoder)
	defer d.release()
	d.data, d.pos, d.names = data, 0, names
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.pos < len(d.data) {
		return nil, d.fail("after the JSON value")
	}
	return v, nil
}

// scratch keeps decoders, with their scratch space, from one body to the next.
var scratch = sync.Pool{New: func() any { return new(jsonDecoder) }}

// maxScratch is the most members or elements a pooled decoder keeps room for: a huge body's
// scratch is left to the collector.
const maxScratch = 1024

// release returns d to scratch, holding no part of the body it decoded.
func (d *jsonDecoder) release() {
	if cap(d.members) > maxScratch || cap(d.elements) > maxScratch {
		d.members, d.elements = nil, nil
	}
	clear(d.members[:cap(d.members)])
	clear(d.elements[:cap(d.elements)])
	d.members, d.elements = d.members[:0], d.elements[:0]
	d.data, d.names = nil, nil
	scratch.Put(d)
}

type jsonDecoder struct {
	data  []byte
	pos   int
	names map[string]string
	// scratch holds the members and elements of the objects and arrays being decoded, those of
	// the innermost last, until each is complete and copied into a map or slice of its size.
	members  []jsonMember
	elements []any
}

type jsonMember struct {
	key   string
	value any
}

func (d *jsonDecoder) fail(where string) error {
	if d.pos >= len(d.data) {
		return fmt.Errorf("unexpected end of JSON input %s", where)
	}
	return fmt.Errorf("invalid character %q at offset %d %s", d.data[d.pos], d.pos, where)
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail("looking for a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		str, err := d.string(false)
		if err != nil {
			return nil, err
		}
		return str, nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.fail("looking for a value")
}

func (d *jsonDecoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.fail("in a literal")
		}
		d.pos++
	}
	return nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("exceeded max depth at offset %d", d.pos)
	}
	d.pos++ // {
	base := len(d.members)
	defer func() { d.members = d.members[:base] }()
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return map[string]any{}, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.fail("looking for an object key")
		}
		k, err := d.string(true)
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail("after an object key")
		}
		d.pos++
		d.space()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.members = append(d.members, jsonMember{k, v})
		more, err := d.separator('}', "after an object member")
		if err != nil {
			return nil, err
		}
		if more {
			continue
		}
		members := d.members[base:]
		m := make(map[string]any, len(members))
		for _, kv := range members {
			m[kv.key] = kv.value
		}
		return m, nil
	}
}

// separator reads what follows an object's member or an array's element: a comma, when more
// follow, or end, the closing bracket.
func (d *jsonDecoder) separator(end byte, where string) (more bool, err error) {
	d.space()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.space()
			return true, nil
		case end:
			d.pos++
			return false, nil
		}
	}
	return false, d.fail(where)
}

func (d *jsonDecoder) array(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("exceeded max depth at offset %d", d.pos)
	}
	d.pos++ // [
	base := len(d.elements)
	defer func() { d.elements = d.elements[:base] }()
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return []any{}, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.elements = append(d.elements, v)
		more, err := d.separator(']', "after an array element")
		if err != nil {
			return nil, err
		}
		if more {
			continue
		}
		return append([]any(nil), d.elements[base:]...), nil
	}
}

// number reads a number as JSON's grammar has it, and keeps its text.
func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.digits() == 0:
		return nil, d.fail("in a number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.digits() == 0 {
			return nil, d.fail("after a decimal point")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, d.fail("in an exponent")
		}
	}
	return json.Number(d.data[start:d.pos]), nil
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}

// string reads a string; a key found in d.names is that name, not a new string.
func (d *jsonDecoder) string(key bool) (string, error) {
	d.pos++ // "
	start := d.pos
	// The common case: nothing but ASCII without escapes up to the closing quote.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			raw := d.data[start:d.pos]
			d.pos++
			if key {
				if name, ok := d.names[string(raw)]; ok {
					return name, nil
				}
			}
			return string(raw), nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	return d.slowString(start)
}

// slowString reads the rest of a string with escapes, control characters or bytes beyond ASCII,
// as encoding/json unquotes them.
func (d *jsonDecoder) slowString(start int) (string, error) {
	b := make([]byte, 0, d.pos-start+8)
	b = append(b, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c < ' ':
			return "", d.fail("in a string")
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				return "", d.fail("in a string escape")
			}
			switch e := d.data[d.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4(d.pos + 1)
				if !ok {
					return "", d.fail("in a \\u escape")
				}
				d.pos += 4
				if utf16.IsSurrogate(r) {
					// A pair when a \u escape of the low half follows; otherwise U+FFFD.
					if d.pos+2 < len(d.data) && d.data[d.pos+1] == '\\' && d.data[d.pos+2] == 'u' {
						if r2, ok := d.hex4(d.pos + 3); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								d.pos += 6
								b = utf8.AppendRune(b, dec)
								break
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.fail("in a string escape")
			}
			d.pos++
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			b = utf8.AppendRune(b, r)
			d.pos += size
		}
	}
	return "", d.fail("in a string")
}

// hex4 is the rune of the four hex digits at i, if there are four.
func (d *jsonDecoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
