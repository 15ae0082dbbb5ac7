package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// decodeJSONBody decodes one JSON value and refuses anything but white space after it
// (kin-openapi's own decoder stops at the end of the first value and ignores the rest), as
// parseJSON does: the body decoder of application/json that kin-openapi uses where the validator
// does not decode itself (responses).
func decodeJSONBody(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	return parseJSON(data)
}

// parseJSON decodes data, one JSON value with nothing but white space after it, as encoding/json
// decodes into an any with UseNumber (numbers stay exact), with kin-openapi's error for a body
// that does not parse.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, end := dec.Token(); !errors.Is(end, io.EOF) {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	return v, nil
}

func requestError(operationID string, err error) error {
	return &InvalidRequest{OperationID: operationID, Issues: issues(err, Issue{})}
}

// issues lists the problems of a validation error, each below at: where the problem is, as far
// as the error's outer nodes tell (the body, or a parameter by name).
func issues(err error, at Issue) []Issue {
	// A type switch on the node itself, not errors.As: errors.As would look through a
	// RequestError into its cause and lose where the problem is.
	switch e := err.(type) {
	case openapi3.MultiError:
		return issuesOfAll(e, at)
	case *openapi3filter.RequestError:
		next := at
		switch {
		case e.Parameter != nil:
			next.In, next.Field = e.Parameter.In, e.Parameter.Name
		case e.RequestBody != nil:
			next.In = "body"
		}
		switch {
		case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
			next.Rule = "required"
			if next.In == "body" {
				next.Rule = "missing"
			}
		case e.Err == nil:
			next.Rule = "syntax"
		default:
			return issues(e.Err, next)
		}
		return []Issue{next}
	case *openapi3.SchemaError:
		// An allOf's problems are those of its parts, each with its own path (kin-openapi marks
		// them): a schema written as allOf (fields, plus an anyOf of required names) lists its
		// fields' problems one by one, as the same schema written flat would.
		var parts openapi3.MultiError
		if e.SchemaField == "allOf" && errors.As(e.Origin, &parts) {
			return issuesOfAll(parts, at)
		}
		return []Issue{schemaIssue(at, e)}
	case *openapi3filter.ParseError:
		is := at
		is.Rule = "type"
		if at.In == "body" {
			is.Rule = "syntax"
		}
		is.Value = e.Value
		return []Issue{is}
	case interface{ Unwrap() []error }:
		return issuesOfAll(e.Unwrap(), at)
	}
	is := at
	is.Rule = "syntax"
	return []Issue{is}
}

func issuesOfAll(errs []error, at Issue) []Issue {
	var out []Issue
	for _, err := range errs {
		out = append(out, issues(err, at)...)
	}
	return out
}
