package app_test

import (
	"encoding/json"
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
	"github.com/provisiond/provisiond/internal/config"
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

// records are the JSON log records of logs at level.
func records(t *testing.T, logs, level string) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(logs) {
		var rec struct {
			Level string `json:"level"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec.Level == level {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
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
		if errs := records(t, s.Logs.String(), "ERROR"); len(errs) > 0 {
			t.Errorf("unreadable bodies logged %d errors, want none:\n%s", len(errs), strings.Join(errs, "\n"))
		}
		metrics := s.Call(t, "GET", "/metrics", nil)
		for line := range strings.Lines(string(metrics.Body)) {
			if strings.HasPrefix(line, "provisiond_http_requests_total{") && strings.Contains(line, `status="5`) {
				t.Errorf("metrics count a server error: %s", strings.TrimSpace(line))
			}
		}
	})
}
