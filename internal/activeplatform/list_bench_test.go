package activeplatform_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// seedUsers inserts n users with one SQL statement: emails ap1@example.com to apN@example.com,
// first names First0 to First999, last names Last0 to Last996, every tenth deactivated globally
// (inactive) and the others attached to an active account (active).
func seedUsers(tb testing.TB, db *gorm.DB, n int) {
	tb.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apitest.SeedSQL(tb, db, db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return tx.Exec(`INSERT INTO activeplatform_users (email, email_key, first_name, middle_name, last_name,
			password_hash, status, attributes, created_at, updated_at)
			SELECT 'AP' || n || '@Example.com', 'ap' || n || '@example.com', 'First' || (n % 1000), '', 'Last' || (n % 997),
			'x', CASE WHEN n % 10 = 0 THEN 'inactive' ELSE 'active' END, '[]', ?, ? FROM `+apitest.Series(db, n), at, at)
	}))
	apitest.SeedSQL(tb, db, `INSERT INTO activeplatform_accounts (id, name, status) VALUES (1, 'Acme', 'active')`)
	apitest.SeedSQL(tb, db, `INSERT INTO activeplatform_account_accesses (user_id, account_id, role)
		SELECT id, 1, 'user' FROM activeplatform_users WHERE status = 'active'`)
}

// listServer is the whole server over a fresh database of dialect with n users, as in
// production (no response validation), and a record of its SQL. Its API token goes in the query
// (listCases), not in a header.
func listServer(tb testing.TB, dialect string, n int) (*apitest.Server, http.Header, *apitest.Statements) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) { c.ValidateResponses = false }})
	seedUsers(tb, s.DB, n)
	return s, http.Header{}, apitest.RecordSQL(tb, s.DB)
}

// listCases are the lists the benchmark and its test request, with the API token: an email
// contains-search (one user), a sort by last name reversed, and a deep page of the inactive
// users by id.
func listCases(token string) func(n int) []apitest.ListCase {
	return func(n int) []apitest.ListCase {
		t := "api_token=" + url.QueryEscape(token) + "&"
		return []apitest.ListCase{
			{Name: "email-contains", Query: t + "filters%5Bemail%5D=AP1234%40"},
			{Name: "sort-last-name", Query: t + "sorting%5Bfield%5D=last_name&sorting%5Breversed%5D=true&per_page=25"},
			{Name: "status-deep-page", Query: t + fmt.Sprintf("filters%%5Bstatus%%5D=inactive&per_page=25&page=%d", n/250-1)},
		}
	}
}

// BenchmarkListUsers measures GET /api/vendor/v1/users over n seeded users (apitest.BenchLists).
func BenchmarkListUsers(b *testing.B) {
	var token string
	start := func(tb testing.TB, dialect string, n int) (*apitest.Server, http.Header, *apitest.Statements) {
		s, header, sql := listServer(tb, dialect, n)
		token = s.Keys["activeplatform"]
		return s, header, sql
	}
	apitest.BenchLists(b, "/api/vendor/v1/users", start, func(n int) []apitest.ListCase { return listCases(token)(n) })
}

// TestListUsersIndexed runs the benchmark's requests over a few thousand users: each answers the
// users it should, and its statements use the indexes the list needs: the email search the
// trigram index on PostgreSQL (a scan on SQLite), the sort its b-tree index on both databases.
// The status filter has no index of its own to use: a user's status is derived from its
// accounts (looked up by their primary keys), so its deep page is checked for its answer only.
func TestListUsersIndexed(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		const n = 2500
		s, _, sql := listServer(t, dialect, n)
		want := map[string][]string{
			"email-contains": {"AP1234@Example.com"},
			// Last996 (996 and 1993) sorts last as text, then Last995; equal names by id, reversed.
			"sort-last-name": {"AP1993@Example.com", "AP996@Example.com", "AP1992@Example.com", "AP995@Example.com"},
			// Page 9 of 25 of the 250 inactive users (every tenth): the 201st to the 225th.
			"status-deep-page": {"AP2010@Example.com", "AP2020@Example.com"},
		}
		index := map[string]string{
			"email-contains": "idx_activeplatform_users_email_key_trgm",
			"sort-last-name": "idx_activeplatform_users_last_name_id",
		}
		for _, c := range listCases(s.Keys["activeplatform"])(n) {
			sql.Take()
			res := s.Call(t, http.MethodGet, "/api/vendor/v1/users?"+c.Query, nil)
			var users []struct{ Email string }
			res.JSON(t, &users)
			var got []string
			for _, u := range users {
				got = append(got, u.Email)
			}
			w := want[c.Name]
			if len(got) < len(w) || fmt.Sprint(got[:len(w)]) != fmt.Sprint(w) {
				t.Errorf("%s: %v, want %v first", c.Name, got, w)
			}
			statements := sql.Matching("activeplatform_users")
			switch {
			case c.Name == "email-contains" && dialect == "postgres":
				apitest.UsesIndex(t, s.DB, statements[:1], index[c.Name], "enable_seqscan = off", "enable_indexscan = off")
			case c.Name == "sort-last-name":
				apitest.OrdersByIndex(t, s.DB, statements[:1], index[c.Name], "enable_seqscan = off")
			}
		}
	})
}
