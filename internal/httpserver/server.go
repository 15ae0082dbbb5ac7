// Package httpserver is the HTTP side that all APIs share: Echo with its middleware chain
// (request id, access log and metrics, panic recovery, body limit), the OpenAPI request
// validator, the dispatch of errors to each API's renderer, and the operational endpoints
// (/healthz, /readyz, /metrics, /openapi/<api>.yaml|json, /docs).
package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/docs"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/journal"
)

// RetryAfterSeconds is the Retry-After of every 503: a database outage or an overload usually
// passes in seconds, and a client backing off from there does not hammer a recovering database.
const RetryAfterSeconds = 1

// Reply is an error response in a vendor's dialect.
type Reply struct {
	Status      int
	ContentType string
	Body        any
}

// API is one vendor API served by the server.
type API struct {
	// Name is the API's short name ("xcart"), used in /openapi/<name>.yaml and in metrics.
	Name string
	// Spec is the API's OpenAPI document; SpecYAML its source text.
	Spec     *openapi3.T
	SpecYAML []byte
	// Prefixes are the path prefixes the API owns, so that its renderer also answers for
	// requests that match none of its routes.
	Prefixes []string
	// Register adds the API's routes (the generated RegisterHandlers).
	Register func(*echo.Echo)
	// Authenticate checks one security scheme of the spec. It returns apperr errors: Rule
	// "missing" when the request carries no credential for the scheme.
	Authenticate openapi3filter.AuthenticationFunc
	// RewritePath, when set, maps a request path of the API to the one its routes use, before
	// routing (ActivePlatform's optional ".json" suffix).
	RewritePath func(path string) string
	// Prepare, when set, may replace a request before it is validated (ActivePlatform decodes
	// form-encoded bodies to JSON, so that both are checked by the same schema).
	Prepare func(*http.Request) (*http.Request, error)
	// Negotiate, when set, adapts an error reply to the representation the request asks for,
	// before it is written (X-Cart answers API Platform's JSON-LD error shapes to a client that asks
	// for application/ld+json); sent is the request's path as the client sent it, before
	// RewritePath. Render stays a pure function of the error and the path.
	Negotiate func(reply Reply, req *http.Request, sent string) Reply
	// BodyLimit, when above 0, is the largest request body of this API, in place of the
	// server's (the control API takes fixtures documents of thousands of users).
	BodyLimit int64
	// Render turns any error of a request to this API into the vendor's error response.
	// It must be a pure function of the error and the request path.
	Render func(err error, path string) Reply
}

// Options configure the server.
type Options struct {
	Logger    *slog.Logger
	BodyLimit int64
	// Journal, when it records an API (journal.Journal.Records), receives every request to it
	// with its answer.
	Journal *journal.Journal
	// Ready reports whether the server can serve (the database answers).
	Ready func(context.Context) error
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry
	APIs     []*API
	// RequestTimeout is the deadline of each request's context (0: none): work still waiting
	// when it passes fails as unavailable (503) and rolls back.
	RequestTimeout time.Duration
	// RequestScope, when set, prepares each request's context for the work below the handlers
	// (the database's deadline shared by all calls of one request).
	RequestScope func(context.Context) (scoped context.Context, release func())
	// ValidateResponses checks every response of an API operation against its spec and logs
	// each violation with the request id (ResponseViolation); the response goes out unchanged.
	ValidateResponses bool
	// Draining, when set, reports whether the server is shutting down: /readyz then answers 503,
	// and every response asks the client to close its connection.
	Draining func() bool
	// Faults, when set, are the fault rules applied to the requests of the APIs they cover
	// (fault.Rules.Cover), ahead of everything but the journal, the log and the metrics.
	Faults *fault.Rules
	// Stopping, when set, is closed once the server starts shutting down: a delay fault ends then.
	Stopping <-chan struct{}
	// ReadTimeout and WriteTimeout are the http.Server's: a delay fault starts them again once it
	// is over, so that the delay does not eat the request's own time.
	ReadTimeout, WriteTimeout time.Duration
	// CORSOrigins, when not empty, are the origins (scheme://host[:port], or "*" for any) whose
	// browser applications may call every route: preflights are answered, and responses carry
	// the CORS headers. Cookies and credentials are allowed, but not with "*".
	CORSOrigins []string
}

type server struct {
	opts      Options
	metrics   *metrics
	specs     map[string][]byte // "xcart.yaml", "xcart.json" → document
	validator *validator
}

// New builds the Echo instance serving opts.APIs.
func New(opts Options) (*echo.Echo, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &server{opts: opts, specs: map[string][]byte{}}
	var err error
	if s.metrics, err = newMetrics(opts.Registry); err != nil {
		return nil, err
	}
	for _, api := range opts.APIs {
		js, err := json.Marshal(api.Spec)
		if err != nil {
			return nil, fmt.Errorf("%s spec as JSON: %w", api.Name, err)
		}
		s.specs[api.Name+".json"] = js
		s.specs[api.Name+".yaml"] = api.SpecYAML
	}
	v, err := newValidator(opts.APIs, opts.Logger)
	if err != nil {
		return nil, err
	}
	s.validator = v

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Pre(s.before)
	if len(opts.CORSOrigins) > 0 {
		e.Use(cors(opts.CORSOrigins))
	}
	e.Use(s.middleware(v))

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", s.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})))
	e.GET("/openapi/:file", s.spec)
	docAPIs := make([]docs.API, 0, len(opts.APIs))
	for _, api := range opts.APIs {
		docAPIs = append(docAPIs, docs.API{Name: api.Name, Spec: api.Spec})
	}
	reference, err := docs.New(docAPIs)
	if err != nil {
		return nil, err
	}
	e.GET("/docs", echo.WrapHandler(reference))
	e.GET("/docs/", echo.WrapHandler(reference))
	e.GET("/docs/*", echo.WrapHandler(reference))
	for _, api := range opts.APIs {
		api.Register(e)
	}
	if err := v.checkRoutes(e.Routes(), s.apiFor); err != nil {
		return nil, err
	}
	return e, nil
}

// before runs ahead of routing: the owning API's path rewrite, and the draining server's
// "Connection: close". One middleware, not one per job: Echo wraps its middleware around each
// request anew, a closure each.
func (s *server) before(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.rewritePath(c)
		s.closeWhenDraining(c)
		return next(c)
	}
}

// middleware is the server's middleware chain around the matched route's handler, in order:
// observe, inject, deadline, checkResponses (in the response-validation mode), recover, limitBody and the
// validator. They are one Echo middleware that calls each step directly, so that no step costs a
// closure on the heap per request (Echo wraps each of its middleware around each request anew).
func (s *server) middleware(v *validator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			return s.observe(c, func(c echo.Context) error {
				return s.inject(c, func(c echo.Context) error {
					return s.deadline(c, func(c echo.Context) error {
						if s.opts.ValidateResponses {
							return v.checkResponses(c, func(c echo.Context) error { return s.guard(c, v, next) })
						}
						return s.guard(c, v, next)
					})
				})
			})
		}
	}
}

// guard runs next under recover, limitBody and the validator.
func (s *server) guard(c echo.Context, v *validator, next echo.HandlerFunc) error {
	return s.recover(c, func(c echo.Context) error {
		return s.limitBody(c, func(c echo.Context) error { return v.middleware(c, next) })
	})
}

// deadline gives the request's context the configured deadline and scope while the request is
// handled.
// The request goes back to its own context afterwards, so that the error handler, which runs
// later, sees whether the client went away and not this deadline's release.
func (s *server) deadline(c echo.Context, next echo.HandlerFunc) error {
	if s.opts.RequestTimeout <= 0 && s.opts.RequestScope == nil {
		return next(c)
	}
	req := c.Request()
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if s.opts.RequestTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.opts.RequestTimeout)
	}
	defer cancel()
	if s.opts.RequestScope != nil {
		var release func()
		ctx, release = s.opts.RequestScope(ctx)
		defer release()
	}
	c.SetRequest(req.WithContext(ctx))
	err := next(c)
	c.SetRequest(c.Request().WithContext(req.Context()))
	return err
}

// sentPathKey is where the request's echo.Context keeps the path the client sent, when the
// owning API rewrote it before routing.
const sentPathKey = "provisiond.sentPath"

// rewritePath applies the owning API's path rewrite before routing, keeping the path sent.
func (s *server) rewritePath(c echo.Context) {
	req := c.Request()
	if api := s.apiFor(req.URL.Path); api != nil && api.RewritePath != nil {
		// In place: Echo routes the request it was given, whatever c.SetRequest says.
		if p := api.RewritePath(req.URL.Path); p != req.URL.Path {
			c.Set(sentPathKey, req.URL.Path)
			req.URL.Path, req.URL.RawPath = p, ""
		}
	}
}

// render is api's answer to err for the request of c, in the representation it asks for.
func render(c echo.Context, api *API, err error) Reply {
	req := c.Request()
	reply := api.Render(err, req.URL.Path)
	if api.Negotiate != nil {
		reply = api.Negotiate(reply, req, sentPath(c))
	}
	return reply
}

// SentPath is the path of the request of c as the client sent it, before the owning API's
// RewritePath: what tells X-Cart's handlers a ".jsonld" request from one without the suffix.
func SentPath(c echo.Context) string { return sentPath(c) }

// sentPath is the path of the request of c as the client sent it, before any rewrite.
func sentPath(c echo.Context) string {
	if p, ok := c.Get(sentPathKey).(string); ok {
		return p
	}
	return c.Request().URL.Path
}

// draining reports whether the server is shutting down.
func (s *server) draining() bool { return s.opts.Draining != nil && s.opts.Draining() }

// closeWhenDraining adds "Connection: close" to every response written once the server is
// shutting down: a client stops reusing its connection after the answer it is waiting for, instead
// of sending its next request on a connection the server is about to close.
func (s *server) closeWhenDraining(c echo.Context) {
	if s.opts.Draining == nil {
		return
	}
	res := c.Response()
	res.Before(func() {
		if s.draining() {
			res.Header().Set(echo.HeaderConnection, "close")
		}
	})
}

// ready answers 503 while the server is shutting down, so that load balancers send it no new
// requests, and while the database does not answer.
func (s *server) ready(c echo.Context) error {
	if s.draining() || !s.databaseReady(c.Request().Context()) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// databaseReady asks opts.Ready, for two seconds at most, and logs why the answer is no.
func (s *server) databaseReady(ctx context.Context) bool {
	if s.opts.Ready == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.opts.Ready(ctx); err != nil {
		s.opts.Logger.WarnContext(ctx, "not ready", "error", err)
		return false
	}
	return true
}

func (s *server) spec(c echo.Context) error {
	name := c.Param("file")
	doc, ok := s.specs[name]
	if !ok {
		return echo.ErrNotFound
	}
	ct := "application/yaml"
	if strings.HasSuffix(name, ".json") {
		ct = echo.MIMEApplicationJSON
	}
	return c.Blob(http.StatusOK, ct, doc)
}

// apiFor is the API that owns path, or nil.
func (s *server) apiFor(path string) *API {
	for _, api := range s.opts.APIs {
		for _, p := range api.Prefixes {
			if strings.HasPrefix(path, p) {
				return api
			}
		}
	}
	return nil
}

// handleError writes err as the owning API's error response and logs the causes of server faults.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	req := c.Request()
	var reply Reply
	if api := s.apiFor(req.URL.Path); api != nil {
		reply = render(c, api, err)
	} else {
		reply = genericReply(err)
	}
	if reply.Status >= 500 && errors.Is(req.Context().Err(), context.Canceled) {
		s.abandon(c, err)
		return
	}
	switch {
	case reply.Status == http.StatusServiceUnavailable:
		// A database outage or an overload is not a fault of the server: the client is told when
		// to try again, and the log says why without the alarm of an error.
		c.Response().Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
		s.opts.Logger.WarnContext(req.Context(), "request refused: unavailable", "status", reply.Status, "error", err)
	case reply.Status >= 500:
		s.opts.Logger.ErrorContext(req.Context(), "request failed", "status", reply.Status, "error", err)
	}
	s.write(c, reply)
}

// write sends reply as the response of c.
func (s *server) write(c echo.Context, reply Reply) {
	req := c.Request()
	c.Response().Header().Set(echo.HeaderContentType, reply.ContentType)
	var werr error
	if req.Method == http.MethodHead || reply.Body == nil {
		werr = c.NoContent(reply.Status)
	} else {
		c.Response().WriteHeader(reply.Status)
		werr = json.NewEncoder(c.Response()).Encode(reply.Body)
	}
	if werr != nil {
		s.opts.Logger.WarnContext(req.Context(), "writing error response", "error", werr)
	}
}

// StatusClientClosedRequest is the status (nginx's 499) that the access log and the metrics give
// a request whose client went away before it could be answered. It is never sent.
const StatusClientClosedRequest = 499

// abandon ends a request that failed after its client went away (its context is cancelled: the
// connection closed): the failure is the cancellation's doing — a database call or the wait for a
// password-hashing slot given up — not the server's, and nobody is left to answer. It is logged
// below error level and recorded as 499, and the connection, should it still be open, is closed
// without a response, as nginx does. A failure that does not name the cancellation may be a fault
// of its own that coincided, so it is logged as a warning.
func (s *server) abandon(c echo.Context, err error) {
	level := slog.LevelInfo
	if !errors.Is(err, context.Canceled) {
		level = slog.LevelWarn
	}
	s.opts.Logger.Log(c.Request().Context(), level, "client went away", "error", err)
	c.Response().Status = StatusClientClosedRequest
	if conn, _, herr := http.NewResponseController(c.Response().Writer).Hijack(); herr == nil {
		_ = conn.Close()
	}
}

// genericReply answers requests outside every API: an RFC 7807 problem with the status only.
func genericReply(err error) Reply {
	status, ok := TransportStatus(err)
	if !ok {
		status = http.StatusInternalServerError
		switch {
		case apperr.Has(err, apperr.KindUnavailable):
			status = http.StatusServiceUnavailable
		case apperr.KindOf(err) == apperr.KindNotFound:
			status = http.StatusNotFound
		}
	}
	return Reply{Status: status, ContentType: "application/problem+json", Body: map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status,
	}}
}

// observe gives the request its id, and logs and counts it once it is answered (errors included).
func (s *server) observe(c echo.Context, next echo.HandlerFunc) error {
	start := time.Now()
	req := c.Request()
	id := req.Header.Get(echo.HeaderXRequestID)
	if !validRequestID(id) {
		id = rand.Text()
	}
	c.Response().Header().Set(echo.HeaderXRequestID, id)
	api := "none"
	if a := s.apiFor(req.URL.Path); a != nil {
		api = a.Name
	}
	var rec *recording
	if s.opts.Journal.Records(api) {
		rec = record(c, req, s.opts.Journal.BodyLimit())
	}
	ctx := WithRequestID(req.Context(), id)
	c.SetRequest(req.WithContext(ctx))

	err := next(c)
	dropped := errors.Is(err, errDropped)
	if err != nil && !dropped {
		c.Error(err)
	}

	res := c.Response()
	route := c.Path()
	if route == "" || res.Status == http.StatusNotFound && c.Handler() == nil {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	if rec != nil {
		s.journal(c, req, rec, api, id, start, elapsed)
	}
	o := s.metrics.of(labels{api: api, method: req.Method, route: route, status: res.Status})
	o.requests.Inc()
	o.duration.Observe(elapsed.Seconds())
	// Only the route template is logged: the path and query hold submitted values.
	s.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("api", api),
		slog.String("method", req.Method), slog.String("route", route),
		slog.Int("status", res.Status), slog.Int64("bytes", res.Size),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
	if dropped {
		s.dropConnection(c)
	}
	return nil
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// recover turns a panic into an internal error, keeping the stack for the log.
func (s *server) recover(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = apperr.Internal(fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	return next(c)
}

// limitBody refuses bodies over the limit: at once when Content-Length says so, and while
// reading otherwise.
func (s *server) limitBody(c echo.Context, next echo.HandlerFunc) error {
	req := c.Request()
	limit := s.opts.BodyLimit
	if api := s.apiFor(req.URL.Path); api != nil {
		limit = s.bodyLimit(api)
	}
	if limit <= 0 {
		return next(c)
	}
	if req.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
	}
	return next(c)
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// observers are the metrics of each set of labels met so far, so that a request finds its
	// own without hashing and validating its labels in each vector under its lock.
	observers sync.Map // labels → *observers
}

// labels are the labels of one request's metrics.
type labels struct {
	api, method, route string
	status             int
}

// observers are the metrics of one set of labels.
type observers struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// of returns the metrics of l.
func (m *metrics) of(l labels) *observers {
	if o, ok := m.observers.Load(l); ok {
		return o.(*observers)
	}
	status := strconv.Itoa(l.status)
	o := &observers{
		requests: m.requests.WithLabelValues(l.api, l.method, l.route, status),
		duration: m.duration.WithLabelValues(l.api, l.method, l.route, status),
	}
	actual, _ := m.observers.LoadOrStore(l, o)
	return actual.(*observers)
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"api", "method", "route", "status"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "provisiond_http_requests_total",
			Help: "HTTP requests answered, by API, method, route template and status.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "provisiond_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by API, method, route template and status.",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
		}
	}
	return m, nil
}

// cors answers the CORS preflights of origins for every route, before the journal, the fault
// rules and the APIs see them, and adds the CORS headers to the other answers. The headers the
// APIs answer with that a client reads are exposed: Location (X-Cart's and OCC's creates),
// Retry-After (503s) and X-Request-Id.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowCredentials: !slices.Contains(origins, "*"),
		ExposeHeaders:    []string{echo.HeaderLocation, echo.HeaderRetryAfter, echo.HeaderXRequestID},
		MaxAge:           600,
	})
}
