package occadmin_test

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

// seedProfiles inserts n admin profiles with one SQL statement, emails admin1@example.com to
// adminN@example.com.
func seedProfiles(tb testing.TB, db *gorm.DB, n int) {
	tb.Helper()
	apitest.SeedSQL(tb, db, db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return tx.Exec(`INSERT INTO occadmin_profiles (email, email_key, first_name, last_name, active, roles, registration_date)
			SELECT 'Admin' || n || '@Example.com', 'admin' || n || '@example.com', 'First', 'Last', ?, '[]', ? FROM `+
			apitest.Series(db, n), true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}))
}

// listServer is the whole server over a fresh database of dialect with n admin profiles, as in
// production (no response validation), its Authorization header, and a record of its SQL.
func listServer(tb testing.TB, dialect string, n int) (*apitest.Server, http.Header, *apitest.Statements) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) { c.ValidateResponses = false }})
	res := s.Call(tb, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", "Content-Type", form, "Authorization", "Bearer "+s.Keys["occadmin"])
	if res.Status != http.StatusOK {
		tb.Fatalf("login: %d %s", res.Status, res.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(tb, &tok)
	seedProfiles(tb, s.DB, n)
	return s, http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, apitest.RecordSQL(tb, s.DB)
}

// listCases are the lists the benchmark and its test request: the SCIM email filters (a few
// profiles each; email-co-one one profile whatever n, email-co one at 2,000 profiles but 1,111 at a
// million) and a deep offset without a filter.
func listCases(n int) []apitest.ListCase {
	return []apitest.ListCase{
		{Name: "email-co-one", Query: "q=" + url.QueryEscape(`email co "MIN1234@"`) + "&limit=10"},
		{Name: "email-co", Query: "q=" + url.QueryEscape(`email co "MIN1234"`) + "&limit=10"},
		{Name: "email-sw", Query: "q=" + url.QueryEscape(`email sw "Admin1234"`) + "&limit=10"},
		{Name: "email-eq", Query: "q=" + url.QueryEscape(`email eq "Admin1234@example.com"`) + "&limit=10"},
		{Name: "deep-offset", Query: fmt.Sprintf("offset=%d&limit=10", n-20)},
	}
}

// BenchmarkListAdminProfiles measures GET /ccadmin/v1/adminProfiles over n seeded profiles
// (apitest.BenchLists).
func BenchmarkListAdminProfiles(b *testing.B) {
	apitest.BenchLists(b, "/ccadmin/v1/adminProfiles", listServer, listCases)
}

// TestListAdminProfilesIndexed runs the benchmark's requests over a few thousand profiles: each
// answers the profiles and the total it should, and its statements (the count and the page) are
// served by an index of the email key: eq and sw on both databases, co on PostgreSQL (its
// trigram index).
func TestListAdminProfilesIndexed(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		const n = 2000
		s, header, sql := listServer(t, dialect, n)
		apitest.CheckOCCLists(t, s, "/ccadmin/v1/adminProfiles", header, sql, listCases(n), map[string]apitest.OCCPage{
			"email-co-one": {Emails: []string{"Admin1234@Example.com"}, Total: 1},
			"email-co":     {Emails: []string{"Admin1234@Example.com"}, Total: 1},
			"email-sw":     {Emails: []string{"Admin1234@Example.com"}, Total: 1},
			"email-eq":     {Emails: []string{"Admin1234@Example.com"}, Total: 1},
			"deep-offset":  {Emails: []string{"Admin1981@Example.com", "Admin1982@Example.com"}, Total: n},
		}, "idx_occadmin_profiles_email_key")
	})
}
