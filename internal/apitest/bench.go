package apitest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// CreateNumber stands in a create benchmark's body template where the number that makes each
// body unique (an email, a login) goes.
const CreateNumber = "000000000000"

// createNumbers numbers the creates of every benchmark of a test binary, so that no create
// meets a taken email or login.
var createNumbers atomic.Uint64

// Creates is one benchmark client's stream of create requests: one body, reused, whose
// CreateNumber is renumbered before each request, so that no body is allocated per request.
type Creates struct {
	method string
	url    url.URL
	header http.Header
	body   []byte
	digits int // offset of CreateNumber in body
	reader bytes.Reader
}

// NewCreates starts a stream of method path requests with header and a copy of template, which
// must hold CreateNumber.
func NewCreates(method, path string, header http.Header, template []byte) *Creates {
	b := bytes.Clone(template)
	i := bytes.Index(b, []byte(CreateNumber))
	if i < 0 {
		panic("apitest: the template holds no CreateNumber")
	}
	return &Creates{method: method, url: url.URL{Path: path}, header: header, body: b, digits: i}
}

// Next numbers the body afresh and returns a request over it.
func (c *Creates) Next() *http.Request {
	n := createNumbers.Add(1)
	d := c.body[c.digits : c.digits+len(CreateNumber)]
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return c.Again()
}

// Again returns a request over the body as it is, with the number of the last one.
func (c *Creates) Again() *http.Request {
	c.reader.Reset(c.body)
	u := c.url
	// As net/http's server hands a request to a handler, without httptest.NewRequest's parsing
	// of a request line.
	req := &http.Request{
		Method:        c.method,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        c.header.Clone(),
		Body:          io.NopCloser(&c.reader),
		ContentLength: int64(len(c.body)),
		Host:          "example.com",
		RemoteAddr:    "192.0.2.1:1234",
		RequestURI:    u.Path,
	}
	return req.WithContext(context.Background())
}

// Body is the body of the last request.
func (c *Creates) Body() []byte { return c.body }

// Serve serves the next request on h and returns the response when its status is not want. The
// request's context can be canceled, as net/http's server makes it (canceled when the client goes
// away, and once the handler returns): database drivers watch such a context (database/sql and
// SQLite start a watcher per statement), which a context that can never end would hide from the
// figures.
func (c *Creates) Serve(h http.Handler, want int) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.ServeHTTP(rec, c.Next().WithContext(ctx))
	if rec.Code != want {
		return rec
	}
	return nil
}

// BenchSequential measures one client: each iteration serves the next create of c on h, which
// must answer want.
func BenchSequential(b *testing.B, h http.Handler, c *Creates, want int) {
	if rec := c.Serve(h, want); rec != nil { // warm up, and fail early
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rec := c.Serve(h, want); rec != nil {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

// BenchParallel measures clients concurrent clients per GOMAXPROCS, each with its own stream
// from newCreates.
func BenchParallel(b *testing.B, h http.Handler, newCreates func() *Creates, want, clients int) {
	if rec := newCreates().Serve(h, want); rec != nil {
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
	b.ReportAllocs()
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := newCreates()
		for pb.Next() {
			if rec := c.Serve(h, want); rec != nil {
				// Not b.Fatal: it must not be called from a RunParallel goroutine.
				b.Errorf("status %d, want %d: %s", rec.Code, want, rec.Body)
				return
			}
		}
	})
}
