package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/store"
)

// TestHTTPBound runs loadgen's HTTP bounds on every test database: each measured create is a 201
// of the bare handler and one row of the bound's table, as many rows as requests and the check.
func TestHTTPBound(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		kinds := []string{"http-gorm"}
		if dialect == "postgres" {
			kinds = append(kinds, "http-pgx")
		}
		for _, kind := range kinds {
			t.Run(kind, func(t *testing.T) {
				db := apitest.DatabaseURL(t, dialect)
				var stdout, stderr bytes.Buffer
				if rc := run([]string{"-bound", kind, "-db", db, "-c", "4", "-n", "40", "-conns", "2"}, func(string) string { return "" }, &stdout, &stderr); rc != 0 {
					t.Fatalf("loadgen -bound %s: exit %d\n%s%s", kind, rc, stdout.String(), stderr.String())
				}
				out := stdout.String()
				for _, want := range []string{"bound=" + kind + " url=http://127.0.0.1:", "answered: create 40", "non-2xx:      none", "transport:    0 errors"} {
					if !strings.Contains(out, want) {
						t.Errorf("loadgen -bound %s printed no %q:\n%s", kind, want, out)
					}
				}
				if got := boundRows(t, db); got != 41 {
					t.Errorf("loadgen -bound %s: %d rows in %s, want 41 (the check and 40 measured)", kind, got, boundTable)
				}
			})
		}
	})
}

func boundRows(t *testing.T, url string) int64 {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(db)
	var n int64
	if err := db.Table(boundTable).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBoundHandler: the bare handler answers a create like the server (201 with the id) and
// refuses what is not one.
func TestBoundHandler(t *testing.T) {
	b, err := openBound(context.Background(), "gorm", apitest.DatabaseURL(t, "sqlite"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	h := boundHandler(b)
	for _, c := range []struct {
		method, path, body string
		status             int
		answer             string // a pattern of the body
	}{
		{http.MethodPost, "/api/profiles", `{"login":"A@example.com"}`, http.StatusCreated, `^\{"id":1,"login":"A@example.com"\}\n$`},
		{http.MethodPost, "/api/profiles", `{"login":"b@example.com"}`, http.StatusCreated, `^\{"id":2,`},
		{http.MethodPost, "/api/profiles", `{"login":"a@EXAMPLE.com"}`, http.StatusInternalServerError, `^insert: `},
		{http.MethodPost, "/api/profiles", `{"name":"x"}`, http.StatusBadRequest, `login`},
		{http.MethodPost, "/api/profiles", `{`, http.StatusBadRequest, `login`},
		{http.MethodGet, "/api/profiles", ``, http.StatusNotFound, `POST /api/profiles`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		if rec.Code != c.status || !regexp.MustCompile(c.answer).MatchString(rec.Body.String()) {
			t.Errorf("%s %s %s: %d %q, want %d and a body like %s", c.method, c.path, c.body, rec.Code, rec.Body, c.status, c.answer)
		}
	}
}

// TestBoundFlags: -bound takes the four bounds only, and http-pgx, like pgx, PostgreSQL only.
func TestBoundFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-bound", "http", "-db", "x.db"}, "-bound must be gorm, pgx, http-gorm or http-pgx"},
		{[]string{"-bound", "http-pgx", "-db", "x.db", "-n", "1"}, "needs a PostgreSQL -db"},
		{[]string{"-bound", "http-gorm", "-n", "1"}, "-bound needs -db"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := run(c.args, func(string) string { return "" }, &stdout, &stderr); rc != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("loadgen %v: exit %d, %q; want 2 and %q", c.args, rc, stderr.String(), c.want)
		}
	}
}
