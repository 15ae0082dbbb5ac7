package httpserver

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/journal"
)

// recording is what the journal keeps of one request while it is served: the first bytes of
// its body as the client sent it (before any Prepare) and of the answer.
type recording struct {
	req, res capped
	// The copying body and writer, in the same allocation.
	body   teeBody
	writer teeWriter
}

// capped keeps the first limit bytes written to it, and one more when there were more (the
// journal cuts them after masking, and says so); all of them when limit is negative.
type capped struct {
	bytes.Buffer
	limit int
}

func (b *capped) keep(p []byte) {
	if b.limit < 0 {
		b.Write(p)
		return
	}
	if room := b.limit + 1 - b.Len(); room > 0 {
		b.Write(p[:min(len(p), room)])
	}
}

// record starts recording req, the request of c, for the journal: its body is read through a
// copy, and the answer written through another.
func record(c echo.Context, req *http.Request, limit int) *recording {
	r := &recording{req: capped{limit: limit}, res: capped{limit: limit}}
	if req.Body != nil && req.Body != http.NoBody {
		if req.ContentLength > 0 {
			r.req.Grow(int(min(req.ContentLength, int64(limit)+1)))
		}
		r.body = teeBody{ReadCloser: req.Body, to: &r.req}
		req.Body = &r.body
	}
	res := c.Response()
	r.writer = teeWriter{ResponseWriter: res.Writer, to: &r.res}
	res.Writer = &r.writer
	return r
}

type teeBody struct {
	io.ReadCloser
	to *capped
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.to.keep(p[:n])
	return n, err
}

// teeWriter passes a response through while keeping a copy of its body.
type teeWriter struct {
	http.ResponseWriter
	to *capped
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.to.keep(p)
	return w.ResponseWriter.Write(p)
}

// Unwrap gives http.ResponseController the writer below (flushes, hijacks, deadlines).
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operation is the operationId of the route the request of c matched, or "unmatched".
func (s *server) operation(c echo.Context) string {
	if r, ok := s.validator.sent(c); ok {
		return r.route.Operation.OperationID
	}
	return "unmatched"
}

// journal adds the request of c, recorded in rec, with its answer to the journal.
func (s *server) journal(c echo.Context, req *http.Request, rec *recording, api, id string, start time.Time, elapsed time.Duration) {
	res := c.Response()
	e := journal.Entry{
		Time: start.UTC(), API: api, Operation: s.operation(c), Method: req.Method, Path: sentPath(c), Query: req.URL.RawQuery,
		Status: res.Status, Duration: elapsed, RequestID: id,
	}
	resHeader := res.Header()
	if hit, ok := faultOf(c); ok {
		e.Fault = &journal.Fault{Rule: hit.Rule, Action: hit.Action.Type}
		if hit.Action.Type == fault.Drop {
			resHeader = nil // nothing was sent
		}
	}
	s.opts.Journal.Add(e, req.Header, resHeader, rec.req.Bytes(), rec.res.Bytes(), req.Header.Get(echo.HeaderContentType), res.Header().Get(echo.HeaderContentType))
}
