package occstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// benchEmails numbers the emails of every benchmark, so that no create ever meets a taken email.
var benchEmails atomic.Uint64

// emailDigits is the width of the number in a benchmark email.
const emailDigits = 12

// memberBody is a typical create request: the vendor's Leota example, an administrator and buyer
// with two dynamic properties. The email's digits are rewritten in place before each request.
func memberBody() []byte {
	b, err := json.Marshal(map[string]any{
		"firstName": "Leota", "lastName": "Dilliard", "roles": []map[string]string{{"function": "admin"}, {"function": "buyer"}},
		"active": true, "receiveEmail": "yes", "email": "m" + string(bytes.Repeat([]byte("0"), emailDigits)) + "@example.com",
		"Age": 30, "Nickname": "Leota",
	})
	if err != nil {
		panic(err)
	}
	return b
}

// memberBuf is one client's request body: its bytes are reused, only the email's number changes.
type memberBuf struct {
	b      []byte
	digits int // offset of the email's digits in b
	reader bytes.Reader
}

func newMemberBuf(template []byte) *memberBuf {
	b := bytes.Clone(template)
	i := bytes.Index(b, []byte(`"m0`))
	if i < 0 {
		panic("template has no email")
	}
	return &memberBuf{b: b, digits: i + 2}
}

// next numbers the email afresh and returns a reader over the body.
func (mb *memberBuf) next() io.Reader {
	n := benchEmails.Add(1)
	d := mb.b[mb.digits : mb.digits+emailDigits]
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	mb.reader.Reset(mb.b)
	return &mb.reader
}

var membersURL = &url.URL{Path: "/ccstore/v1/organizationMembers"}

// newMemberRequest builds a fresh POST /ccstore/v1/organizationMembers request over body, as
// net/http's server hands one to a handler (without httptest.NewRequest's parsing of a request line).
func newMemberRequest(body io.Reader, n int64, auth string) *http.Request {
	u := *membersURL
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Authorization": {auth}},
		Body:          io.NopCloser(body),
		ContentLength: n,
		Host:          "example.com",
		RemoteAddr:    "192.0.2.1:1234",
		RequestURI:    membersURL.Path,
	}
	return req.WithContext(context.Background())
}

// createMember serves one create request with a fresh email and returns the response when its
// status is not 200.
func createMember(h http.Handler, mb *memberBuf, auth string) *httptest.ResponseRecorder {
	body := mb.next()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newMemberRequest(body, int64(len(mb.b)), auth))
	if rec.Code != http.StatusOK {
		return rec
	}
	return nil
}

// benchServer is the whole server over a fresh SQLite database with the test fixtures, as in
// production (no response validation), and the Authorization header of Ada, a delegated
// administrator of Acme, logged in once.
func benchServer(tb testing.TB) (http.Handler, string) {
	tb.Helper()
	s := apitest.Start(tb, "sqlite", apitest.Options{Configure: func(c *config.Config) {
		c.FixturesFile = "testdata/fixtures.yaml"
		c.ValidateResponses = false
	}})
	return s.Handler, "Bearer " + fuzzLogin(tb, s)
}

// BenchmarkCreateMember measures one POST /ccstore/v1/organizationMembers (no password is
// involved) through http.Handler.ServeHTTP, over the whole server on SQLite:
//   - sqlite: one client;
//   - sqlite-parallel: 8 clients per CPU, for throughput under concurrency.
func BenchmarkCreateMember(b *testing.B) {
	body := memberBody()
	b.Run("sqlite", func(b *testing.B) {
		h, auth := benchServer(b)
		mb := newMemberBuf(body)
		if rec := createMember(h, mb, auth); rec != nil { // warm up, and fail early
			b.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
		}
		b.ReportAllocs()
		for b.Loop() {
			if rec := createMember(h, mb, auth); rec != nil {
				b.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("sqlite-parallel", func(b *testing.B) {
		h, auth := benchServer(b)
		if rec := createMember(h, newMemberBuf(body), auth); rec != nil {
			b.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
		}
		b.ReportAllocs()
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			mb := newMemberBuf(body)
			for pb.Next() {
				if rec := createMember(h, mb, auth); rec != nil {
					// Not b.Fatal: it must not be called from a RunParallel goroutine.
					b.Errorf("status %d, want 200: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	})
}

// TestBenchmarkCreateMember runs the benchmark's request once as a test, so that a broken
// benchmark shows in go test, and checks that the member it creates reads back as sent.
func TestBenchmarkCreateMember(t *testing.T) {
	s := apitest.Start(t, "sqlite", apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" }})
	auth := "Bearer " + fuzzLogin(t, s)
	mb := newMemberBuf(memberBody())
	if rec := createMember(s.Handler, mb, auth); rec != nil {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	// The same body through Call, which validates the response against the spec.
	mb.next()
	res := s.Call(t, http.MethodPost, membersURL.Path, bytes.Clone(mb.b), "Authorization", auth)
	if res.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", res.Status, res.Body)
	}
	var created struct{ ID string }
	res.JSON(t, &created)
	got := s.Call(t, http.MethodGet, membersURL.Path+"/"+created.ID, nil, "Authorization", auth).Map(t)
	var sent map[string]any
	if err := json.Unmarshal(mb.b, &sent); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"email", "firstName", "Age", "Nickname"} {
		if got[name] != sent[name] {
			t.Errorf("%s: read back %v, want %v", name, got[name], sent[name])
		}
	}
}
