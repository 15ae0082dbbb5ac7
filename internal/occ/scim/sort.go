package scim

import "strings"

// Sort is a parsed sort parameter: the property to order by, as written (compare it with
// EqualFold), and the direction. The zero Sort asks for no particular order.
type Sort struct {
	Property string
	Desc     bool
}

// ParseSort reads a sort parameter in the form OCC's list endpoints take, SCIM's sortBy and
// sortOrder in one: "property:asc" or "property:desc", the direction in any ASCII case. The
// property is an attribute name as in a filter. Any other form is a *FilterError.
func ParseSort(s string) (Sort, error) {
	property, dir, found := strings.Cut(s, ":")
	if !found {
		return Sort{}, filterErrAt(len(s), "missing ':asc' or ':desc' after the sort property")
	}
	if property == "" {
		return Sort{}, filterErrAt(0, "missing sort property")
	}
	if err := checkAttrName(property, 0); err != nil {
		return Sort{}, err
	}
	switch {
	case EqualFold(dir, "asc"):
		return Sort{Property: property}, nil
	case EqualFold(dir, "desc"):
		return Sort{Property: property, Desc: true}, nil
	}
	return Sort{}, filterErrAt(len(property)+1, "unknown sort order %s; want asc or desc", Quote(dir))
}
