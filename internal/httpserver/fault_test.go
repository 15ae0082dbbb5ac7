package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/journal"
)

const shopSpec = `
openapi: 3.0.3
info: {title: shop, version: "1"}
components: {}
paths:
  /shop/items:
    get:
      operationId: listItems
      responses: {"200": {description: the items}}
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object}
      responses: {"201": {description: created}}
`

// shop is a server with two APIs: "shop", which the fault rules cover, and "admin", which they
// do not (as the control API). Its handlers report each request they serve on served.
type shop struct {
	rules   *fault.Rules
	journal *journal.Journal
	served  chan string // the operation of each request a handler served
	// hold is how long each handler works before it answers.
	hold   time.Duration
	url    string
	client *http.Client
}

// newShop starts a shop server on a real listener; opts gives the options besides the APIs, the
// rules and the journal, and configure adjusts the http.Server before it starts.
func newShop(t *testing.T, opts httpserver.Options, configure func(*http.Server)) *shop {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(shopSpec))
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{rules: &fault.Rules{}, journal: journal.New(10, 1<<20), served: make(chan string, 10)}
	serve := func(op string, status int) echo.HandlerFunc {
		return func(c echo.Context) error {
			s.served <- op
			body, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return err
			}
			time.Sleep(s.hold)
			// As a real handler's database call does, a request whose context ended fails.
			if err := c.Request().Context().Err(); err != nil {
				return apperr.Unavailable(err)
			}
			return c.JSON(status, map[string]any{"op": op, "read": len(body)})
		}
	}
	shopAPI := &httpserver.API{
		Name:     "shop",
		Spec:     doc,
		Prefixes: []string{"/shop"},
		Register: func(e *echo.Echo) {
			e.GET("/shop/items", serve("listItems", http.StatusOK))
			e.POST("/shop/items", serve("createItem", http.StatusCreated))
		},
		Render: renderShop,
	}
	adminAPI := &httpserver.API{
		Name:     "admin",
		Spec:     getSpec("/admin/ping"),
		Prefixes: []string{"/admin"},
		Register: func(e *echo.Echo) { e.GET("/admin/ping", serve("get/admin/ping", http.StatusOK)) },
		Render:   renderShop,
	}
	s.rules.Cover("shop")
	s.journal.Record("shop", doc)
	opts.APIs, opts.Faults, opts.Journal = []*httpserver.API{shopAPI, adminAPI}, s.rules, s.journal
	e, err := httpserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s.url, s.client = srv.URL, srv.Client()
	return s
}

// renderShop answers each error with its status and a body that names its kind.
func renderShop(err error, _ string) httpserver.Reply {
	status, kind := http.StatusInternalServerError, "internal"
	if s, ok := httpserver.TransportStatus(err); ok {
		status, kind = s, "transport"
	} else if apperr.Has(err, apperr.KindUnavailable) {
		status, kind = http.StatusServiceUnavailable, "unavailable"
	}
	return httpserver.Reply{Status: status, ContentType: "application/vnd.shop+json", Body: map[string]any{"kind": kind, "status": status}}
}

// add adds r to the shop's rules.
func (s *shop) add(t *testing.T, r fault.Rule) fault.Rule {
	t.Helper()
	r, err := s.rules.Add(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// do sends method path with body (none when empty) and returns the answer's status, headers
// and body, or the error of the exchange.
func (s *shop) do(ctx context.Context, method, path, body string) (int, http.Header, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, r)
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b), err
}

// notServed fails the test when a handler served a request since the last check.
func (s *shop) notServed(t *testing.T, what string) {
	t.Helper()
	select {
	case op := <-s.served:
		t.Errorf("%s: the handler of %s served it, want the request kept from the API", what, op)
	default:
	}
}

// last is the newest journal entry.
func (s *shop) last(t *testing.T) journal.Entry {
	t.Helper()
	es := s.journal.List(journal.Filter{Limit: 1})
	if len(es) == 0 {
		t.Fatal("the journal is empty")
	}
	return es[0]
}

// A status fault answers in the API's own dialect, as its renderer answers that status, with
// the rule's Retry-After when it has one; the request never reaches the API, and the journal
// keeps it as sent, with its answer and the rule.
func TestStatusFaultAnswersInTheAPIsDialect(t *testing.T) {
	s := newShop(t, httpserver.Options{}, nil)
	for _, c := range []struct {
		status     int
		retryAfter *int
		wantBody   string
	}{
		{503, ptr(7), `{"kind":"unavailable","status":503}`},
		{503, nil, `{"kind":"unavailable","status":503}`},
		{429, ptr(2), `{"kind":"transport","status":429}`},
		{500, nil, `{"kind":"internal","status":500}`},
		{404, nil, `{"kind":"transport","status":404}`},
	} {
		name := strconv.Itoa(c.status)
		if c.retryAfter != nil {
			name += " retry after " + strconv.Itoa(*c.retryAfter)
		}
		s.rules.Clear()
		r := s.add(t, fault.Rule{Match: fault.Matcher{Operation: "createItem"}, Action: fault.Action{Type: fault.Status, Status: c.status, RetryAfter: c.retryAfter}, Times: 1})
		const sent = `{"name":"widget"}`
		status, header, body, err := s.do(t.Context(), http.MethodPost, "/shop/items", sent)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantRetry := ""
		if c.retryAfter != nil {
			wantRetry = strconv.Itoa(*c.retryAfter)
		}
		if status != c.status || strings.TrimSpace(body) != c.wantBody || header.Get("Content-Type") != "application/vnd.shop+json" || header.Get("Retry-After") != wantRetry {
			t.Errorf("%s: answered %d %s %s, Retry-After %q; want %d %s application/vnd.shop+json, Retry-After %q",
				name, status, header.Get("Content-Type"), body, header.Get("Retry-After"), c.status, c.wantBody, wantRetry)
		}
		s.notServed(t, name)
		if e := s.last(t); e.Status != c.status || e.Fault == nil || *e.Fault != (journal.Fault{Rule: r.ID, Action: fault.Status}) ||
			e.RequestBody != sent || e.Operation != "createItem" {
			t.Errorf("%s: journaled %d %s fault %+v body %q, want %d createItem, rule %d's status fault, body %q",
				name, e.Status, e.Operation, e.Fault, e.RequestBody, c.status, r.ID, sent)
		}
		// The rule is used up: the next request is the API's.
		if status, _, _, err := s.do(t.Context(), http.MethodPost, "/shop/items", sent); err != nil || status != http.StatusCreated {
			t.Errorf("%s: the request after the fault: %d %v, want 201", name, status, err)
		}
		if op := <-s.served; op != "createItem" {
			t.Errorf("%s: served %s after the fault, want createItem", name, op)
		}
	}
}

// A drop fault closes the connection without an answer; the request never reaches the API and
// is journaled as sent, with status 0 and the rule.
func TestDropFaultClosesTheConnection(t *testing.T) {
	s := newShop(t, httpserver.Options{}, nil)
	r := s.add(t, fault.Rule{Match: fault.Matcher{API: "shop", Method: "post"}, Action: fault.Action{Type: fault.Drop}, Times: 1})
	const sent = `{"name":"widget"}`
	status, _, body, err := s.do(t.Context(), http.MethodPost, "/shop/items", sent)
	if err == nil {
		t.Fatalf("dropped request answered %d %s, want the connection closed", status, body)
	}
	s.notServed(t, "dropped request")
	e := s.last(t)
	if e.Status != 0 || e.Fault == nil || *e.Fault != (journal.Fault{Rule: r.ID, Action: fault.Drop}) || e.RequestBody != sent || e.ResponseBody != "" {
		t.Errorf("journaled status %d fault %+v request %q response %q; want status 0, rule %d's drop, request %q, no response",
			e.Status, e.Fault, e.RequestBody, e.ResponseBody, r.ID, sent)
	}
	if n := s.journal.Count(journal.Filter{Status: ptr(0), Faulted: ptr(true)}); n != 1 {
		t.Errorf("count of dropped requests %d, want 1", n)
	}
	if status, _, _, err := s.do(t.Context(), http.MethodPost, "/shop/items", sent); err != nil || status != http.StatusCreated {
		t.Errorf("the request after the drop: %d %v, want 201", status, err)
	}
}

// A delay fault ends as soon as the server starts shutting down: the request is then served at
// once, not after the rest of its delay.
func TestDelayFaultEndsWhenTheServerStops(t *testing.T) {
	stopping := make(chan struct{})
	s := newShop(t, httpserver.Options{Stopping: stopping}, nil)
	r := s.add(t, fault.Rule{Action: fault.Action{Type: fault.Delay, Delay: 30 * time.Second}})
	time.AfterFunc(100*time.Millisecond, func() { close(stopping) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	status, _, body, err := s.do(ctx, http.MethodGet, "/shop/items", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("a request delayed 30 s while the server stops: %d %s %v, want it served (200) before the test's 20 s", status, body, err)
	}
	if op := <-s.served; op != "listItems" {
		t.Errorf("served %s, want listItems", op)
	}
	if e := s.last(t); e.Status != http.StatusOK || e.Fault == nil || *e.Fault != (journal.Fault{Rule: r.ID, Action: fault.Delay}) {
		t.Errorf("journaled %d fault %+v, want 200 with rule %d's delay", e.Status, e.Fault, r.ID)
	}
}

// A delay does not count against the server's read and write timeouts: a request delayed past
// both is still read and answered in full, also by a handler that works longer than the read
// timeout (as it may without a fault).
func TestDelayFaultDoesNotEatTheTimeouts(t *testing.T) {
	const readTimeout, writeTimeout, delay = 300 * time.Millisecond, 1500 * time.Millisecond, 2 * time.Second
	s := newShop(t, httpserver.Options{ReadTimeout: readTimeout, WriteTimeout: writeTimeout}, func(srv *http.Server) {
		srv.ReadTimeout, srv.WriteTimeout = readTimeout, writeTimeout
	})
	s.hold = 2 * readTimeout
	s.add(t, fault.Rule{Action: fault.Action{Type: fault.Delay, Delay: delay}})
	// A body larger than the server's read buffer: its end is read from the connection after
	// the delay, under the read deadline.
	large := `{"pad":"` + strings.Repeat("x", 64<<10) + `"}`
	for _, c := range []struct {
		method, body string
		status       int
	}{
		{http.MethodGet, "", http.StatusOK},
		{http.MethodPost, large, http.StatusCreated},
	} {
		status, _, body, err := s.do(t.Context(), c.method, "/shop/items", c.body)
		if err != nil || status != c.status {
			t.Errorf("%s delayed %v past timeouts of %v and %v: %d %s %v, want %d", c.method, delay, readTimeout, writeTimeout, status, body, err, c.status)
			continue
		}
		var got struct{ Read int }
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.Read != len(c.body) {
			t.Errorf("%s: the handler read %d bytes of the body (%v), want %d", c.method, got.Read, err, len(c.body))
		}
		<-s.served
	}
}

// A delay ends when the client goes away: the request does not hold its handler for the rest of
// the delay.
func TestDelayFaultEndsWhenTheClientGoesAway(t *testing.T) {
	for _, c := range []struct{ method, body string }{
		{http.MethodGet, ""},
		// net/http watches the connection only once a body is read to its end.
		{http.MethodPost, `{"name":"delayed"}`},
	} {
		t.Run(c.method, func(t *testing.T) {
			injected := make(chan struct{}, 1)
			logger := slog.New(&onMessage{msg: "fault injected", signal: injected})
			s := newShop(t, httpserver.Options{Logger: logger}, nil)
			s.add(t, fault.Rule{Action: fault.Action{Type: fault.Delay, Delay: 30 * time.Second}})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, _, _, err := s.do(ctx, c.method, "/shop/items", c.body)
				done <- err
			}()
			select {
			case <-injected:
			case <-time.After(20 * time.Second):
				t.Fatal("the request did not reach the fault in 20 s")
			}
			cancel()
			if err := <-done; err == nil {
				t.Error("a cancelled request got an answer")
			}
			select {
			case <-s.served:
			case <-time.After(20 * time.Second):
				t.Fatal("the request still waits 20 s after its client went away")
			}
		})
	}
}

// onMessage is a slog handler that signals each record with the message msg.
type onMessage struct {
	msg    string
	signal chan<- struct{}
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.signal <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }

// Fault rules act only on the APIs they cover: an API they do not (as the control API), the
// operational endpoints and paths no API owns are served as usual under a rule that matches
// every request.
func TestFaultsApplyOnlyToTheAPIsCovered(t *testing.T) {
	s := newShop(t, httpserver.Options{}, nil)
	s.add(t, fault.Rule{Action: fault.Action{Type: fault.Status, Status: http.StatusServiceUnavailable}})
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/admin/ping", http.StatusOK},
		{"/healthz", http.StatusOK},
		{"/nowhere", http.StatusNotFound},
		{"/shop/items", http.StatusServiceUnavailable},
	} {
		status, _, body, err := s.do(t.Context(), http.MethodGet, c.path, "")
		if err != nil || status != c.status {
			t.Errorf("GET %s under a rule matching everything: %d %s %v, want %d", c.path, status, body, err, c.status)
		}
	}
	if r, _ := s.rules.Get(1); r.Matched != 1 || r.Applied != 1 {
		t.Errorf("the rule matched %d and applied to %d requests, want 1 and 1: the /shop one", r.Matched, r.Applied)
	}
}

func ptr[T any](v T) *T { return &v }
