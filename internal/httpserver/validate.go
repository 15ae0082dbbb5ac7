package httpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
)

// route is one operation of one API, as the validator needs it, with what it checks resolved once
// at start.
type route struct {
	api      *API
	route    *routers.Route
	security openapi3.SecurityRequirements
	// schemes are the security requirements' schemes, one list per requirement in its order, each
	// sorted by name as kin-openapi tries them.
	schemes [][]scheme
	// authOptions are the validation options an authentication function sees.
	authOptions openapi3filter.Options
	media       []string // the request body's media types, when the operation has a body
}

// scheme is one security scheme of a requirement; value is nil when the spec does not declare it.
type scheme struct {
	name   string
	value  *openapi3.SecurityScheme
	scopes []string
}

// routeKey is a route as Echo matched it.
type routeKey struct{ method, path string }

// validator checks requests against the operation Echo's router matched, so the spec's
// servers play no part in routing and every request is routed once.
type validator struct {
	routes map[routeKey]*route
	// opts validate the parameters; the validator checks the body itself (validateBody), from the
	// bytes it read once.
	opts openapi3filter.Options
	// visit are the schema options of a request body, kin-openapi's for opts.
	visit  []openapi3.SchemaValidationOption
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
		routes: map[routeKey]*route{},
		opts: openapi3filter.Options{
			ExcludeRequestBody:  true,
			MultiError:          true,
			KeepValidatedValue:  true,
			SkipSettingDefaults: true,
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		},
		// As openapi3filter.ValidateRequestBody builds them for the options above (no defaults set).
		visit: []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors()},
	}
	for _, api := range apis {
		doc := api.Spec
		if doc.IsOpenAPI31OrLater() {
			return nil, fmt.Errorf("%s: OpenAPI %s: the validator checks bodies as OpenAPI 3.0", api.Name, doc.OpenAPI)
		}
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
				r.schemes = resolveSchemes(doc, r.security)
				r.authOptions = v.opts
				r.authOptions.AuthenticationFunc = api.Authenticate
				// The middleware checks security itself, first; the copy of the operation that
				// ValidateRequest sees has none, so it is not checked twice.
				unsecured := *op
				unsecured.Security = &openapi3.SecurityRequirements{}
				r.route.Operation = &unsecured
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					// Sorted: a 415 names them in this order, the same each time.
					r.media = slices.Sorted(maps.Keys(op.RequestBody.Value.Content))
				}
				key := routeKey{method, echoPath(path)}
				if _, dup := v.routes[key]; dup {
					return nil, fmt.Errorf("%s: operation %s %s is defined twice", api.Name, key.method, key.path)
				}
				v.routes[key] = r
			}
		}
	}
	return v, nil
}

// resolveSchemes looks up the schemes of each requirement of srs in doc, in the order
// openapi3filter.ValidateSecurityRequirements tries them.
func resolveSchemes(doc *openapi3.T, srs openapi3.SecurityRequirements) [][]scheme {
	out := make([][]scheme, len(srs))
	for i, sr := range srs {
		for _, name := range slices.Sorted(maps.Keys(sr)) {
			s := scheme{name: name, scopes: sr[name]}
			if doc.Components != nil {
				if ref := doc.Components.SecuritySchemes[name]; ref != nil {
					s.value = ref.Value
				}
			}
			out[i] = append(out[i], s)
		}
	}
	return out
}

// checkRoutes makes sure that the validator knows the operation of every route an API registered
// (owner says which API's prefixes a path is under): a request to a route without one would reach
// its handler unchecked. (An operation may have no route of its own: ActivePlatform's "….json"
// paths are rewritten to the routes without the suffix before routing.)
func (v *validator) checkRoutes(routes []*echo.Route, owner func(path string) *API) error {
	for _, er := range routes {
		if _, ok := v.routes[routeKey{er.Method, er.Path}]; ok || er.Method == echo.RouteNotFound {
			continue
		}
		if api := owner(er.Path); api != nil {
			return fmt.Errorf("%s: route %s %s has no operation in the spec", api.Name, er.Method, er.Path)
		}
	}
	return nil
}

// lookup is the route of the operation Echo matched for c, if the specs define it.
func (v *validator) lookup(c echo.Context) (*route, bool) {
	r, ok := v.routes[routeKey{c.Request().Method, c.Path()}]
	return r, ok
}

// sent is the route of the operation of the path the client sent: an API that rewrites paths
// before routing (ActivePlatform's "….json") routes a rewritten request to the operation without
// the suffix, but its spec names the suffixed one apart (createUserJson), and the journal and the
// fault rules go by the operation the client called.
func (v *validator) sent(c echo.Context) (*route, bool) {
	if p, ok := c.Get(sentPathKey).(string); ok {
		if suffix, cut := strings.CutPrefix(p, c.Request().URL.Path); cut {
			if r, ok := v.routes[routeKey{c.Request().Method, c.Path() + suffix}]; ok {
				return r, true
			}
		}
	}
	return v.lookup(c)
}

// middleware validates the request of every route the specs define: security first (a request
// without a valid credential learns nothing about its body), then the media type, then
// parameters and body, reporting every problem at once. Only reading the body comes before
// security: a body that cannot be read at all (too large, cut short) says nothing of its content.
func (v *validator) middleware(c echo.Context, next echo.HandlerFunc) error {
	r, ok := v.lookup(c)
	if !ok {
		return next(c)
	}
	req := c.Request()
	body, err := v.readBody(req, r)
	if err != nil {
		return err
	}
	ctx := req.Context()
	if len(r.security) > 0 {
		if ctx = withAuthentication(ctx); ctx != req.Context() {
			req = req.WithContext(ctx)
			c.SetRequest(req)
		}
	}
	var params map[string]string // nil without path parameters: kin-openapi only reads it
	if names, values := c.ParamNames(), c.ParamValues(); len(names) > 0 {
		params = make(map[string]string, len(names))
		for i, n := range names {
			params[n] = values[i]
		}
	}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: r.route, Options: &v.opts}

	if len(r.security) > 0 {
		if err := r.authenticate(ctx, input, body); err != nil {
			return securityError(err)
		}
	}
	if r.api.Prepare != nil {
		prepared, err := r.api.Prepare(req)
		if err != nil {
			return err
		}
		if prepared != req {
			req = prepared
			c.SetRequest(req)
			input.Request = req
			// A prepared request with a body of its own (ActivePlatform's form as JSON) is read
			// once more, the new body being in memory already.
			if b, ok := req.Body.(*requestBody); !ok || b != body {
				if body, err = v.readBody(req, r); err != nil {
					return err
				}
			}
		}
	}
	if r.media != nil && hasBody(req) {
		if err := checkMediaType(req.Header.Get(echo.HeaderContentType), r.media); err != nil {
			return err
		}
	}
	if err := v.validate(ctx, input, r, body); err != nil {
		return requestError(r.route.Operation.OperationID, err)
	}
	body.rewind()
	return next(c)
}

// authenticate checks the route's security requirements as openapi3filter.ValidateSecurityRequirements
// does (the first requirement whose schemes all pass lets the request in; otherwise every
// requirement's failure is returned, in order), without reading the body again for each scheme.
func (r *route) authenticate(ctx context.Context, input *openapi3filter.RequestValidationInput, body *requestBody) error {
	in := *input
	in.Options = &r.authOptions
	var errs []error
	for _, schemes := range r.schemes {
		err := r.requirement(ctx, &in, schemes, body)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return &openapi3filter.SecurityRequirementsError{SecurityRequirements: r.security, Errors: errs}
}

// requirement checks one security requirement: each of its schemes must pass. Each
// authentication function may read the body, from its start.
func (r *route) requirement(ctx context.Context, input *openapi3filter.RequestValidationInput, schemes []scheme, body *requestBody) error {
	defer body.rewind()
	for _, s := range schemes {
		if s.value == nil {
			return &openapi3filter.RequestError{Input: input, Err: fmt.Errorf("security scheme %q is not declared", s.name)}
		}
		body.rewind()
		err := r.api.Authenticate(ctx, &openapi3filter.AuthenticationInput{
			RequestValidationInput: input, SecuritySchemeName: s.name, SecurityScheme: s.value, Scopes: s.scopes,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// validate checks the parameters with kin-openapi and the body with validateBody: every problem
// of both, parameters first, as openapi3filter.ValidateRequest lists them.
func (v *validator) validate(ctx context.Context, input *openapi3filter.RequestValidationInput, r *route, body *requestBody) error {
	var all openapi3.MultiError
	if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
		var me openapi3.MultiError
		if !errors.As(err, &me) {
			return err
		}
		all = me
	}
	if rb := r.route.Operation.RequestBody; rb != nil && rb.Value != nil {
		if err := v.validateBody(ctx, input, rb.Value, body); err != nil {
			all = append(all, err)
		}
	}
	if len(all) > 0 {
		return all
	}
	return nil
}

// validateBody is openapi3filter.ValidateRequestBody for the validator's options over the body
// read once: a JSON body is decoded once, from those bytes, and kept on the request for the
// generated handler to bind (kin-openapi's KeepValidatedValue), instead of being read again into
// a copy first. A body of another media type goes to kin-openapi.
func (v *validator) validateBody(ctx context.Context, input *openapi3filter.RequestValidationInput, rb *openapi3.RequestBody, body *requestBody) error {
	if body == nil || len(body.data) == 0 {
		if rb.Required {
			return &openapi3filter.RequestError{Input: input, RequestBody: rb, Err: openapi3filter.ErrInvalidRequired}
		}
		return nil
	}
	if len(rb.Content) == 0 {
		return nil
	}
	req := input.Request
	header := req.Header.Get(echo.HeaderContentType)
	mt := rb.Content.Get(header)
	if mt == nil {
		return &openapi3filter.RequestError{Input: input, RequestBody: rb, Reason: fmt.Sprintf("header Content-Type has unexpected value %q", header)}
	}
	if mt.Schema == nil {
		return nil
	}
	body.rewind()
	if !decodedByJSONBody(header, mt) {
		return openapi3filter.ValidateRequestBody(ctx, input, rb)
	}
	value, err := parseJSON(body.data)
	if err != nil {
		return &openapi3filter.RequestError{Input: input, RequestBody: rb, Reason: "failed to decode request body", Err: err}
	}
	if err := mt.Schema.Value.VisitJSON(value, v.visit...); err != nil {
		return &openapi3filter.RequestError{Input: input, RequestBody: rb, Reason: "doesn't match schema" + schemaName(mt.Schema), Err: err}
	}
	body.validated = validatedBody{requestBody: body, value: value}
	req.Body = &body.validated
	return nil
}

// decodedByJSONBody reports whether a body of the media type header, under the spec's mt, is
// decoded as JSON by the validator: an application/json body, or one of a JSON-based media type
// ("+json", such as X-Cart's application/ld+json), not binary, without an encoding of its own.
func decodedByJSONBody(header string, mt *openapi3.MediaType) bool {
	name, _, _ := strings.Cut(header, ";")
	name = strings.ToLower(strings.TrimSpace(name))
	if name != echo.MIMEApplicationJSON && !strings.HasSuffix(name, "+json") || mt.Encoding[""] != nil {
		return false
	}
	s := mt.Schema.Value
	return s != nil && !(s.Type.Is("string") && s.Format == "binary")
}

// schemaName is how kin-openapi names a schema in a body's error: " " and its reference or title.
func schemaName(s *openapi3.SchemaRef) string {
	id := strings.TrimSpace(s.Ref)
	if id == "" && s.Value != nil {
		id = strings.TrimSpace(s.Value.Title)
	}
	if id == "" {
		return ""
	}
	return " " + id
}

// requestBody is a request body read into memory once: each of its readers (an authentication
// function, the schema check, Prepare, the handler) reads the same bytes from their start, without
// a copy.
type requestBody struct {
	data      []byte
	reader    bytes.Reader
	validated validatedBody
}

func (b *requestBody) Read(p []byte) (int, error)         { return b.reader.Read(p) }
func (b *requestBody) WriteTo(w io.Writer) (int64, error) { return b.reader.WriteTo(w) }
func (b *requestBody) Close() error                       { return nil }

// rewind makes the next read start at the beginning; it does nothing to a nil body.
func (b *requestBody) rewind() {
	if b != nil {
		b.reader.Reset(b.data)
	}
}

// getBody is the request's GetBody, for an API's Prepare: a fresh reader of the bytes (the control
// API's Prepare keeps them).
func (b *requestBody) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(b.data)), nil
}

// validatedBody is a request body once its schema check passed: it carries the value decoded from
// it, through the interface of kin-openapi's KeepValidatedValue, which the generated strict
// handlers bind instead of decoding the body again.
type validatedBody struct {
	*requestBody
	value any
}

// ValidatedValue is the body's value as decoded and validated.
func (b *validatedBody) ValidatedValue() any { return b.value }

// readBody reads the whole body into memory, once, before anything else looks at it, so that a
// body that cannot be read is one error wherever it would have surfaced (the authentication
// function, a form decoder, the schema check). A body over the limit stays a 413; any other
// failure — the client stopped sending before its Content-Length, or sends slower than the read
// timeout — is the client's fault, refused as a body that does not parse (the API's own 400).
// It returns nil for a request without a body.
func (v *validator) readBody(req *http.Request, r *route) (*requestBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	data, err := readAll(req.Body, req.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, tooLarge
		}
		v.logger.InfoContext(req.Context(), "request body unreadable", "error", err)
		return nil, &InvalidRequest{OperationID: r.route.Operation.OperationID, Issues: []Issue{{In: "body", Rule: "syntax"}}}
	}
	b := &requestBody{data: data}
	b.rewind()
	req.Body = b
	if r.api.Prepare != nil {
		req.GetBody = b.getBody
	}
	return b, nil
}

// maxPresize bounds the buffer readAll sizes from a Content-Length, which the client chooses.
const maxPresize = 64 << 10

// readAll is io.ReadAll into one buffer of the announced size when the body has one (a size of 0
// or less is unknown), so that a body of the announced size is one allocation and no copy.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > maxPresize {
		return io.ReadAll(r)
	}
	// One byte more than announced: the read that finds the end then needs no larger buffer.
	buf := make([]byte, 0, size+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
	}
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
