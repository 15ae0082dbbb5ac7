// Package optional applies the optional members of a partial update: a pointer the generated
// request types leave nil when the client did not send the member.
package optional

// Set sets *dst to *v when the request carried v, and leaves *dst as it is otherwise.
func Set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
