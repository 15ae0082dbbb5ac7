package occstore_test

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

// seedMembers inserts n members of Acme (the test fixtures' or-acme) with two SQL statements,
// emails member1@example.com to memberN@example.com.
func seedMembers(tb testing.TB, db *gorm.DB, n int) {
	tb.Helper()
	apitest.SeedSQL(tb, db, db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return tx.Exec(`INSERT INTO occstore_members (email, email_key, first_name, last_name, active, receive_email, roles,
			dynamic, parent_organization_id, created_at)
			SELECT 'Member' || n || '@Example.com', 'member' || n || '@example.com', 'First', 'Last', ?, 'yes', ',buyer,',
			'{}', 'or-acme', ? FROM `+apitest.Series(db, n), true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}), `INSERT INTO occstore_memberships (member_id, organization_id)
		SELECT id, 'or-acme' FROM occstore_members WHERE email_key LIKE 'member%'`)
}

// listServer is the server of benchServer with n more members of Acme, the Authorization
// header of Ada, Acme's administrator, and a record of its SQL.
func listServer(tb testing.TB, dialect string, n int) (*apitest.Server, http.Header, *apitest.Statements) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) {
		c.FixturesFile = "testdata/fixtures.yaml"
		c.ValidateResponses = false
	}})
	header := http.Header{"Authorization": {"Bearer " + fuzzLogin(tb, s)}}
	seedMembers(tb, s.DB, n)
	return s, header, apitest.RecordSQL(tb, s.DB)
}

// listCases are the lists the benchmark and its test request: the SCIM email filters (a few
// members each) and a deep offset without a filter.
func listCases(n int) []apitest.ListCase {
	return []apitest.ListCase{
		{Name: "email-co", Query: "q=" + url.QueryEscape(`email co "MBER1234"`) + "&limit=10"},
		{Name: "email-sw", Query: "q=" + url.QueryEscape(`email sw "Member1234"`) + "&limit=10"},
		{Name: "email-eq", Query: "q=" + url.QueryEscape(`email eq "Member1234@example.com"`) + "&limit=10"},
		{Name: "deep-offset", Query: fmt.Sprintf("offset=%d&limit=10", n-20)},
	}
}

// BenchmarkListMembers measures GET /ccstore/v1/organizationMembers over n seeded members of
// the caller's organization (apitest.BenchLists).
func BenchmarkListMembers(b *testing.B) {
	apitest.BenchLists(b, membersPath, listServer, listCases)
}

// TestListMembersIndexed runs the benchmark's requests over a few thousand members: each answers
// the members and the total it should, and the statements of the email filters are served by an
// index of the email key: eq and sw on both databases, co on PostgreSQL (its trigram index).
func TestListMembersIndexed(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		const n = 2000
		s, header, sql := listServer(t, dialect, n)
		// Acme's two fixtures members come first: offset n-20 is member n-21.
		apitest.CheckOCCLists(t, s, membersPath, header, sql, listCases(n), map[string]apitest.OCCPage{
			"email-co":    {Emails: []string{"Member1234@Example.com"}, Total: 1},
			"email-sw":    {Emails: []string{"Member1234@Example.com"}, Total: 1},
			"email-eq":    {Emails: []string{"Member1234@Example.com"}, Total: 1},
			"deep-offset": {Emails: []string{fmt.Sprintf("Member%d@Example.com", n-21)}, Total: n + 2},
		}, "idx_occstore_members_email_key")
	})
}
