package xcart_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// seedProfiles inserts n profiles with one SQL statement, logins user1@example.com to
// userN@example.com, none an administrator.
func seedProfiles(tb testing.TB, db *gorm.DB, n int) {
	tb.Helper()
	apitest.SeedSQL(tb, db, db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return tx.Exec(`INSERT INTO xcart_profiles (login, login_key, access_level, status, status_comment, referer,
			ga_client_id, language, force_change_password, role_ids, stored_selectors, mail_chimp_lists,
			mail_chimp_interests, mail_chimp_segments, create_date)
			SELECT 'User' || n || '@Example.com', 'user' || n || '@example.com', 0, 'E', '', '', '', 'en', ?,
			'[]', '[]', '[]', '[]', '[]', ? FROM `+apitest.Series(db, n), false, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}))
}

// listServer is the whole server over a fresh database of dialect with n profiles, as in
// production (no response validation), its X-Auth-Token header, and a record of its SQL.
func listServer(tb testing.TB, dialect string, n int) (*apitest.Server, http.Header, *apitest.Statements) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) { c.ValidateResponses = false }})
	seedProfiles(tb, s.DB, n)
	return s, http.Header{"X-Auth-Token": {s.Keys["xcart"]}}, apitest.RecordSQL(tb, s.DB)
}

// listCases are the lists the benchmark requests: a login partial search that matches one
// profile whatever n (the measure of a search that stays flat), one whose matches grow with n
// (user1234, user12340…, 1, 11, 111 and 1111 of them from 10,000 to a million profiles), a first
// page and a deep page (the last but one) without a filter.
func listCases(n int) []apitest.ListCase {
	return []apitest.ListCase{
		{Name: "login-search-one", Query: "login=uSer1234%40&itemsPerPage=10"},
		{Name: "login-search", Query: "login=uSer1234&itemsPerPage=10"},
		{Name: "first-page", Query: "page=1&itemsPerPage=10"},
		{Name: "deep-page", Query: fmt.Sprintf("page=%d&itemsPerPage=10", n/10-1)},
	}
}

// BenchmarkListProfiles measures GET /api/profiles over n seeded profiles (apitest.BenchLists).
func BenchmarkListProfiles(b *testing.B) {
	apitest.BenchLists(b, "/api/profiles", listServer, listCases)
}

// TestListProfilesIndexed runs the benchmark's requests over a few hundred profiles: each answers
// the profiles it should, and on PostgreSQL the login search is served by the trigram index.
func TestListProfilesIndexed(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, header, sql := listServer(t, dialect, 300)
		get := func(query string) []string {
			res := s.Call(t, http.MethodGet, "/api/profiles?"+query, nil, "X-Auth-Token", header.Get("X-Auth-Token"))
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", query, res.Status, res.Body)
			}
			var profiles []struct{ Login string }
			res.JSON(t, &profiles)
			var logins []string
			for _, p := range profiles {
				logins = append(logins, p.Login)
			}
			return logins
		}
		sql.Take()
		if got := strings.Join(get("login=uSer12&itemsPerPage=5&page=2"), " "); got != "User124@Example.com User125@Example.com User126@Example.com User127@Example.com User128@Example.com" {
			t.Errorf("login search, page 2: %s", got)
		}
		if dialect == "postgres" {
			apitest.UsesIndex(t, s.DB, sql.Matching("login_key LIKE"), "idx_xcart_profiles_login_key_trgm", "enable_seqscan = off", "enable_indexscan = off")
		}
		if got := get("page=29&itemsPerPage=10"); len(got) != 10 || got[0] != "User281@Example.com" || got[9] != "User290@Example.com" {
			t.Errorf("page 29: %v", got)
		}
	})
}
