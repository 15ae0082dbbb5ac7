package occstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/occstore"
	"github.com/provisiond/provisiond/internal/store"
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

// benchServer is the whole server over a fresh database of dialect with the test fixtures, as in
// production (no response validation), and the Authorization header of Ada, a delegated
// administrator of Acme, logged in once.
func benchServer(tb testing.TB, dialect string) (http.Handler, string) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) {
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
		h, auth := benchServer(b, "sqlite")
		apitest.BenchSequential(b, h, creates(body, auth), http.StatusOK)
	})
	b.Run("sqlite-parallel", func(b *testing.B) {
		h, auth := benchServer(b, "sqlite")
		apitest.BenchParallel(b, h, func() *apitest.Creates { return creates(body, auth) }, http.StatusOK, 8)
	})
}

// updateBody changes a member's first name, to a value of its own for each request, and one of
// its dynamic properties.
var updateBody = []byte(`{"firstName":"F` + apitest.CreateNumber + `","Nickname":"Lee"}`)

// updates is one client's stream of updates of the member at path, renumbered as creates are.
func updates(path, auth string) *apitest.Creates {
	return apitest.NewCreates(http.MethodPut, path, http.Header{"Content-Type": {"application/json"}, "Authorization": {auth}}, updateBody)
}

// updateServer is benchServer with one member of Acme, and the path of that member.
func updateServer(tb testing.TB, dialect string) (http.Handler, string, string) {
	tb.Helper()
	h, auth := benchServer(tb, dialect)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, creates(memberBody(), auth).Next())
	if rec.Code != http.StatusOK {
		tb.Fatalf("create the member to update: %d %s", rec.Code, rec.Body)
	}
	var m struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		tb.Fatal(err)
	}
	return h, auth, membersPath + "/" + m.ID
}

// BenchmarkUpdateMember measures one PUT /ccstore/v1/organizationMembers/{id} that changes a
// field and a dynamic property, through http.Handler.ServeHTTP over the whole server, on SQLite
// and (with PROVISIOND_TEST_DATABASE_URL) PostgreSQL:
//   - <dialect>: one client;
//   - <dialect>-parallel: 8 clients per CPU, all updating the same member, the worst case for the
//     lock an update holds on its row.
func BenchmarkUpdateMember(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			h, auth, path := updateServer(b, dialect)
			apitest.BenchSequential(b, h, updates(path, auth), http.StatusOK)
		})
		b.Run(dialect+"-parallel", func(b *testing.B) {
			h, auth, path := updateServer(b, dialect)
			apitest.BenchParallel(b, h, func() *apitest.Creates { return updates(path, auth) }, http.StatusOK, 8)
		})
	}
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

// BenchmarkSeed10k measures one apply of a fixtures section of 10,000 members of one
// organization, each with a password_hash (a bcrypt one, so no hashing), on SQLite and (with
// PROVISIOND_TEST_DATABASE_URL) PostgreSQL:
//   - <dialect>/create: into empty tables (emptied before each apply, untimed);
//   - <dialect>/update: over the same members, all of them updated.
func BenchmarkSeed10k(b *testing.B) {
	f, err := parse(bulkDoc(10000, bcryptHash(b, "bulk-password")))
	if err != nil {
		b.Fatal(err)
	}
	loader := fixtures.New(module.List{occstore.Module})
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect+"/create", func(b *testing.B) {
			s := apitest.Start(b, dialect, apitest.Options{})
			for range b.N {
				b.StopTimer()
				if err := s.DB.Transaction(func(tx *gorm.DB) error { return store.Reset(ctx, tx, occstore.Module.Tables()) }); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := loader.Apply(ctx, s.DB, f, true); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(dialect+"/update", func(b *testing.B) {
			s := apitest.Start(b, dialect, apitest.Options{})
			if _, err := loader.Apply(ctx, s.DB, f, true); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := loader.Apply(ctx, s.DB, f, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
