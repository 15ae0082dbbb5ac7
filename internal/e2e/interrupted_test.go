package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
)

// instance is a provisiond process of one test, on its own port and a database of the test's
// choosing.
type instance struct {
	*process
	addr string
}

// url is where the instance serves.
func (in *instance) url() string { return "http://" + in.addr }

// startInstance starts the binary on dbURL with the suite's fixtures and extraEnv, waits until it
// is ready, and stops it when t ends (if the test has not). Then the test fails on every response
// the server found in breach of its spec and on every error it logged. Tests on servers of their
// own do not go through Prism: under make contract they are skipped (make test runs them).
func startInstance(t *testing.T, dbURL string, extraEnv ...string) *instance {
	t.Helper()
	if env.prism {
		t.Skip("a server of the test's own, without Prism: runs in make test")
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch(filepath.Join(t.TempDir(), "server.log"), env.bin, []string{"serve"}, append(serverEnv(dbURL, addr, env.fixtures), extraEnv...))
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{process: p, addr: addr}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			if _, err := p.terminate(); err != nil {
				t.Error(err)
			}
		}
		logs, _ := os.ReadFile(p.log)
		for _, v := range apitest.Violations(string(logs)) {
			t.Errorf("the server's response validation found: %s", v)
		}
		for _, r := range in.errorRecords(t) {
			t.Errorf("the server logged an error: %s", r)
		}
	})
	if err := waitReady(in.url()+"/readyz", p); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.log))
	}
	return in
}

// errorRecords are the records of the instance's log at level ERROR.
func (in *instance) errorRecords(t *testing.T) []string {
	t.Helper()
	logs, err := os.ReadFile(in.log)
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Records(string(logs), "ERROR")
}

// partial sends a request over a fresh connection whose headers declare a Content-Length larger
// than the body it sends, then half-closes the connection (the client stops sending) or, with
// halfClose false, sends nothing more (the client is slower than the read timeout), and reads the
// answer. An answer that takes more than a minute is a hang.
func (in *instance) partial(t *testing.T, method, target, media string, header []string, halfClose bool) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sent := `{"login":"short`
	if media == "application/x-www-form-urlencoded" {
		sent = "grant_type=pass"
	}
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", method, target, in.addr, media, len(sent)+100)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", header[i], header[i+1])
	}
	req.WriteString("\r\n" + sent)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: no answer: %v", method, target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	return res, body
}

// TestUnreadableBodiesOverARealSocket sends one operation of each API, over a real connection to
// the binary, a body shorter than its Content-Length followed by a half-close, and a body that
// stalls past the read timeout: each is answered with the API's own 400 (its response-validation
// mode checks the format), and nothing is logged as an error.
func TestUnreadableBodiesOverARealSocket(t *testing.T) {
	const (
		jsonMedia = "application/json"
		form      = "application/x-www-form-urlencoded"
	)
	cases := []struct {
		api, target, media string
		header             []string
	}{
		{"activeplatform", "/api/vendor/v1/users?api_token=" + key("activeplatform"), jsonMedia, nil},
		{"occadmin", "/ccadmin/v1/login", form, []string{"Authorization", "Bearer " + key("occadmin")}},
		{"occstore", "/ccstore/v1/login", form, nil},
		{"platformos", "/api/users", jsonMedia, []string{"Authorization", "Token token=" + key("platformos")}},
		{"xcart", "/api/profiles", jsonMedia, []string{"X-Auth-Token", key("xcart")}},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		in := startInstance(t, apitest.DatabaseURL(t, dialect), "PROVISIOND_READ_TIMEOUT=1s")
		for _, c := range cases {
			for _, halfClose := range []bool{true, false} {
				what := "cut short"
				if !halfClose {
					what = "stalled past the read timeout"
				}
				res, body := in.partial(t, "POST", c.target, c.media, c.header, halfClose)
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("%s POST %s, body %s: status %d %s, want 400", c.api, c.target, what, res.StatusCode, body)
				}
			}
		}
		if errs := in.errorRecords(t); len(errs) > 0 {
			t.Errorf("unreadable bodies logged %d errors, want none:\n%s", len(errs), strings.Join(errs, "\n"))
		}
	})
}
