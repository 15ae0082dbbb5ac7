package occ

import (
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/occ/scimsql"
)

// CodeInvalidInput is OCC's code for invalid input, in both APIs.
const CodeInvalidInput = "22007"

// A list request's q and sort parameters cross two layers: a service parses them (ParseList) and
// passes the parsed filter and sort to its store, which compiles them over its own columns
// (Columns.SQL). Both halves answer with OCC's error 22007, at /q or /sort.

// Limit is a list's page size: the limit sent, or most when none was, and never more than most.
func Limit(sent *int, most int) int {
	if sent == nil {
		return most
	}
	return min(*sent, most)
}

// ParseList parses the q and sort parameters of a list request: an empty q is no filter (nil),
// an empty sort the zero scim.Sort. A q that does not parse is error 22007 at /q; a sort that does
// not, error 22007 at /sort (the spec checks the sort's shape before).
func ParseList(q, sort string) (scim.Filter, scim.Sort, error) {
	var (
		f   scim.Filter
		s   scim.Sort
		err error
	)
	if q != "" {
		if f, err = scim.ParseFilter(q); err != nil {
			return nil, scim.Sort{}, invalidFilter(err)
		}
	}
	if sort != "" {
		if s, err = scim.ParseSort(sort); err != nil {
			return nil, scim.Sort{}, apperr.Invalid("/sort", CodeInvalidInput, "The sort is invalid: "+err.Error()+".")
		}
	}
	return f, s, nil
}

func invalidFilter(err error) error {
	return apperr.Invalid("/q", CodeInvalidInput, "The filter is invalid: "+err.Error()+".")
}

// Columns are what a store's list can be filtered and sorted by, under the API's names: the SQL
// of each filter attribute and the column of each sort property.
type Columns struct {
	Filter map[string]scimsql.Column
	Sort   map[string]string
}

// ListSQL is a list's filter and sort compiled for GORM.
type ListSQL struct {
	// Where is the condition with ? placeholders for Args, or "" for none.
	Where string
	Args  []any
	// Order is "column asc" or "column desc", or "" for no sort.
	Order string
	// Sort is the sort with its property spelled as Columns spell it, as the response names it.
	Sort scim.Sort
}

// SQL compiles a parsed filter and sort (nil and the zero Sort for none) over c. An attribute not
// in c.Filter, or a comparison its column refuses, is error 22007 at /q; a property not in c.Sort,
// error 22007 at /sort.
func (c Columns) SQL(f scim.Filter, s scim.Sort) (ListSQL, error) {
	var out ListSQL
	if f != nil {
		where, args, err := scimsql.Where(f, c.Filter)
		if err != nil {
			return ListSQL{}, invalidFilter(err)
		}
		out.Where, out.Args = where, args
	}
	order, sorted, ok := scimsql.Order(s, c.Sort)
	if !ok {
		return ListSQL{}, apperr.Invalid("/sort", CodeInvalidInput, "The sort property "+s.Property+" is not one of the sortable properties.")
	}
	out.Order, out.Sort = order, sorted
	return out, nil
}
