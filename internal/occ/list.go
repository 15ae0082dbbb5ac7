package occ

import (
	"strings"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/occ/scimsql"
)

// CodeInvalidInput is OCC's code for invalid input, in both APIs.
const CodeInvalidInput = "22007"

// Where parses the SCIM filter of a list request and renders it as a SQL condition over columns.
// A filter that does not parse, or names an attribute not in columns, is error 22007 at /q.
func Where(filter string, columns map[string]scimsql.Column) (string, []any, error) {
	f, err := scim.ParseFilter(filter)
	if err == nil {
		var (
			where string
			args  []any
		)
		if where, args, err = scimsql.Where(f, columns); err == nil {
			return where, args, nil
		}
	}
	return "", nil, apperr.Invalid("/q", CodeInvalidInput, "The filter is invalid: "+err.Error()+".")
}

// Sort reads a "property:asc|desc" sort parameter (the spec checks its shape) and returns the
// property, the direction and the column of that property. A property not in columns is error
// 22007 at /sort.
func Sort(sort string, columns map[string]string) (property, dir, column string, err error) {
	property, dir, _ = strings.Cut(sort, ":")
	for name, col := range columns {
		if strings.EqualFold(name, property) {
			return name, strings.ToLower(dir), col, nil
		}
	}
	return "", "", "", apperr.Invalid("/sort", CodeInvalidInput, "The sort property "+property+" is not one of the sortable properties.")
}
