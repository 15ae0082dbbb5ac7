package httpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
)

// route is one operation of one API, as the validator needs it.
type route struct {
	api      *API
	route    *routers.Route
	security openapi3.SecurityRequirements
	media    []string // the request body's media types, when the operation has a body
}

// validator checks requests against the operation Echo's router matched, so the spec's
// servers play no part in routing and every request is routed once.
type validator struct {
	routes map[string]*route // method + " " + Echo path
	opts   openapi3filter.Options
	logger *slog.Logger
}

var echoParam = regexp.MustCompile(`\{([^}]+)\}`)

// echoPath turns an OpenAPI path template into Echo's syntax: /a/{id} → /a/:id.
func echoPath(p string) string { return echoParam.ReplaceAllString(p, ":$1") }

var defineFormats sync.Once

func newValidator(apis []*API, logger *slog.Logger) (*validator, error) {
	defineFormats.Do(func() {
		openapi3.DefineStringFormatValidator("email", emailFormat)
		openapi3filter.RegisterBodyDecoder("application/json", decodeJSONBody)
	})
	v := &validator{
		logger: logger,
		routes: map[string]*route{},
		opts: openapi3filter.Options{
			MultiError:          true,
			KeepValidatedValue:  true,
			SkipSettingDefaults: true,
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		},
	}
	for _, api := range apis {
		doc := api.Spec
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				r := &route{
					api:   api,
					route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
				}
				if op.Security != nil {
					r.security = *op.Security
				} else {
					r.security = doc.Security
				}
				// The middleware checks security itself, first; the copy of the operation that
				// ValidateRequest sees has none, so it is not checked twice.
				unsecured := *op
				unsecured.Security = &openapi3.SecurityRequirements{}
				r.route.Operation = &unsecured
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					for mt := range op.RequestBody.Value.Content {
						r.media = append(r.media, mt)
					}
				}
				key := method + " " + echoPath(path)
				if _, dup := v.routes[key]; dup {
					return nil, fmt.Errorf("%s: operation %s is defined twice", api.Name, key)
				}
				v.routes[key] = r
			}
		}
	}
	return v, nil
}

// middleware validates the request of every route the specs define: security first (a request
// without a valid credential learns nothing about its body), then the media type, then
// parameters and body, reporting every problem at once. Only reading the body comes before
// security: a body that cannot be read at all (too large, cut short) says nothing of its content.
func (v *validator) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		r, ok := v.routes[req.Method+" "+c.Path()]
		if !ok {
			return next(c)
		}
		ctx := req.Context()
		if err := v.readBody(req, r); err != nil {
			return err
		}
		if len(r.security) > 0 {
			ctx = context.WithValue(ctx, principalKey{}, &principalHolder{})
			req = req.WithContext(ctx)
			c.SetRequest(req)
		}
		names, values := c.ParamNames(), c.ParamValues()
		params := make(map[string]string, len(names))
		for i, n := range names {
			params[n] = values[i]
		}
		input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: r.route, Options: &v.opts}

		if len(r.security) > 0 {
			authInput := *input
			authOpts := v.opts
			authOpts.AuthenticationFunc = r.api.Authenticate
			authInput.Options = &authOpts
			if err := openapi3filter.ValidateSecurityRequirements(ctx, &authInput, r.security); err != nil {
				return securityError(err)
			}
		}
		if r.api.Prepare != nil {
			prepared, err := r.api.Prepare(req)
			if err != nil {
				return err
			}
			req = prepared
			c.SetRequest(req)
			input.Request = req
		}
		if r.media != nil && hasBody(req) {
			if err := checkMediaType(req.Header.Get(echo.HeaderContentType), r.media); err != nil {
				return err
			}
		}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			return requestError(r.route.Operation.OperationID, err)
		}
		if issues := nulIssues(c); len(issues) > 0 {
			return &InvalidRequest{OperationID: r.route.Operation.OperationID, Issues: issues}
		}
		return next(c)
	}
}

// readBody reads the whole body into memory, once, before anything else looks at it, so that a
// body that cannot be read is one error wherever it would have surfaced (the authentication
// function, a form decoder, the schema check). A body over the limit stays a 413; any other
// failure — the client stopped sending before its Content-Length, or sends slower than the read
// timeout — is the client's fault, refused as a body that does not parse (the API's own 400).
func (v *validator) readBody(req *http.Request, r *route) error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	data, err := io.ReadAll(req.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		v.logger.InfoContext(req.Context(), "request body unreadable", "error", err)
		return &InvalidRequest{OperationID: r.route.Operation.OperationID, Issues: []Issue{{In: "body", Rule: "syntax"}}}
	}
	// GetBody lets kin-openapi hand each reader of the body a fresh copy instead of reading again.
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.Body, _ = req.GetBody()
	return nil
}

// nulIssues lists the request values that hold U+0000: PostgreSQL text cannot store it (a query
// with one fails), so such a value is refused as invalid before it reaches a store, whatever the
// database. Rule "characters" marks them.
func nulIssues(c echo.Context) []Issue {
	var out []Issue
	for i, v := range c.ParamValues() {
		if strings.ContainsRune(v, 0) {
			out = append(out, Issue{In: "path", Field: c.ParamNames()[i], Rule: "characters"})
		}
	}
	for name, vs := range c.Request().URL.Query() {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) || strings.ContainsRune(name, 0) {
				out = append(out, Issue{In: "query", Field: name, Rule: "characters"})
				break
			}
		}
	}
	if vb, ok := c.Request().Body.(interface{ ValidatedValue() any }); ok {
		out = append(out, CharacterIssues(vb.ValidatedValue())...)
	}
	return out
}

func hasBody(req *http.Request) bool {
	return req.ContentLength > 0 || (req.ContentLength < 0 && req.Body != nil && req.Body != http.NoBody)
}

func checkMediaType(header string, supported []string) error {
	mt, _, err := mime.ParseMediaType(header)
	if err == nil {
		for _, s := range supported {
			if strings.EqualFold(mt, s) {
				return nil
			}
		}
	} else {
		mt = header
	}
	return &UnsupportedMediaType{Got: mt, Supported: supported}
}

// securityError picks, among the failures of each security scheme, the one that tells the
// client most: a failure of the server itself, then a refusal of a valid credential, then an
// invalid credential, and only then a missing one.
func securityError(err error) error {
	rank := func(e *apperr.Error) int {
		switch {
		case e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable:
			return 0
		case e.Kind == apperr.KindForbidden:
			return 1
		case e.Rule != "missing":
			return 2
		}
		return 3
	}
	var best *apperr.Error
	for _, e := range apperr.All(err) {
		if best == nil || rank(e) < rank(best) {
			best = e
		}
	}
	if best == nil {
		return apperr.Internal(err)
	}
	return best
}
