// Package scim is the protocol of the q and sort parameters of OCC list endpoints: SCIM filters
// (RFC 7644 §3.4.2.2), the subset that provisiond supports (see ParseFilter), lexed and parsed into
// a small tree that prints back as filter syntax, and sort specifications (see ParseSort). It knows
// nothing of storage: package scimsql compiles a tree to SQL over a store's columns.
package scim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// maxFilterLen is the longest filter ParseFilter accepts, in bytes.
	maxFilterLen = 4096
	// maxFilterDepth is how deeply ParseFilter lets parentheses nest.
	maxFilterDepth = 32
	// maxFilterQuoted is how many bytes of a token or name an error message quotes.
	maxFilterQuoted = 32
)

// Filter is a parsed SCIM filter: a Comparison, an And or an Or (or a pointer to one).
type Filter interface{ filter() }

// Comparison is one attribute comparison, attr op value.
type Comparison struct {
	// Attr is the attribute name as written; compare it with EqualFold, as SCIM attribute names
	// are case-insensitive.
	Attr string
	// Op is the operator in lower case: "eq", "co" (contains) or "sw" (starts with).
	Op string
	// Value is a string, a bool or a float64.
	Value any
}

// And holds when both Left and Right hold.
type And struct{ Left, Right Filter }

// Or holds when Left or Right holds.
type Or struct{ Left, Right Filter }

func (Comparison) filter() {}
func (And) filter()        {}
func (Or) filter()         {}

// String renders the comparison in filter syntax: ParseFilter reads it back as c.
func (c Comparison) String() string {
	return c.Attr + " " + c.Op + " " + formatFilterValue(c.Value)
}

// String renders the conjunction in filter syntax, with only the parentheses it needs.
func (a And) String() string {
	return groupFilter(a.Left, isOrFilter(a.Left)) + " and " + groupFilter(a.Right, isOrFilter(a.Right) || isAndFilter(a.Right))
}

// String renders the disjunction in filter syntax, with only the parentheses it needs.
func (o Or) String() string {
	return groupFilter(o.Left, false) + " or " + groupFilter(o.Right, isOrFilter(o.Right))
}

func groupFilter(f Filter, parens bool) string {
	s := "<nil>"
	if f != nil {
		s = fmt.Sprint(f)
	}
	if parens {
		return "(" + s + ")"
	}
	return s
}

func isAndFilter(f Filter) bool {
	switch f.(type) {
	case And, *And:
		return true
	}
	return false
}

func isOrFilter(f Filter) bool {
	switch f.(type) {
	case Or, *Or:
		return true
	}
	return false
}

func formatFilterValue(v any) string {
	switch v := v.(type) {
	case string:
		return quoteJSON(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%v", v)
}

// quoteJSON quotes s as a JSON string, escaping only what JSON requires; invalid UTF-8 becomes
// U+FFFD.
func quoteJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FilterError is a parse or compile error; Pos is the byte offset where it was detected. Errors
// of a compiler (scimsql.Where) have Pos 0, since the tree keeps no positions.
type FilterError struct {
	Pos int
	Msg string
}

// Error reports the position and the problem; it quotes at most a short piece of the input.
func (e *FilterError) Error() string {
	return fmt.Sprintf("invalid filter at %d: %s", e.Pos, e.Msg)
}

func filterErrAt(pos int, format string, a ...any) *FilterError {
	return &FilterError{Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

// Quote quotes at most 32 bytes of s (cut at a rune boundary), for error messages: every message
// about a filter, the parser's and a compiler's, quotes the input this way, so that none repeats
// a long input.
func Quote(s string) string {
	if len(s) <= maxFilterQuoted {
		return strconv.Quote(s)
	}
	n := maxFilterQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}

// ParseFilter parses a SCIM filter of the supported subset: comparisons attr op value with the
// operators eq, co (contains) and sw (starts with), combined with and, or and parentheses. The
// grammar, in EBNF:
//
//	filter     = orExpr ;
//	orExpr     = andExpr , { "or" , andExpr } ;   (* left-associative *)
//	andExpr    = term , { "and" , term } ;        (* left-associative; binds tighter than or *)
//	term       = "(" , orExpr , ")" | comparison ;
//	comparison = attrName , compareOp , compValue ;
//	attrName   = ALPHA , { ALPHA | DIGIT | "_" | "-" } ;
//	compareOp  = "eq" | "co" | "sw" ;
//	compValue  = string | "true" | "false" | number ;
//	string     = '"' , { char | "\" , escape } , '"' ;   (* char: any but '"', "\" and U+0000-U+001F *)
//	escape     = '"' | "\" | "/" | "b" | "f" | "n" | "r" | "t" | "u" , 4 * HEXDIG ;
//	number     = [ "-" ] , ( "0" | DIGIT19 , { DIGIT } ) , [ "." , DIGIT , { DIGIT } ] ,
//	             [ ( "e" | "E" ) , [ "+" | "-" ] , DIGIT , { DIGIT } ] ;
//
// The keywords and, or, the operators and the literals true and false are case-insensitive (ASCII
// letters only); attribute names are kept as written. Strings and numbers are as in JSON: a \u
// escape of a surrogate must be a pair, and U+0000 is refused (PostgreSQL text cannot hold it).
// Whitespace (space, tab, CR, LF) separates tokens and is needed only where two words would
// otherwise run together: parentheses and strings delimit themselves.
//
// Everything else is an error: other operators (ne, gt, pr, ...), not, attribute paths
// (emails.value), value filters (emails[...]), schema-qualified names, null, an empty filter,
// unbalanced parentheses, trailing tokens. The filter must be valid UTF-8 of at most 4096 bytes,
// with parentheses nested at most 32 deep. Every error is a *FilterError.
func ParseFilter(s string) (Filter, error) {
	if len(s) > maxFilterLen {
		return nil, filterErrAt(maxFilterLen, "filter longer than %d bytes", maxFilterLen)
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, filterErrAt(i, "invalid UTF-8")
	}
	p := &filterParser{s: s}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, filterErrAt(p.tok.pos, "empty filter")
	}
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tokEOF:
		return f, nil
	case tokRParen:
		return nil, filterErrAt(p.tok.pos, "unbalanced ')'")
	}
	return nil, filterErrAt(p.tok.pos, "unexpected %s; want and, or or the end of the filter", p.tok.describe())
}

type filterTokKind int

const (
	tokEOF filterTokKind = iota
	tokLParen
	tokRParen
	tokString
	tokWord
)

type filterToken struct {
	kind filterTokKind
	pos  int
	text string // a word as written, or a string's decoded value
}

func (t filterToken) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokString:
		return "string " + Quote(t.text)
	}
	return Quote(t.text)
}

type filterParser struct {
	s     string
	i     int // scan offset
	tok   filterToken
	depth int
}

func isFilterSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *filterParser) skipSpace() {
	for p.i < len(p.s) && isFilterSpace(p.s[p.i]) {
		p.i++
	}
}

// next scans the next token into p.tok.
func (p *filterParser) next() error {
	p.skipSpace()
	start := p.i
	if start == len(p.s) {
		p.tok = filterToken{kind: tokEOF, pos: start}
		return nil
	}
	switch p.s[start] {
	case '(':
		p.i++
		p.tok = filterToken{kind: tokLParen, pos: start}
		return nil
	case ')':
		p.i++
		p.tok = filterToken{kind: tokRParen, pos: start}
		return nil
	case '"':
		return p.scanString()
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isFilterSpace(c) || c == '(' || c == ')' || c == '"' {
			break
		}
		p.i++
	}
	p.tok = filterToken{kind: tokWord, pos: start, text: p.s[start:p.i]}
	return nil
}

func (p *filterParser) scanString() error {
	start := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return filterErrAt(start, "unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			p.tok = filterToken{kind: tokString, pos: start, text: b.String()}
			return nil
		case c < 0x20:
			return filterErrAt(p.i, "control character in string; escape it")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return filterErrAt(start, "unterminated string")
		}
		esc := p.i
		switch e := p.s[p.i+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := parseHex4(p.s, p.i+2)
			if !ok {
				return filterErrAt(esc, `invalid \u escape; want 4 hex digits`)
			}
			p.i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if r < 0xDC00 && strings.HasPrefix(p.s[p.i:], `\u`) {
					r2, ok = parseHex4(p.s, p.i+2)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return filterErrAt(esc, `unpaired surrogate in \u escape`)
				}
				p.i += 6
			}
			if r == 0 {
				return filterErrAt(esc, "U+0000 is not allowed in a string")
			}
			b.WriteRune(r)
			continue
		default:
			return filterErrAt(esc, "invalid escape \\%c", e)
		}
		p.i += 2
	}
}

func parseHex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// keyword reports whether the current token is the word kw (lower case), ignoring ASCII case.
func (p *filterParser) keyword(kw string) bool {
	return p.tok.kind == tokWord && EqualFold(p.tok.text, kw)
}

// EqualFold is strings.EqualFold for ASCII letters only, so that, for example, the Kelvin sign
// does not spell the k of a keyword. Keywords, operators, literals and attribute names compare
// this way.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if asciiLower(a[i]) != asciiLower(b[i]) {
			return false
		}
	}
	return true
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func (p *filterParser) parseOr() (Filter, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = Or{Left: left, Right: right}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (Filter, error) {
	left, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		left = And{Left: left, Right: right}
	}
	return left, nil
}

func (p *filterParser) parseTerm() (Filter, error) {
	switch p.tok.kind {
	case tokLParen:
		open := p.tok.pos
		p.depth++
		if p.depth > maxFilterDepth {
			return nil, filterErrAt(open, "parentheses nested deeper than %d", maxFilterDepth)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		f, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, filterErrAt(p.tok.pos, "unexpected %s; want and, or or ')' to close the '(' at %d", p.tok.describe(), open)
		}
		p.depth--
		return f, p.next()
	case tokWord:
		return p.parseComparison()
	}
	return nil, filterErrAt(p.tok.pos, "unexpected %s; want an attribute name or '('", p.tok.describe())
}

func (p *filterParser) parseComparison() (Filter, error) {
	attr := p.tok
	if EqualFold(attr.text, "not") {
		rest := strings.TrimLeft(p.s[p.i:], " \t\r\n")
		if strings.HasPrefix(rest, "(") {
			return nil, filterErrAt(attr.pos, "not is not supported")
		}
	}
	if err := checkAttrName(attr.text, attr.pos); err != nil {
		return nil, err
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord {
		return nil, filterErrAt(p.tok.pos, "unexpected %s; want an operator (eq, co or sw) after attribute %s", p.tok.describe(), Quote(attr.text))
	}
	var op string
	switch w := p.tok.text; {
	case EqualFold(w, "eq"), EqualFold(w, "co"), EqualFold(w, "sw"):
		op = strings.ToLower(w)
	case slices.ContainsFunc([]string{"ne", "ew", "gt", "ge", "lt", "le", "pr"}, func(o string) bool { return EqualFold(w, o) }):
		return nil, filterErrAt(p.tok.pos, "operator %s is not supported; want eq, co or sw", Quote(p.tok.text))
	default:
		return nil, filterErrAt(p.tok.pos, "unknown operator %s; want eq, co or sw", Quote(p.tok.text))
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	var value any
	switch p.tok.kind {
	case tokString:
		value = p.tok.text
	case tokWord:
		v, err := parseLiteral(p.tok.text, p.tok.pos)
		if err != nil {
			return nil, err
		}
		value = v
	default:
		return nil, filterErrAt(p.tok.pos, "unexpected %s; want a value (a quoted string, true, false or a number) after %s", p.tok.describe(), op)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	return Comparison{Attr: attr.text, Op: op, Value: value}, nil
}

// checkAttrName accepts a SCIM ATTRNAME: a letter, then letters, digits, '_' and '-'.
func checkAttrName(name string, pos int) error {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= asciiLower(c) && asciiLower(c) <= 'z':
			continue
		case i > 0 && ('0' <= c && c <= '9' || c == '_' || c == '-'):
			continue
		case c == '.' && i > 0:
			return filterErrAt(pos+i, "attribute paths (attr.subAttr) are not supported")
		case c == '[' && i > 0:
			return filterErrAt(pos+i, "value filters (attr[...]) are not supported")
		case c == ':' && i > 0:
			return filterErrAt(pos+i, "schema-qualified attribute names are not supported")
		}
		return filterErrAt(pos, "invalid attribute name %s; want a letter followed by letters, digits, '_' or '-'", Quote(name))
	}
	return nil
}

func parseLiteral(w string, pos int) (any, error) {
	switch {
	case EqualFold(w, "true"):
		return true, nil
	case EqualFold(w, "false"):
		return false, nil
	case isJSONNumber(w):
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, filterErrAt(pos, "number %s out of range", Quote(w))
		}
		return f, nil
	case EqualFold(w, "null"):
		return nil, filterErrAt(pos, "null is not supported")
	}
	return nil, filterErrAt(pos, "invalid value %s; want a quoted string, true, false or a number", Quote(w))
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && isASCIIDigit(s[i]) {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
