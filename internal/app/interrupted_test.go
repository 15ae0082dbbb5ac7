package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/openapi"
)

// bodyOperation is an operation of a spec that takes a request body.
type bodyOperation struct {
	api, method, path, id string
	media                 []string // sorted
	security              openapi3.SecurityRequirements
	schemes               openapi3.SecuritySchemes
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// bodyOperations lists, from the specs, every operation of every API that takes a request body.
func bodyOperations(t *testing.T) []bodyOperation {
	t.Helper()
	var out []bodyOperation
	for _, api := range openapi.Names() {
		_, doc, err := openapi.Load(api)
		if err != nil {
			t.Fatal(err)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.RequestBody == nil || op.RequestBody.Value == nil {
					continue
				}
				o := bodyOperation{api: api, method: method, path: path, id: op.OperationID, security: doc.Security, schemes: doc.Components.SecuritySchemes}
				if op.Security != nil {
					o.security = *op.Security
				}
				for mt := range op.RequestBody.Value.Content {
					o.media = append(o.media, mt)
				}
				slices.Sort(o.media)
				out = append(out, o)
			}
		}
	}
	slices.SortFunc(out, func(a, b bodyOperation) int { return strings.Compare(a.api+" "+a.id, b.api+" "+b.id) })
	if len(out) == 0 {
		t.Fatal("no operation of the specs takes a request body")
	}
	return out
}

// unreadableFixtures gives the OCC store API a member who can log in.
const unreadableFixtures = `
occstore:
  organizations:
    - id: or-acme
      name: Acme
      admins:
        - {email: ada@acme.example, firstName: Ada, lastName: Admin, password: ada-password}
`

// testCredentials are the valid credentials of each security scheme of each API ("api/scheme"),
// as the scheme's header or query parameter carries them.
func testCredentials(t *testing.T, s *apitest.Server) map[string]string {
	t.Helper()
	token := func(res *apitest.Response) string {
		t.Helper()
		if res.Status != http.StatusOK {
			t.Fatalf("login: %d %s", res.Status, res.Body)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		res.JSON(t, &tok)
		return tok.AccessToken
	}
	form := "application/x-www-form-urlencoded"
	return map[string]string{
		"xcart/Token":             s.Keys["xcart"],
		"platformos/Token":        "Token token=" + s.Keys["platformos"],
		"activeplatform/ApiToken": s.Keys["activeplatform"],
		"control/ControlKey":      s.Keys["control"],
		"occadmin/ApplicationKey": s.Keys["occadmin"],
		"occadmin/AccessToken": token(s.Call(t, "POST", "/ccadmin/v1/login", "grant_type=client_credentials",
			"Content-Type", form, "Authorization", "Bearer "+s.Keys["occadmin"])),
		"occstore/AccessToken": token(s.Call(t, "POST", "/ccstore/v1/login", "grant_type=password&username=ada@acme.example&password=ada-password",
			"Content-Type", form)),
	}
}

// authorize gives req the credentials of the first security requirement of op that creds can
// meet; the test fails when there is none, so that a new scheme gets its test credential.
func authorize(t *testing.T, req *http.Request, op bodyOperation, creds map[string]string) {
	t.Helper()
	if len(op.security) == 0 {
		return
	}
requirements:
	for _, req0 := range op.security {
		for name := range req0 {
			if _, ok := creds[op.api+"/"+name]; !ok {
				continue requirements
			}
		}
		for name := range req0 {
			scheme, value := op.schemes[name].Value, creds[op.api+"/"+name]
			switch {
			case scheme.Type == "apiKey" && scheme.In == "header":
				req.Header.Set(scheme.Name, value)
			case scheme.Type == "apiKey" && scheme.In == "query":
				q := req.URL.Query()
				q.Set(scheme.Name, value)
				req.URL.RawQuery = q.Encode()
			case scheme.Type == "http" && strings.EqualFold(scheme.Scheme, "bearer"):
				req.Header.Set("Authorization", "Bearer "+value)
			default:
				t.Fatalf("%s %s: security scheme %s (%s) is not one this test can send", op.api, op.id, name, scheme.Type)
			}
		}
		return
	}
	t.Fatalf("%s %s: no test credential meets its security %v: add one to testCredentials", op.api, op.id, op.security)
}

// failingBody yields data, then fails with err: a client that stops sending (io.ErrUnexpectedEOF)
// or whose body arrives slower than the server's read timeout (os.ErrDeadlineExceeded, a
// net.Error whose Timeout() is true).
type failingBody struct {
	data []byte
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, b.err
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

// TestUnreadableBodiesAreTheClientsError sends every operation of the specs that takes a request
// body, with valid credentials, a body that fails while the server reads it: one that ends before
// its Content-Length, and one slower than the read timeout. Each is the client's fault: the API's
// own 400 for a malformed body (apitest checks it against the spec), nothing logged as an error,
// no 5xx counted.
func TestUnreadableBodiesAreTheClientsError(t *testing.T) {
	fixtures := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(fixtures, []byte(unreadableFixtures), 0o600); err != nil {
		t.Fatal(err)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = fixtures }})
		creds := testCredentials(t, s)
		for _, op := range bodyOperations(t) {
			for _, media := range op.media {
				for _, failure := range []struct {
					name string
					err  error
				}{{"cut short", io.ErrUnexpectedEOF}, {"too slow", os.ErrDeadlineExceeded}} {
					sent := `{"`
					if media == "application/x-www-form-urlencoded" {
						sent = "a="
					}
					target := (&url.URL{Path: pathParam.ReplaceAllString(op.path, "1")}).String()
					req := httptest.NewRequest(op.method, target, &failingBody{data: []byte(sent), err: failure.err})
					req.ContentLength = int64(len(sent)) + 100
					req.Header.Set("Content-Type", media)
					authorize(t, req, op, creds)
					res := s.Do(t, req)
					if res.Status != http.StatusBadRequest {
						t.Errorf("%s %s %s, %s body %s: status %d %s, want 400", op.api, op.method, target, media, failure.name, res.Status, res.Body)
					}
				}
			}
		}
		noServerFault(t, s, "unreadable bodies", "ERROR")
	})
}

// TestClientThatGoesAwayIsNotAServerError sends X-Cart creates with a password whose client goes
// away: while the request waits for a password-hashing slot (the only one held), and before its
// credential is looked up in the database. Each is recorded as 499 in the access log and the
// metrics, below error level, and answered with nothing: no one is left to read it.
func TestClientThatGoesAwayIsNotAServerError(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		hasher := password.New(password.OWASP, 1)
		s := apitest.Start(t, dialect, apitest.Options{Deps: app.Deps{Hasher: hasher}})
		release, err := hasher.Hold(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()

		waited := false
		cases := []struct {
			name string
			// goAway cancels the request: at once, or from the hasher's wait hook.
			goAway func(cancel context.CancelFunc)
			waits  bool
		}{
			{"while waiting for a hashing slot", func(cancel context.CancelFunc) {
				hasher.OnWait(func(context.Context) {
					waited = true
					cancel()
				})
			}, true},
			{"before its credential is looked up", func(cancel context.CancelFunc) {
				hasher.OnWait(nil)
				cancel()
			}, false},
		}
		for i, c := range cases {
			waited = false
			ctx, cancel := context.WithCancel(context.Background())
			id := fmt.Sprintf("gone-%d", i)
			body := fmt.Sprintf(`{"login":"gone%d@example.com","password":"gone-passw0rd"}`, i)
			req := httptest.NewRequest("POST", "/api/profiles", strings.NewReader(body)).WithContext(ctx)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Auth-Token", s.Keys["xcart"])
			req.Header.Set("X-Request-Id", id)
			c.goAway(cancel)
			rec := httptest.NewRecorder()
			s.Handler.ServeHTTP(rec, req)
			if waited != c.waits {
				t.Errorf("create %s: waited for a hashing slot: %v, want %v", c.name, waited, c.waits)
			}
			if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
				t.Errorf("create %s: answered %d %s %s, want nothing", c.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if got := accessRecord(t, s.Logs.String(), id); got.Status != httpserver.StatusClientClosedRequest || got.Level != "INFO" {
				t.Errorf("create %s: access log level %s status %d, want INFO 499", c.name, got.Level, got.Status)
			}
		}
		if errs := apitest.Records(s.Logs.String(), "ERROR"); len(errs) > 0 {
			t.Errorf("clients that went away logged %d errors, want none:\n%s", len(errs), strings.Join(errs, "\n"))
		}
		counts := requestCounts(t, s)
		if want := `provisiond_http_requests_total{api="xcart",method="POST",route="/api/profiles",status="499"} 2`; !strings.Contains(counts, want) {
			t.Errorf("metrics lack %s:\n%s", want, counts)
		}
		if strings.Contains(counts, `status="5`) {
			t.Errorf("metrics count a server error:\n%s", counts)
		}
	})
}

// accessRecord is the access-log record ("request") of the request with the id.
func accessRecord(t *testing.T, logs, id string) (rec struct {
	Level  string `json:"level"`
	Status int    `json:"status"`
}) {
	t.Helper()
	for line := range strings.Lines(logs) {
		var r struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.Msg == "request" && r.RequestID == id {
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			return rec
		}
	}
	t.Fatalf("no access-log record of request %s in:\n%s", id, logs)
	return rec
}

// requestCounts are the lines of the server's metrics that count requests.
func requestCounts(t *testing.T, s *apitest.Server) string {
	t.Helper()
	var b strings.Builder
	for line := range strings.Lines(string(s.Call(t, "GET", "/metrics", nil).Body)) {
		if strings.HasPrefix(line, "provisiond_http_requests_total{") {
			b.WriteString(line)
		}
	}
	return b.String()
}
