// Package scimsql compiles parsed SCIM filters and sorts (package scim) to SQL with ? placeholders
// (GORM style) over a store's columns. Only stores use it: the attributes and properties a list
// offers, and the columns behind them, are theirs.
package scimsql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/store"
)

// maxSQLDepth bounds the depth of a tree Where renders (a parsed filter stays far below it).
const maxSQLDepth = 1000

// Column renders one comparison on one attribute as SQL with ? placeholders (GORM style), given
// the lower-case operator and the value. An error should be a *scim.FilterError whose Msg completes
// the sentence "attribute NAME ...", as Where prefixes it so.
type Column func(op string, value any) (sql string, args []any, err error)

// columnError is an error of a Column: its Msg follows "attribute NAME".
func columnError(format string, a ...any) *scim.FilterError {
	return &scim.FilterError{Msg: fmt.Sprintf(format, a...)}
}

func unsupportedOp(op string) *scim.FilterError {
	return columnError("does not support operator %s", scim.Quote(op))
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
func StringColumn(expr string) Column { return textColumn("lower(" + expr + ")") }

// KeyColumn is StringColumn over a text column (or SQL expression) expr that holds keys already
// lower-cased with strings.ToLower: only the value is lower-cased, so that an index on the column
// serves the comparison (eq by a b-tree, sw by a prefix index, co by a trigram index).
//
//	eq: expr = ?
//	co: expr LIKE ? ESCAPE '!'   with %value%
//	sw: expr LIKE ? ESCAPE '!'   with value%
func KeyColumn(expr string) Column { return textColumn(expr) }

// textOperand is the lower-cased string value of a text comparison op (eq, co or sw).
func textOperand(op string, value any) (string, error) {
	switch op {
	case "eq", "co", "sw":
	default:
		return "", unsupportedOp(op)
	}
	s, ok := value.(string)
	if !ok {
		return "", columnError("takes a string")
	}
	return strings.ToLower(s), nil
}

// textColumn compares the lower-case text expr with a value lower-cased.
func textColumn(expr string) Column {
	return func(op string, value any) (string, []any, error) {
		s, err := textOperand(op, value)
		if err != nil {
			return "", nil, err
		}
		switch op {
		case "eq":
			return expr + " = ?", []any{s}, nil
		case "co":
			return expr + " LIKE ? ESCAPE '!'", []any{"%" + store.EscapeLike(s) + "%"}, nil
		}
		return expr + " LIKE ? ESCAPE '!'", []any{store.EscapeLike(s) + "%"}, nil
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
		s, err := textOperand(op, value)
		if err != nil {
			return "", nil, err
		}
		if strings.Contains(s, ",") {
			return "1 = 0", []any{}, nil
		}
		var pattern string
		switch {
		case op == "eq":
			pattern = "%," + store.EscapeLike(s) + ",%"
		case s == "":
			pattern = "%,%,%"
		case op == "co":
			pattern = "%" + store.EscapeLike(s) + "%"
		default:
			pattern = "%," + store.EscapeLike(s) + "%"
		}
		return expr + " LIKE ? ESCAPE '!'", []any{pattern}, nil
	}
}

// Where renders f as a SQL condition with ? placeholders and their arguments, for GORM's
// db.Where(sql, args...). Each attribute of f is looked up in columns, whose keys are compared
// case-insensitively (an exact match wins; otherwise the least matching key); an attribute not
// in columns is a *scim.FilterError naming it, as is an error of its Column. Every comparison and
// every and/or is parenthesized, so precedence survives, and the output is deterministic, for
// example ((lower(email) = ?) OR ((lower(first_name) LIKE ? ESCAPE '!') AND (active = ?))).
func Where(f scim.Filter, columns map[string]Column) (string, []any, error) {
	r := sqlRenderer{columns: columns, args: []any{}}
	if err := r.render(f, 0); err != nil {
		return "", nil, err
	}
	return r.b.String(), r.args, nil
}

type sqlRenderer struct {
	columns map[string]Column
	b       strings.Builder
	args    []any
}

func (r *sqlRenderer) render(f scim.Filter, depth int) error {
	if depth > maxSQLDepth {
		return &scim.FilterError{Msg: fmt.Sprintf("filter nested deeper than %d", maxSQLDepth)}
	}
	switch f := f.(type) {
	case scim.Comparison:
		return r.comparison(f)
	case *scim.Comparison:
		if f != nil {
			return r.comparison(*f)
		}
	case scim.And:
		return r.binary(f.Left, " AND ", f.Right, depth)
	case *scim.And:
		if f != nil {
			return r.binary(f.Left, " AND ", f.Right, depth)
		}
	case scim.Or:
		return r.binary(f.Left, " OR ", f.Right, depth)
	case *scim.Or:
		if f != nil {
			return r.binary(f.Left, " OR ", f.Right, depth)
		}
	}
	return &scim.FilterError{Msg: "missing filter"}
}

func (r *sqlRenderer) binary(left scim.Filter, op string, right scim.Filter, depth int) error {
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

func (r *sqlRenderer) comparison(c scim.Comparison) error {
	col := r.column(c.Attr)
	if col == nil {
		return &scim.FilterError{Msg: "unknown attribute " + scim.Quote(c.Attr)}
	}
	sql, args, err := col(c.Op, c.Value)
	if err != nil {
		var fe *scim.FilterError
		if errors.As(err, &fe) {
			return &scim.FilterError{Msg: "attribute " + scim.Quote(c.Attr) + " " + fe.Msg}
		}
		return &scim.FilterError{Msg: "attribute " + scim.Quote(c.Attr) + ": " + err.Error()}
	}
	r.b.WriteByte('(')
	r.b.WriteString(sql)
	r.b.WriteByte(')')
	r.args = append(r.args, args...)
	return nil
}

func (r *sqlRenderer) column(attr string) Column {
	col, _ := lookup(r.columns, attr, func(c Column) bool { return c != nil })
	return col
}

// Order renders s as a SQL order over columns, which map sort properties to columns (or SQL
// expressions): "column asc" or "column desc", and s with its property as columns spell it. The
// property is looked up as Where looks up attributes; ok is false when it is not in columns. The
// zero Sort renders as "".
func Order(s scim.Sort, columns map[string]string) (order string, sorted scim.Sort, ok bool) {
	if s == (scim.Sort{}) {
		return "", s, true
	}
	col, name := lookup(columns, s.Property, func(c string) bool { return c != "" })
	if col == "" {
		return "", scim.Sort{}, false
	}
	if s.Desc {
		return col + " desc", scim.Sort{Property: name, Desc: true}, true
	}
	return col + " asc", scim.Sort{Property: name}, true
}

// lookup finds name among the keys of m whose values are present, as SCIM compares names:
// case-insensitively (scim.EqualFold), an exact match first, otherwise the least matching key, so
// that the choice does not depend on the map's order. It returns the value and its key, or the
// zero value when no key matches.
func lookup[V any](m map[string]V, name string, present func(V) bool) (V, string) {
	if v, ok := m[name]; ok && present(v) {
		return v, name
	}
	var (
		best  string
		found V
		ok    bool
	)
	for k, v := range m {
		if present(v) && scim.EqualFold(k, name) && (!ok || k < best) {
			best, found, ok = k, v, true
		}
	}
	return found, best
}
