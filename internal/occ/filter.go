package occ

// SCIM filters (RFC 7644 §3.4.2.2) for the q parameter of OCC list endpoints: the subset that
// provisiond supports, parsed into a small tree and rendered as SQL with ? placeholders.
//
// Grammar (EBNF; keywords, operators and the literals true and false are case-insensitive):
//
//	filter     = orExpr ;
//	orExpr     = andExpr , { "or" , andExpr } ;           (* left-associative *)
//	andExpr    = term , { "and" , term } ;                (* left-associative, binds tighter than or *)
//	term       = "(" , orExpr , ")" | comparison ;
//	comparison = attrName , compareOp , compValue ;
//	attrName   = ALPHA , { ALPHA | DIGIT | "_" | "-" } ;
//	compareOp  = "eq" | "co" | "sw" ;
//	compValue  = string | "true" | "false" | number ;
//	string     = '"' , { unescaped | "\" , ( '"' | "\" | "/" | "b" | "f" | "n" | "r" | "t" | "u" , 4 * HEXDIG ) } , '"' ;
//	number     = [ "-" ] , ( "0" | DIGIT1-9 , { DIGIT } ) , [ "." , DIGIT , { DIGIT } ] , [ ( "e" | "E" ) , [ "+" | "-" ] , DIGIT , { DIGIT } ] ;
//
// Tokens are separated by whitespace (space, tab, CR, LF), which is required only where two
// words would otherwise run together; parentheses and strings delimit themselves.

import (
	"errors"
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
	// maxSQLDepth bounds the depth of a tree SQL renders (a parsed filter stays far below it).
	maxSQLDepth = 1000
	// maxQuoted is how many bytes of a token or name an error message quotes.
	maxQuoted = 32
)

// Filter is a parsed SCIM filter: a Comparison, an And or an Or (or a pointer to one).
type Filter interface{ filter() }

// Comparison is one attribute comparison, attr op value.
type Comparison struct {
	// Attr is the attribute name as written; SQL looks it up case-insensitively.
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
	return c.Attr + " " + c.Op + " " + formatValue(c.Value)
}

// String renders the conjunction in filter syntax, with only the parentheses it needs.
func (a And) String() string {
	return group(a.Left, isOr(a.Left)) + " and " + group(a.Right, isOr(a.Right) || isAnd(a.Right))
}

// String renders the disjunction in filter syntax, with only the parentheses it needs.
func (o Or) String() string {
	return group(o.Left, false) + " or " + group(o.Right, isOr(o.Right))
}

func group(f Filter, parens bool) string {
	s := "<nil>"
	if f != nil {
		s = fmt.Sprint(f)
	}
	if parens {
		return "(" + s + ")"
	}
	return s
}

func isAnd(f Filter) bool {
	switch f.(type) {
	case And, *And:
		return true
	}
	return false
}

func isOr(f Filter) bool {
	switch f.(type) {
	case Or, *Or:
		return true
	}
	return false
}

func formatValue(v any) string {
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
// from SQL have Pos 0, since the tree keeps no positions.
type FilterError struct {
	Pos int
	Msg string
}

// Error reports the position and the problem; it quotes at most a short piece of the input.
func (e *FilterError) Error() string {
	return fmt.Sprintf("invalid filter at %d: %s", e.Pos, e.Msg)
}

func errAt(pos int, format string, a ...any) *FilterError {
	return &FilterError{Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

// quote quotes at most maxQuoted bytes of s (cut at a rune boundary), for error messages.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}

// ParseFilter parses a SCIM filter of the supported subset: comparisons attr op value with the
// operators eq, co and sw, combined with and, or and parentheses (and binds tighter than or,
// both associate to the left). Keywords and operators are case-insensitive. A value is a
// double-quoted string with JSON escapes, true, false or a JSON number. The filter must be
// valid UTF-8 of at most 4096 bytes, with parentheses nested at most 32 deep; strings may not
// hold U+0000. Every error is a *FilterError.
func ParseFilter(s string) (Filter, error) {
	if len(s) > maxFilterLen {
		return nil, errAt(maxFilterLen, "filter longer than %d bytes", maxFilterLen)
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
		return nil, errAt(i, "invalid UTF-8")
	}
	p := &parser{s: s}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, errAt(p.tok.pos, "empty filter")
	}
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tokEOF:
		return f, nil
	case tokRParen:
		return nil, errAt(p.tok.pos, "unbalanced ')'")
	}
	return nil, errAt(p.tok.pos, "unexpected %s; want and, or or the end of the filter", p.tok.describe())
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokString
	tokWord
)

type token struct {
	kind tokKind
	pos  int
	text string // a word as written, or a string's decoded value
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokString:
		return "string " + quote(t.text)
	}
	return quote(t.text)
}

type parser struct {
	s     string
	i     int // scan offset
	tok   token
	depth int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// next scans the next token into p.tok.
func (p *parser) next() error {
	p.skipSpace()
	start := p.i
	if start == len(p.s) {
		p.tok = token{kind: tokEOF, pos: start}
		return nil
	}
	switch p.s[start] {
	case '(':
		p.i++
		p.tok = token{kind: tokLParen, pos: start}
		return nil
	case ')':
		p.i++
		p.tok = token{kind: tokRParen, pos: start}
		return nil
	case '"':
		return p.scanString()
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isSpace(c) || c == '(' || c == ')' || c == '"' {
			break
		}
		p.i++
	}
	p.tok = token{kind: tokWord, pos: start, text: p.s[start:p.i]}
	return nil
}

func (p *parser) scanString() error {
	start := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return errAt(start, "unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			p.tok = token{kind: tokString, pos: start, text: b.String()}
			return nil
		case c < 0x20:
			return errAt(p.i, "control character in string; escape it")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return errAt(start, "unterminated string")
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
			r, ok := hex4(p.s, p.i+2)
			if !ok {
				return errAt(esc, `invalid \u escape; want 4 hex digits`)
			}
			p.i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if r < 0xDC00 && strings.HasPrefix(p.s[p.i:], `\u`) {
					r2, ok = hex4(p.s, p.i+2)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return errAt(esc, `unpaired surrogate in \u escape`)
				}
				p.i += 6
			}
			if r == 0 {
				return errAt(esc, "U+0000 is not allowed in a string")
			}
			b.WriteRune(r)
			continue
		default:
			return errAt(esc, "invalid escape \\%c", e)
		}
		p.i += 2
	}
}

func hex4(s string, i int) (rune, bool) {
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
func (p *parser) keyword(kw string) bool {
	return p.tok.kind == tokWord && asciiEqualFold(p.tok.text, kw)
}

// asciiEqualFold is strings.EqualFold for ASCII letters only, so that, for example, the Kelvin
// sign does not spell the k of a keyword.
func asciiEqualFold(a, b string) bool {
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

func (p *parser) parseOr() (Filter, error) {
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

func (p *parser) parseAnd() (Filter, error) {
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

func (p *parser) parseTerm() (Filter, error) {
	switch p.tok.kind {
	case tokLParen:
		open := p.tok.pos
		p.depth++
		if p.depth > maxFilterDepth {
			return nil, errAt(open, "parentheses nested deeper than %d", maxFilterDepth)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		f, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, errAt(p.tok.pos, "unexpected %s; want and, or or ')' to close the '(' at %d", p.tok.describe(), open)
		}
		p.depth--
		return f, p.next()
	case tokWord:
		return p.parseComparison()
	}
	return nil, errAt(p.tok.pos, "unexpected %s; want an attribute name or '('", p.tok.describe())
}

func (p *parser) parseComparison() (Filter, error) {
	attr := p.tok
	if asciiEqualFold(attr.text, "not") {
		rest := strings.TrimLeft(p.s[p.i:], " \t\r\n")
		if strings.HasPrefix(rest, "(") {
			return nil, errAt(attr.pos, "not is not supported")
		}
	}
	if err := checkAttrName(attr.text, attr.pos); err != nil {
		return nil, err
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord {
		return nil, errAt(p.tok.pos, "unexpected %s; want an operator (eq, co or sw) after attribute %s", p.tok.describe(), quote(attr.text))
	}
	var op string
	switch w := p.tok.text; {
	case asciiEqualFold(w, "eq"), asciiEqualFold(w, "co"), asciiEqualFold(w, "sw"):
		op = strings.ToLower(w)
	case slices.ContainsFunc([]string{"ne", "ew", "gt", "ge", "lt", "le", "pr"}, func(o string) bool { return asciiEqualFold(w, o) }):
		return nil, errAt(p.tok.pos, "operator %s is not supported; want eq, co or sw", quote(p.tok.text))
	default:
		return nil, errAt(p.tok.pos, "unknown operator %s; want eq, co or sw", quote(p.tok.text))
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
		return nil, errAt(p.tok.pos, "unexpected %s; want a value (a quoted string, true, false or a number) after %s", p.tok.describe(), op)
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
			return errAt(pos+i, "attribute paths (attr.subAttr) are not supported")
		case c == '[' && i > 0:
			return errAt(pos+i, "value filters (attr[...]) are not supported")
		case c == ':' && i > 0:
			return errAt(pos+i, "schema-qualified attribute names are not supported")
		}
		return errAt(pos, "invalid attribute name %s; want a letter followed by letters, digits, '_' or '-'", quote(name))
	}
	return nil
}

func parseLiteral(w string, pos int) (any, error) {
	switch {
	case asciiEqualFold(w, "true"):
		return true, nil
	case asciiEqualFold(w, "false"):
		return false, nil
	case isJSONNumber(w):
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, errAt(pos, "number %s out of range", quote(w))
		}
		return f, nil
	case asciiEqualFold(w, "null"):
		return nil, errAt(pos, "null is not supported")
	}
	return nil, errAt(pos, "invalid value %s; want a quoted string, true, false or a number", quote(w))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isJSONNumber reports whether s is a number in JSON syntax (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && isDigit(s[i]) {
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

// Column renders one comparison on one attribute as SQL with ? placeholders (GORM style), given
// the lower-case operator and the value. An error should be a *FilterError whose Msg completes
// the sentence "attribute NAME ...", as SQL prefixes it so.
type Column func(op string, value any) (sql string, args []any, err error)

// columnError is an error of a Column: its Msg follows "attribute NAME".
func columnError(format string, a ...any) *FilterError {
	return &FilterError{Msg: fmt.Sprintf(format, a...)}
}

func unsupportedOp(op string) *FilterError {
	return columnError("does not support operator %s", quote(op))
}

// escapeLike escapes the LIKE metacharacters % and _ and the escape character ! itself with !,
// for use with ESCAPE '!'.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, "%_!") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '_' || c == '!' {
			b.WriteByte('!')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// StringColumn compares the text column (or SQL expression) expr case-insensitively: both sides
// are lower-cased, the value with strings.ToLower and the column with SQL lower().
//
//	eq: lower(expr) = ?
//	co: lower(expr) LIKE ? ESCAPE '!'   with %value%
//	sw: lower(expr) LIKE ? ESCAPE '!'   with value%
//
// % _ and ! in the value match themselves. The value must be a string. Note that SQLite's
// lower() folds only ASCII letters (as does PostgreSQL's under the C locale), so
// case-insensitivity beyond ASCII depends on the database.
func StringColumn(expr string) Column {
	return func(op string, value any) (string, []any, error) {
		switch op {
		case "eq", "co", "sw":
		default:
			return "", nil, unsupportedOp(op)
		}
		s, ok := value.(string)
		if !ok {
			return "", nil, columnError("takes a string")
		}
		s = strings.ToLower(s)
		switch op {
		case "eq":
			return "lower(" + expr + ") = ?", []any{s}, nil
		case "co":
			return "lower(" + expr + ") LIKE ? ESCAPE '!'", []any{"%" + escapeLike(s) + "%"}, nil
		}
		return "lower(" + expr + ") LIKE ? ESCAPE '!'", []any{escapeLike(s) + "%"}, nil
	}
}

// BoolColumn compares the boolean column (or SQL expression) expr: only eq with true or false,
// rendered as expr = ?.
func BoolColumn(expr string) Column {
	return func(op string, value any) (string, []any, error) {
		if op != "eq" {
			return "", nil, unsupportedOp(op)
		}
		b, ok := value.(bool)
		if !ok {
			return "", nil, columnError("takes true or false")
		}
		return expr + " = ?", []any{b}, nil
	}
}

// ListColumn matches the items of a list held in the text column (or SQL expression) expr as
// ",a,b,": lower-case items, each between two commas (the empty list is "" or ","). The value is
// lower-cased with strings.ToLower; % _ and ! in it match themselves. A comparison holds when
// some item matches:
//
//	eq: an item equals the value            expr LIKE ? ESCAPE '!'   with %,value,%
//	co: an item contains the value          expr LIKE ? ESCAPE '!'   with %value%
//	sw: an item starts with the value       expr LIKE ? ESCAPE '!'   with %,value%
//
// Since no item contains a comma, a value with a comma matches nothing (rendered 1 = 0), which
// also keeps co and sw from matching across items; co "" and sw "" match any non-empty list
// (pattern %,%,%). The column is not lower-cased: its items must be stored in lower case.
func ListColumn(expr string) Column {
	return func(op string, value any) (string, []any, error) {
		switch op {
		case "eq", "co", "sw":
		default:
			return "", nil, unsupportedOp(op)
		}
		s, ok := value.(string)
		if !ok {
			return "", nil, columnError("takes a string")
		}
		s = strings.ToLower(s)
		if strings.Contains(s, ",") {
			return "1 = 0", []any{}, nil
		}
		var pattern string
		switch {
		case op == "eq":
			pattern = "%," + escapeLike(s) + ",%"
		case s == "":
			pattern = "%,%,%"
		case op == "co":
			pattern = "%" + escapeLike(s) + "%"
		default:
			pattern = "%," + escapeLike(s) + "%"
		}
		return expr + " LIKE ? ESCAPE '!'", []any{pattern}, nil
	}
}

// SQL renders f as a SQL condition with ? placeholders and their arguments, for GORM's
// db.Where(sql, args...). Each attribute of f is looked up in columns, whose keys are compared
// case-insensitively (an exact match wins; otherwise the least matching key); an attribute not
// in columns is a *FilterError naming it, as is an error of its Column. Every comparison and
// every and/or is parenthesized, so precedence survives, and the output is deterministic, for
// example ((lower(email) = ?) OR ((lower(first_name) LIKE ? ESCAPE '!') AND (active = ?))).
func SQL(f Filter, columns map[string]Column) (string, []any, error) {
	r := renderer{columns: columns, args: []any{}}
	if err := r.render(f, 0); err != nil {
		return "", nil, err
	}
	return r.b.String(), r.args, nil
}

type renderer struct {
	columns map[string]Column
	b       strings.Builder
	args    []any
}

func (r *renderer) render(f Filter, depth int) error {
	if depth > maxSQLDepth {
		return &FilterError{Msg: fmt.Sprintf("filter nested deeper than %d", maxSQLDepth)}
	}
	switch f := f.(type) {
	case Comparison:
		return r.comparison(f)
	case *Comparison:
		if f != nil {
			return r.comparison(*f)
		}
	case And:
		return r.binary(f.Left, " AND ", f.Right, depth)
	case *And:
		if f != nil {
			return r.binary(f.Left, " AND ", f.Right, depth)
		}
	case Or:
		return r.binary(f.Left, " OR ", f.Right, depth)
	case *Or:
		if f != nil {
			return r.binary(f.Left, " OR ", f.Right, depth)
		}
	}
	return &FilterError{Msg: "missing filter"}
}

func (r *renderer) binary(left Filter, op string, right Filter, depth int) error {
	r.b.WriteByte('(')
	if err := r.render(left, depth+1); err != nil {
		return err
	}
	r.b.WriteString(op)
	if err := r.render(right, depth+1); err != nil {
		return err
	}
	r.b.WriteByte(')')
	return nil
}

func (r *renderer) comparison(c Comparison) error {
	col := r.column(c.Attr)
	if col == nil {
		return &FilterError{Msg: "unknown attribute " + quote(c.Attr)}
	}
	sql, args, err := col(c.Op, c.Value)
	if err != nil {
		var fe *FilterError
		if errors.As(err, &fe) {
			return &FilterError{Msg: "attribute " + quote(c.Attr) + " " + fe.Msg}
		}
		return &FilterError{Msg: "attribute " + quote(c.Attr) + ": " + err.Error()}
	}
	r.b.WriteByte('(')
	r.b.WriteString(sql)
	r.b.WriteByte(')')
	r.args = append(r.args, args...)
	return nil
}

func (r *renderer) column(attr string) Column {
	if col := r.columns[attr]; col != nil {
		return col
	}
	var (
		best  string
		found Column
	)
	for k, col := range r.columns {
		if col != nil && asciiEqualFold(k, attr) && (found == nil || k < best) {
			best, found = k, col
		}
	}
	return found
}
