package apitest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// EnvBenchRows lists the table sizes of the list benchmarks, comma-separated (for example
// 1000000); 10000 and 100000 when it is not set.
const EnvBenchRows = "PROVISIOND_BENCH_ROWS"

// EnvBenchSQL, when set, makes the list benchmarks print every SQL statement the server issues,
// with its arguments, once per benchmark case (to EXPLAIN them).
const EnvBenchSQL = "PROVISIOND_BENCH_SQL"

// BenchRows are the table sizes a list benchmark seeds (EnvBenchRows).
func BenchRows(tb testing.TB) []int {
	v := os.Getenv(EnvBenchRows)
	if v == "" {
		return []int{10_000, 100_000}
	}
	var rows []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s: %q is not a row count", EnvBenchRows, f)
		}
		rows = append(rows, n)
	}
	return rows
}

// Series is a FROM item of the numbers 1 to n as the column n of g, on db's dialect, for seeding
// n rows in one INSERT … SELECT … FROM Series(db, n).
func Series(db *gorm.DB, n int) string {
	if db.Name() == "postgres" {
		return fmt.Sprintf("generate_series(1, %d) AS g(n)", n)
	}
	return fmt.Sprintf("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) SELECT n FROM s) AS g", n)
}

// SeedSQL runs each statement on db, without the database timeout, then ANALYZE, so that the
// planner knows the seeded tables; on PostgreSQL VACUUM ANALYZE, as autovacuum does after a bulk
// insert, so that index-only scans need not visit the table.
func SeedSQL(tb testing.TB, db *gorm.DB, statements ...string) {
	tb.Helper()
	db = db.WithContext(store.Unbounded(context.Background()))
	analyze := "ANALYZE"
	if db.Name() == "postgres" {
		analyze = "VACUUM ANALYZE"
	}
	for _, s := range append(statements, analyze) {
		if err := db.Exec(s).Error; err != nil {
			tb.Fatalf("seed: %v\n%s", err, s)
		}
	}
}

// Statements records the SQL statements run through a database handle, with their arguments.
type Statements struct {
	mu  sync.Mutex
	all []Statement
}

// Statement is one SQL statement and its arguments.
type Statement struct {
	SQL  string
	Vars []any
	InTx bool // run inside a transaction (one BEGIN and one COMMIT more, per transaction)
}

// RecordSQL records every statement db runs from now on (GORM's create, query, update, delete,
// row and raw callbacks), until tb ends. BEGIN and COMMIT are not statements of GORM's and are
// not recorded; a statement run inside a transaction says so (Statement.InTx).
func RecordSQL(tb testing.TB, db *gorm.DB) *Statements {
	tb.Helper()
	r := &Statements{}
	name := fmt.Sprintf("apitest:record:%p", r)
	record := func(tx *gorm.DB) {
		sql := tx.Statement.SQL.String()
		if sql == "" || tx.DryRun { // not run: an earlier callback failed, or a subquery being built
			return
		}
		_, inTx := tx.Statement.ConnPool.(gorm.TxCommitter)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.all = append(r.all, Statement{SQL: sql, Vars: append([]any(nil), tx.Statement.Vars...), InTx: inTx})
	}
	cb := db.Callback()
	procs := []struct {
		register func() error
		remove   func() error
	}{
		{func() error { return cb.Create().After("gorm:create").Register(name, record) }, func() error { return cb.Create().Remove(name) }},
		{func() error { return cb.Query().After("gorm:query").Register(name, record) }, func() error { return cb.Query().Remove(name) }},
		{func() error { return cb.Update().After("gorm:update").Register(name, record) }, func() error { return cb.Update().Remove(name) }},
		{func() error { return cb.Delete().After("gorm:delete").Register(name, record) }, func() error { return cb.Delete().Remove(name) }},
		{func() error { return cb.Row().After("gorm:row").Register(name, record) }, func() error { return cb.Row().Remove(name) }},
		{func() error { return cb.Raw().After("gorm:raw").Register(name, record) }, func() error { return cb.Raw().Remove(name) }},
	}
	for _, p := range procs {
		if err := p.register(); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		for _, p := range procs {
			_ = p.remove()
		}
	})
	return r
}

// Take returns the statements recorded since the last Take and forgets them.
func (r *Statements) Take() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := r.all
	r.all = nil
	return all
}

// Matching are the statements of r.Take() whose SQL contains each of parts.
func (r *Statements) Matching(parts ...string) []Statement {
	var out []Statement
next:
	for _, s := range r.Take() {
		for _, p := range parts {
			if !strings.Contains(s.SQL, p) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// Plan is the query plan db's planner chooses for s, one line per node: EXPLAIN on PostgreSQL,
// after the planner settings pg (such as "enable_seqscan = off", so that an index that can serve
// is chosen even over a table too small to need it); EXPLAIN QUERY PLAN on SQLite.
func Plan(tb testing.TB, db *gorm.DB, s Statement, pg ...string) string {
	tb.Helper()
	var lines []string
	err := db.Transaction(func(tx *gorm.DB) error {
		explain := "EXPLAIN QUERY PLAN "
		if tx.Name() == "postgres" {
			explain = "EXPLAIN "
			for _, set := range pg {
				if err := tx.Exec("SET LOCAL " + set).Error; err != nil {
					return err
				}
			}
		}
		rows, err := tx.Raw(explain+s.SQL, s.Vars...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
		}
		return rows.Err()
	})
	if err != nil {
		tb.Fatalf("explain %s: %v", s.SQL, err)
	}
	return strings.Join(lines, "\n")
}

// BenchGet measures GET path on h, whose answer must have status want, and, with EnvBenchSQL,
// prints the statements it issued once (recorded by r, when not nil).
func BenchGet(b *testing.B, h http.Handler, path string, header http.Header, want int, r *Statements) {
	b.Helper()
	get := func() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("GET %s: status %d, want %d: %s", path, rec.Code, want, rec.Body)
		}
	}
	if r != nil && os.Getenv(EnvBenchSQL) != "" {
		r.Take()
		get()
		for _, s := range r.Take() {
			b.Logf("%s %v", s.SQL, s.Vars)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// UsesIndex fails tb unless statements holds a statement and the plan of each (Plan, with the
// PostgreSQL planner settings pg) searches index: names it, on SQLite in a SEARCH (a SCAN of an
// index reads all of it).
func UsesIndex(tb testing.TB, db *gorm.DB, statements []Statement, index string, pg ...string) {
	tb.Helper()
	planNames(tb, db, statements, index, func(line string) bool {
		return db.Name() == "postgres" || strings.HasPrefix(strings.TrimSpace(line), "SEARCH")
	}, pg...)
}

// OrdersByIndex fails tb unless statements holds a statement and the plan of each (Plan, with
// the PostgreSQL planner settings pg) reads index (in its order, where the statement sorts by
// its columns: an index scan, not a sort of every row).
func OrdersByIndex(tb testing.TB, db *gorm.DB, statements []Statement, index string, pg ...string) {
	tb.Helper()
	planNames(tb, db, statements, index, func(string) bool { return true }, pg...)
}

func planNames(tb testing.TB, db *gorm.DB, statements []Statement, index string, ok func(line string) bool, pg ...string) {
	tb.Helper()
	if len(statements) == 0 {
		tb.Errorf("no statement recorded that should use %s", index)
	}
	for _, s := range statements {
		plan := Plan(tb, db, s, pg...)
		found := false
		for _, line := range strings.Split(plan, "\n") {
			found = found || strings.Contains(line, index) && ok(line)
		}
		if !found {
			tb.Errorf("%s does not use %s:\n%s", s.SQL, index, plan)
		}
	}
}

// ListCase is one request of a list benchmark: its name and its query string.
type ListCase struct{ Name, Query string }

// ListServer starts a server over a fresh database of dialect with n rows seeded, and returns
// it, the headers that authenticate a list request, and a record of its SQL.
type ListServer func(tb testing.TB, dialect string, n int) (*Server, http.Header, *Statements)

// BenchLists measures GET path?query for each case of cases(n), over n seeded rows
// (BenchRows), on each database of Dialects: one sub-benchmark dialect/n/case each.
func BenchLists(b *testing.B, path string, start ListServer, cases func(n int) []ListCase) {
	for _, dialect := range Dialects() {
		for _, n := range BenchRows(b) {
			b.Run(fmt.Sprintf("%s/%d", dialect, n), func(b *testing.B) {
				s, header, sql := start(b, dialect, n)
				for _, c := range cases(n) {
					b.Run(c.Name, func(b *testing.B) {
						BenchGet(b, s.Handler, path+"?"+c.Query, header, http.StatusOK, sql)
					})
				}
			})
		}
	}
}

// OCCPage is what an OCC list request of a test should answer: the emails its page starts with, and its
// total.
type OCCPage struct {
	Emails []string
	Total  int
}

// CheckOCCLists requests path?query of each of cases on s with header, an OCC list (OCC admin's
// or store's: items with an email, and a total): each must answer the page want names for it,
// and the statements of each case named email-… are served by index (the prefix of an index's
// name; UsesIndex): all on PostgreSQL, all but the email-co cases (a scan) on SQLite.
func CheckOCCLists(t *testing.T, s *Server, path string, header http.Header, sql *Statements,
	cases []ListCase, want map[string]OCCPage, index string) {
	t.Helper()
	for _, c := range cases {
		sql.Take()
		res := s.Call(t, http.MethodGet, path+"?"+c.Query, nil, "Authorization", header.Get("Authorization"))
		var page struct {
			Items []struct{ Email string }
			Total int
		}
		res.JSON(t, &page)
		var got []string
		for _, p := range page.Items {
			got = append(got, p.Email)
		}
		w := want[c.Name]
		if len(got) < len(w.Emails) || fmt.Sprint(got[:len(w.Emails)]) != fmt.Sprint(w.Emails) || page.Total != w.Total {
			t.Errorf("%s: %v of %d, want %v first of %d", c.Name, got, page.Total, w.Emails, w.Total)
		}
		if !strings.HasPrefix(c.Name, "email-") || strings.HasPrefix(c.Name, "email-co") && s.DB.Name() == "sqlite" {
			continue
		}
		UsesIndex(t, s.DB, sql.Matching("email_key"), index, "enable_seqscan = off", "enable_indexscan = off")
	}
}
