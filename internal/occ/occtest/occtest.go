// Package occtest holds what the tests of both OCC APIs share.
package occtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// Page is what a list request of a test should answer: the emails its page starts with, and its
// total.
type Page struct {
	Emails []string
	Total  int
}

// CheckLists requests path?query of each of cases on s with header: each must answer the page
// want names for it, and the statements of each case named email-… are served by index (the
// prefix of an index's name; apitest.UsesIndex): all on PostgreSQL, all but email-co (a scan) on
// SQLite.
func CheckLists(t *testing.T, s *apitest.Server, path string, header http.Header, sql *apitest.Statements,
	cases []apitest.ListCase, want map[string]Page, index string) {
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
		if !strings.HasPrefix(c.Name, "email-") || c.Name == "email-co" && s.DB.Name() == "sqlite" {
			continue
		}
		apitest.UsesIndex(t, s.DB, sql.Matching("email_key"), index, "enable_seqscan = off", "enable_indexscan = off")
	}
}
