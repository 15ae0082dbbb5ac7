package httpserver

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fault"
)

// errInjected is the cause of the errors a status fault renders.
var errInjected = errors.New("injected by a fault rule")

// errDropped tells observe that a drop fault took the request: once it is journaled and logged,
// its connection is closed without an answer.
var errDropped = errors.New("dropped by a fault rule")

// faultKey is where the request's echo.Context keeps the fault.Hit that acted on it.
const faultKey = "provisiond.fault"

// inject applies the fault rule that fires on the request of c, if one does (Options.Faults): a
// status fault answers in the API's own error dialect and a drop fault ends the request, neither
// reaching the API; a delay fault waits, then lets the request go on.
func (s *server) inject(c echo.Context, next echo.HandlerFunc) error {
	if !s.opts.Faults.Active() {
		return next(c)
	}
	req := c.Request()
	api := s.apiFor(req.URL.Path)
	if api == nil {
		return next(c)
	}
	hit, ok := s.opts.Faults.Match(api.Name, s.operation(c), req.Method)
	if !ok {
		return next(c)
	}
	c.Set(faultKey, hit)
	s.opts.Logger.InfoContext(req.Context(), "fault injected", "rule", hit.Rule, "action", hit.Action.Type)
	switch hit.Action.Type {
	case fault.Delay:
		s.wait(c, api, hit.Delay)
		return next(c)
	case fault.Drop:
		s.drain(c, api)
		c.Response().Status = 0
		return errDropped
	}
	s.drain(c, api)
	reply := render(c, api, statusFault(hit.Action.Status))
	if ra := hit.Action.RetryAfter; ra != nil {
		c.Response().Header().Set("Retry-After", strconv.Itoa(*ra))
	}
	s.write(c, reply)
	return nil
}

// statusFault is an error that api.Render answers with status: an internal error for 500 (OCC's
// 22004), an outage for 503, and an error of the HTTP layer with the status for the others.
func statusFault(status int) error {
	switch status {
	case http.StatusInternalServerError:
		return apperr.Internal(errInjected)
	case http.StatusServiceUnavailable:
		return apperr.Unavailable(errInjected)
	}
	return echo.NewHTTPError(status, errInjected.Error())
}

// drain reads the body of a request a fault answers, up to the API's body limit (all of it
// without one, as the handler would): the journal keeps what the client sent, and the
// connection can carry the client's next request.
func (s *server) drain(c echo.Context, api *API) {
	body := c.Request().Body
	if body == nil || body == http.NoBody {
		return
	}
	if limit := s.bodyLimit(api); limit > 0 {
		_, _ = io.CopyN(io.Discard, body, limit)
		return
	}
	_, _ = io.Copy(io.Discard, body)
}

// bodyLimit is the size limit of api's request bodies; 0 or less for none.
func (s *server) bodyLimit(api *API) int64 {
	if api.BodyLimit > 0 {
		return api.BodyLimit
	}
	return s.opts.BodyLimit
}

// readAhead reads the body of the request of c before a delay, up to one byte past the API's
// body limit, and gives the handler the same bytes afterwards: once net/http has seen the end of
// a body it watches the connection, so the delay ends when the client goes away, with or without
// a body. It reports whether a part of the body is still unread (over the limit, or cut short).
func (s *server) readAhead(c echo.Context, api *API) (left bool) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	limit := s.bodyLimit(api)
	if limit > 0 && req.ContentLength > limit {
		return true // refused with 413 unread (limitBody)
	}
	var r io.Reader = req.Body
	if limit > 0 {
		r = io.LimitReader(req.Body, limit+1)
	}
	read, err := io.ReadAll(r)
	req.Body = readAhead{Reader: io.MultiReader(bytes.NewReader(read), req.Body), Closer: req.Body}
	return err != nil || (limit > 0 && int64(len(read)) > limit)
}

// readAhead is a request body whose first bytes were read ahead.
type readAhead struct {
	io.Reader
	io.Closer
}

// wait reads the body ahead (readAhead), then sleeps for d, or until the client goes away or the
// server starts shutting down. The request's read and write deadlines start again afterwards: the
// delay is not the request's own time. The read deadline only where a part of the body is left to
// read: without one, net/http is already reading ahead to notice the client going away, with no
// deadline, and a deadline passing there would cancel the request's context while its handler
// works.
func (s *server) wait(c echo.Context, api *API, d time.Duration) {
	left := s.readAhead(c, api)
	req := c.Request()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-req.Context().Done():
	case <-s.opts.Stopping:
	}
	rc := http.NewResponseController(c.Response().Writer)
	now := time.Now()
	if s.opts.ReadTimeout > 0 && left {
		_ = rc.SetReadDeadline(now.Add(s.opts.ReadTimeout))
	}
	if s.opts.WriteTimeout > 0 {
		_ = rc.SetWriteDeadline(now.Add(s.opts.WriteTimeout))
	}
}

// dropConnection closes the connection of c without an answer, as a drop fault asks. Where the
// connection cannot be taken over (HTTP/2), the handler aborts, which resets the stream.
func (s *server) dropConnection(c echo.Context) {
	conn, _, err := http.NewResponseController(c.Response().Writer).Hijack()
	if err != nil {
		s.opts.Logger.LogAttrs(c.Request().Context(), slog.LevelDebug, "drop fault: aborting the handler", slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// faultOf is the fault that acted on the request of c, if any.
func faultOf(c echo.Context) (fault.Hit, bool) {
	h, ok := c.Get(faultKey).(fault.Hit)
	return h, ok
}
