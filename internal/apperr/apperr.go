// Package apperr is the one error type of provisiond's services and stores. An error is classified
// where it arises, by Kind, and names the field and the rule it is about; each API's renderer turns
// kinds into its vendor's status codes and bodies.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds. Their order carries no meaning; KindInternal is the zero value so that an
// unclassified error is never mistaken for the client's fault.
const (
	KindInternal        Kind = iota // a fault of the server; its cause is logged, never shown
	KindInvalid                     // the input breaks a rule
	KindUnauthenticated             // no credential, or not a valid one
	KindForbidden                   // a valid credential that may not do this
	KindNotFound                    // the thing named does not exist
	KindConflict                    // the input clashes with stored state (a unique value taken)
	KindUnavailable                 // a dependency is down or overloaded; try again later
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not found", "conflict", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified error. Field is the input field it concerns (a JSON path such as
// "role_ids[1]"), Rule the rule broken (such as "unique" or "exists"), Message a sentence fit
// for the client in the API's own wording. Err is the cause, for logs only.
type Error struct {
	Kind    Kind
	Field   string
	Rule    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Field != "" {
		s += " " + e.Field
	}
	if e.Rule != "" {
		s += " (" + e.Rule + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports input that breaks rule on field.
func Invalid(field, rule, message string) *Error {
	return &Error{Kind: KindInvalid, Field: field, Rule: rule, Message: message}
}

// Conflict reports input on field that clashes with stored state under rule.
func Conflict(field, rule, message string) *Error {
	return &Error{Kind: KindConflict, Field: field, Rule: rule, Message: message}
}

// NotFound reports that what the request names does not exist.
func NotFound(message string) *Error { return &Error{Kind: KindNotFound, Message: message} }

// Unauthenticated reports a missing or invalid credential.
func Unauthenticated(message string) *Error {
	return &Error{Kind: KindUnauthenticated, Message: message}
}

// Forbidden reports a valid credential that may not do what it asks.
func Forbidden(message string) *Error { return &Error{Kind: KindForbidden, Message: message} }

// Unavailable reports a dependency that cannot serve now; err is the cause.
func Unavailable(err error) *Error { return &Error{Kind: KindUnavailable, Err: err} }

// Internal wraps an unexpected cause. A cause already classified as unavailable stays
// unavailable: a store that wraps a failed query as internal must not turn an outage of the
// database into the server's own fault.
func Internal(err error) *Error {
	if KindOf(err) == KindUnavailable {
		return &Error{Kind: KindUnavailable, Err: err}
	}
	return &Error{Kind: KindInternal, Err: err}
}

// KindOf is the kind of the first *Error in err's tree, or KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Has reports whether any *Error in err's tree (as All walks it) is of kind k.
func Has(err error, k Kind) bool {
	for _, e := range All(err) {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// All lists every *Error in err's tree, depth first, following both Unwrap() error and
// Unwrap() []error (errors.Join), so that a renderer can report every problem of a request.
func All(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}
