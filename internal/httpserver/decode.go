package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// decodeJSONBody decodes one JSON value and refuses anything but white space after it
// (kin-openapi's own decoder stops at the end of the first value and ignores the rest).
func decodeJSONBody(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: errors.New("data after the JSON value")}
	}
	return v, nil
}

func requestError(operationID string, err error) error {
	out := &InvalidRequest{OperationID: operationID}
	var walk func(error, Issue)
	walk = func(err error, at Issue) {
		// A type switch on the node itself, not errors.As: errors.As would look through a
		// RequestError into its cause and lose where the problem is.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(x, at)
			}
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
				out.Issues = append(out.Issues, next)
			case e.Err == nil:
				next.Rule = "syntax"
				out.Issues = append(out.Issues, next)
			default:
				walk(e.Err, next)
			}
		case *openapi3.SchemaError:
			is := at
			is.Field = joinPath(at.Field, e.JSONPointer())
			is.Rule, is.Schema, is.Value = e.SchemaField, e.Schema, e.Value
			out.Issues = append(out.Issues, is)
		case *openapi3filter.ParseError:
			is := at
			is.Rule = "type"
			if at.In == "body" {
				is.Rule = "syntax"
			}
			is.Value = e.Value
			out.Issues = append(out.Issues, is)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x, at)
			}
		default:
			is := at
			is.Rule = "syntax"
			out.Issues = append(out.Issues, is)
		}
	}
	walk(err, Issue{})
	return out
}

// joinPath renders a JSON pointer below base as a property path: a, b, 0 → a.b[0].
func joinPath(base string, pointer []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range pointer {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
