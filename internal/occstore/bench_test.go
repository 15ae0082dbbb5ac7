package occstore_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// memberBody is a typical create request: the vendor's Leota example, an administrator and buyer
// with two dynamic properties. The email's digits are rewritten in place before each request.
func memberBody() []byte {
	b, err := json.Marshal(map[string]any{
		"firstName": "Leota", "lastName": "Dilliard", "roles": []map[string]string{{"function": "admin"}, {"function": "buyer"}},
		"active": true, "receiveEmail": "yes", "email": "m" + apitest.CreateNumber + "@example.com",
		"Age": 30, "Nickname": "Leota",
	})
	if err != nil {
		panic(err)
	}
	return b
}

const membersPath = "/ccstore/v1/organizationMembers"

// creates is one client's stream of member creates with body, sent with the Authorization
// header auth.
func creates(body []byte, auth string) *apitest.Creates {
	return apitest.NewCreates(http.MethodPost, membersPath, http.Header{"Content-Type": {"application/json"}, "Authorization": {auth}}, body)
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
		apitest.BenchSequential(b, h, creates(body, auth), http.StatusOK)
	})
	b.Run("sqlite-parallel", func(b *testing.B) {
		h, auth := benchServer(b)
		apitest.BenchParallel(b, h, func() *apitest.Creates { return creates(body, auth) }, http.StatusOK, 8)
	})
}

// TestBenchmarkCreateMember runs the benchmark's request once as a test, so that a broken
// benchmark shows in go test, and checks that the member it creates reads back as sent.
func TestBenchmarkCreateMember(t *testing.T) {
	s := apitest.Start(t, "sqlite", apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" }})
	auth := "Bearer " + fuzzLogin(t, s)
	c := creates(memberBody(), auth)
	if rec := c.Serve(s.Handler, http.StatusOK); rec != nil {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	// The same body, numbered afresh, through Call, which validates the response against the spec.
	c.Next()
	res := s.Call(t, http.MethodPost, membersPath, bytes.Clone(c.Body()), "Authorization", auth)
	if res.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", res.Status, res.Body)
	}
	var created struct{ ID string }
	res.JSON(t, &created)
	got := s.Call(t, http.MethodGet, membersPath+"/"+created.ID, nil, "Authorization", auth).Map(t)
	var sent map[string]any
	if err := json.Unmarshal(c.Body(), &sent); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"email", "firstName", "Age", "Nickname"} {
		if got[name] != sent[name] {
			t.Errorf("%s: read back %v, want %v", name, got[name], sent[name])
		}
	}
}
