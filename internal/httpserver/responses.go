package httpserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// ResponseViolation is the message of the log record written for each way a response departs
// from its operation in the spec, in the response-validation mode.
const ResponseViolation = "response violates the spec"

// responseOptions make kin-openapi report every problem of a response, an undocumented status
// included.
var responseOptions = openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}

// checkResponses is the response-validation mode: it keeps a copy of each response of an operation
// the specs define, checks it against that operation once it is written, and logs every
// violation with the request's id. The response itself goes out unchanged. Errors are rendered
// here rather than by observe, so that error bodies are checked too.
func (v *validator) checkResponses(c echo.Context, next echo.HandlerFunc) error {
	req := c.Request()
	r, ok := v.lookup(c)
	if !ok {
		return next(c)
	}
	res := c.Response()
	tee := &teeWriter{ResponseWriter: res.Writer, to: &capped{limit: -1}}
	res.Writer = tee
	defer func() { res.Writer = tee.ResponseWriter }()
	if err := next(c); err != nil {
		c.Error(err)
	}
	if res.Status == StatusClientClosedRequest && !res.Committed {
		return nil // nothing was answered: the client went away
	}

	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: r.route},
		Status:                 res.Status,
		Header:                 res.Header(),
		Body:                   io.NopCloser(bytes.NewReader(tee.to.Bytes())),
		Options:                &responseOptions,
	}
	err := openapi3filter.ValidateResponse(req.Context(), in)
	for _, problem := range responseProblems(err) {
		v.logger.LogAttrs(c.Request().Context(), slog.LevelError, ResponseViolation,
			slog.String("api", r.api.Name), slog.String("operation", r.route.Operation.OperationID),
			slog.String("method", req.Method), slog.String("route", c.Path()),
			slog.Int("status", res.Status), slog.String("violation", problem))
	}
	return nil
}

// responseProblems lists the violations in a ValidateResponse error, one line each. A line names
// the place (a JSON pointer into the body, or a header) and the rule, never the value: response
// bodies hold submitted values, which logs must not.
func responseProblems(err error) []string {
	var out []string
	var walk func(err error, prefix string)
	walk = func(err error, prefix string) {
		switch e := err.(type) {
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x, prefix)
			}
		case *openapi3filter.ResponseError:
			p := prefix
			if e.Reason != "" {
				p = joinProblem(prefix, e.Reason)
			}
			if e.Err == nil {
				out = append(out, p)
				return
			}
			walk(e.Err, p)
		case *openapi3.SchemaError:
			at := "/" + strings.Join(e.JSONPointer(), "/")
			out = append(out, joinProblem(prefix, fmt.Sprintf("at %s: %s (schema keyword %q)", at, e.Reason, e.SchemaField)))
		case *openapi3filter.ParseError:
			// Its message quotes the body; the prefix already says that it does not decode.
			out = append(out, joinProblem(prefix, "not valid for its media type"))
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x, prefix)
			}
		default:
			var se *openapi3.SchemaError
			if errors.As(err, &se) {
				walk(se, prefix)
				return
			}
			out = append(out, joinProblem(prefix, err.Error()))
		}
	}
	walk(err, "")
	return out
}

func joinProblem(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + ": " + s
}
