package app_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/password"
)

// hashWaitServer is a server whose only password-hashing slot is held until the test ends, with
// the production's bounded wait (longer than any request here lasts) and the request deadline
// that a write timeout of writeTimeout gives.
func hashWaitServer(t *testing.T, dialect string, writeTimeout time.Duration) (*apitest.Server, *password.Hasher) {
	t.Helper()
	hasher := password.New(password.OWASP, 1).WithWait(time.Minute)
	s := apitest.Start(t, dialect, apitest.Options{
		Deps:      app.Deps{Hasher: hasher},
		Configure: func(c *config.Config) { c.WriteTimeout = writeTimeout },
	})
	release, err := hasher.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return s, hasher
}

// passwordCreate is an X-Cart create with a password, carrying the request id id.
func passwordCreate(s *apitest.Server, id string) string {
	body := fmt.Sprintf(`{"login":"%s@example.com","password":"waiting-passw0rd"}`, id)
	return fmt.Sprintf("POST /api/profiles HTTP/1.1\r\nHost: provisiond\r\nContent-Type: application/json\r\n"+
		"X-Auth-Token: %s\r\nX-Request-Id: %s\r\nContent-Length: %d\r\n\r\n%s", s.Keys["xcart"], id, len(body), body)
}

// TestClientThatHangsUpWhileWaitingToHash: a client that closes its connection while its create
// waits for a password-hashing slot, over a real connection, as a load tool's timeout does. The
// request is the client's cancellation: recorded as 499 at info level, no error logged, no 5xx
// counted.
func TestClientThatHangsUpWhileWaitingToHash(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, hasher := hashWaitServer(t, dialect, time.Minute)
		waiting := make(chan struct{}, 1)
		hasher.OnWait(func(context.Context) { waiting <- struct{}{} })
		srv := httptest.NewServer(s.Handler)
		defer srv.Close()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(passwordCreate(s, "hangs-up"))); err != nil {
			t.Fatal(err)
		}
		<-waiting
		_ = conn.Close()

		deadline := time.Now().Add(10 * time.Second) // a hang, not a timing measurement
		logged := func() bool {
			for line := range strings.Lines(s.Logs.String()) {
				if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"request_id":"hangs-up"`) {
					return true
				}
			}
			return false
		}
		for !logged() {
			if time.Now().After(deadline) {
				t.Fatalf("the request whose client hung up was never logged:\n%s", s.Logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if rec := accessRecord(t, s.Logs.String(), "hangs-up"); rec.Status != httpserver.StatusClientClosedRequest || rec.Level != "INFO" {
			t.Errorf("access log level %s status %d, want INFO 499", rec.Level, rec.Status)
		}
		noServerFault(t, s, "a client that hung up", "ERROR", "WARN")
	})
}

// noServerFault fails when s logged a record at any of levels, or counted a 5xx in its metrics:
// what happened (what) was not the server's fault.
func noServerFault(t *testing.T, s *apitest.Server, what string, levels ...string) {
	t.Helper()
	for _, level := range levels {
		if recs := apitest.Records(s.Logs.String(), level); len(recs) > 0 {
			t.Errorf("%s: %d records at %s, want none:\n%s", what, len(recs), level, strings.Join(recs, "\n"))
		}
	}
	if counts := requestCounts(t, s); strings.Contains(counts, `status="5`) {
		t.Errorf("%s: metrics count a server error:\n%s", what, counts)
	}
}

// TestDeadlineWhileWaitingToHash: a create whose own deadline (the server's request timeout,
// before the write timeout) passes while it waits for a password-hashing slot, its client still
// there, is the server's overload: answered 503 with Retry-After, logged as a warning, not an
// error.
func TestDeadlineWhileWaitingToHash(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, hasher := hashWaitServer(t, dialect, 2*time.Second)
		var waited atomic.Bool
		hasher.OnWait(func(context.Context) { waited.Store(true) })
		srv := httptest.NewServer(s.Handler)
		defer srv.Close()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte(passwordCreate(s, "deadline"))); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		_ = res.Body.Close()
		if !waited.Load() {
			t.Errorf("the create did not wait for a hashing slot")
		}
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != strconv.Itoa(httpserver.RetryAfterSeconds) {
			t.Errorf("answer %d, Retry-After %q; want 503 with Retry-After %d", res.StatusCode, res.Header.Get("Retry-After"), httpserver.RetryAfterSeconds)
		}
		if got := accessRecord(t, s.Logs.String(), "deadline"); got.Status != http.StatusServiceUnavailable {
			t.Errorf("access log status %d, want 503", got.Status)
		}
		if errs := apitest.Records(s.Logs.String(), "ERROR"); len(errs) > 0 {
			t.Errorf("a request past its deadline logged %d errors, want none:\n%s", len(errs), strings.Join(errs, "\n"))
		}
		if warns := apitest.Records(s.Logs.String(), "WARN"); len(warns) != 1 || !strings.Contains(warns[0], "unavailable") {
			t.Errorf("warnings %q, want one saying the request was refused as unavailable", warns)
		}
	})
}
