package activeplatform_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/activeplatform"
	"github.com/provisiond/provisiond/internal/apitest"
)

// accountsDoc defines the accounts of the tests: 7 and 9 active, 8 inactive.
const accountsDoc = `activeplatform:
  accounts:
    - {id: 7, name: Acme}
    - {id: 8, name: Closed, status: inactive}
    - {id: 9, name: Other, status: active}
`

// created creates a user with email and returns its id.
func (x *ap) created(t *testing.T, email string) string {
	t.Helper()
	res := x.call(t, "POST", "/api/vendor/v1/users", john(email))
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", email, res.Status, res.Body)
	}
	return fmt.Sprint(res.Map(t)["id"])
}

func (x *ap) attach(t *testing.T, path, query string) *apitest.Response {
	t.Helper()
	return x.call(t, "POST", path+"?"+query, nil)
}

// TestAttachRules: each case asserts the vendor's status and exact message, against the real
// server on both databases.
func TestAttachRules(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		ann, bob := x.created(t, "ann@example.com"), x.created(t, "bob@example.com")
		const path = "/api/v2/vendor/account_accesses"
		for _, c := range []struct {
			name, path, query string
			status            int
			want              string
		}{
			{"nothing", path, "", 400, "account_id is missing, user_id is missing"},
			{"no user", path, "account_id=7", 400, "user_id is missing"},
			{"not a number", path, "account_id=seven&user_id=" + ann, 400, "account_id is invalid"},
			{"bad role", path, "account_id=7&role=root&user_id=" + ann, 400, "role does not have a valid value"},
			{"unknown user", path, "account_id=7&user_id=2006106", 404, "Couldn't find User with 'id'=2006106"},
			{"unknown user and account", path, "account_id=2000533&user_id=2006106", 404, "Couldn't find User with 'id'=2006106"},
			{"unknown account", path, "account_id=2000533&user_id=" + ann, 404, "Couldn't find Account with 'id'=2000533"},
			{"owner", path + ".json", "account_id=7&role=owner&user_id=" + ann, 201, ""},
			{"twice, as another role", path, "account_id=7&role=admin&user_id=" + ann, 422, "User has already been taken"},
			{"twice, as owner again", path, "account_id=7&role=owner&user_id=" + ann, 422, "User has already been taken"},
			{"a second owner", path, "account_id=7&role=owner&user_id=" + bob, 422, "Account already has an owner"},
			{"empty role", path, "account_id=7&role=&user_id=" + bob, 201, ""},
			{"another account", path + ".json", "account_id=8&user_id=" + ann, 201, ""},
			{"owner of another account", path, "account_id=9&role=owner&user_id=" + bob, 201, ""},
		} {
			res := x.attach(t, c.path, c.query)
			got := ""
			if len(res.Body) > 0 {
				got = errorOf(t, res)
			}
			if res.Status != c.status || got != c.want {
				t.Errorf("%s (%s?%s): %d %q, want %d %q", c.name, c.path, c.query, res.Status, got, c.status, c.want)
			}
			if c.status == http.StatusCreated && len(res.Body) != 0 {
				t.Errorf("%s: a 201 with a body: %s", c.name, res.Body)
			}
		}
		var roles []string
		if err := x.DB.Raw("SELECT account_id || ':' || user_id || ':' || role FROM activeplatform_account_accesses ORDER BY account_id, user_id").Scan(&roles).Error; err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("7:%s:owner 7:%s:user 8:%s:user 9:%s:owner", ann, bob, ann, bob)
		if strings.Join(roles, " ") != want {
			t.Errorf("accesses %v, want %s", roles, want)
		}
	})
}

// TestStatusFollowsAccounts: a user is active while attached to an active account (vendor), in
// every response that shows a user: create, get, update, list, an account's users.
func TestStatusFollowsAccounts(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		res := x.call(t, "POST", "/api/vendor/v1/users.json", john("ann@example.com"))
		if s := res.Map(t)["status"]; res.Status != http.StatusCreated || s != "inactive" {
			t.Fatalf("create: %d %s, want 201 with status inactive", res.Status, res.Body)
		}
		ann := fmt.Sprint(res.Map(t)["id"])
		status := func(when string, want string) {
			t.Helper()
			for _, r := range []*apitest.Response{
				x.call(t, "GET", "/api/vendor/v1/users/"+ann+".json", nil),
				x.call(t, "PUT", "/api/vendor/v1/users/"+ann, map[string]any{"last_name": "Archer"}),
			} {
				if got := r.Map(t)["status"]; r.Status != http.StatusOK || got != want {
					t.Errorf("%s: %d %s, want status %s", when, r.Status, r.Body, want)
				}
			}
			var list []map[string]any
			x.call(t, "GET", "/api/vendor/v1/users?filters%5Bstatus%5D="+want, nil).JSON(t, &list)
			if len(list) != 1 || fmt.Sprint(list[0]["id"]) != ann || list[0]["status"] != want {
				t.Errorf("%s: the list of %s users is %v", when, want, list)
			}
			// The control API's neutral shape shows the same status, by id and in its list.
			neutral, err := activeplatform.Module.Users.Get(context.Background(), x.DB, ann)
			if err != nil || neutral.Status != want {
				t.Errorf("%s: the neutral user has status %q (%v), want %s", when, neutral.Status, err, want)
			}
			all, _, err := activeplatform.Module.Users.List(context.Background(), x.DB, 0, 10)
			if err != nil || len(all) != 1 || all[0].Status != want {
				t.Errorf("%s: the neutral list is %v (%v), want one user with status %s", when, all, err, want)
			}
		}
		status("attached to nothing", "inactive")
		x.attach(t, "/api/v2/vendor/account_accesses", "account_id=8&user_id="+ann)
		status("attached to an inactive account", "inactive")
		x.attach(t, "/api/v2/vendor/account_accesses", "account_id=7&user_id="+ann)
		status("attached to an active account", "active")
		apply(t, x, "activeplatform:\n  accounts: [{id: 7, name: Acme, status: inactive}]\n", true)
		status("its account deactivated", "inactive")
		apply(t, x, "activeplatform:\n  accounts: [{id: 7, name: Acme}]\n", true)
		status("its account active again", "active")
		// A user deactivated globally stays inactive, attached or not.
		apply(t, x, "activeplatform:\n  users: [{email: ann@example.com, first_name: Ann, last_name: Archer, password: ann-secret-1, status: inactive}]\n", true)
		status("deactivated globally", "inactive")
	})
}

// TestAccountUsers: GET /api/vendor/v1/accounts/{id}/users(.json) answers the account's users by
// id, with their status; an unknown account, or an id that is none, is a 404.
func TestAccountUsers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		ann, bob, cy := x.created(t, "ann@example.com"), x.created(t, "bob@example.com"), x.created(t, "cy@example.com")
		for _, q := range []string{"account_id=7&user_id=" + cy, "account_id=7&user_id=" + ann, "account_id=8&user_id=" + bob, "account_id=8&user_id=" + cy} {
			if res := x.attach(t, "/api/v2/vendor/account_accesses", q); res.Status != http.StatusCreated {
				t.Fatalf("attach %s: %d %s", q, res.Status, res.Body)
			}
		}
		brief := func(path string) string {
			return x.listed(t, path, " ", func(u map[string]any) string { return fmt.Sprintf("%v:%v", u["email"], u["status"]) })
		}
		for _, c := range []struct{ path, want string }{
			{"/api/vendor/v1/accounts/7/users.json", "ann@example.com:active cy@example.com:active"},
			{"/api/vendor/v1/accounts/7/users", "ann@example.com:active cy@example.com:active"},
			{"/api/vendor/v1/accounts/8/users.json", "bob@example.com:inactive cy@example.com:active"},
			{"/api/vendor/v1/accounts/9/users.json", ""},
		} {
			if got := brief(c.path); got != c.want {
				t.Errorf("GET %s: %s, want %s", c.path, got, c.want)
			}
		}
		for _, c := range []struct{ path, want string }{
			{"/api/vendor/v1/accounts/2000533/users.json", "Couldn't find Account with 'id'=2000533"},
			{"/api/vendor/v1/accounts/abc/users.json", "Couldn't find Account with 'id'=abc"},
			{"/api/vendor/v1/accounts/0/users", "Couldn't find Account with 'id'=0"},
		} {
			if res := x.call(t, "GET", c.path, nil); res.Status != http.StatusNotFound || errorOf(t, res) != c.want {
				t.Errorf("GET %s: %d %s, want 404 %q", c.path, res.Status, res.Body, c.want)
			}
		}
		if res := x.Call(t, "GET", "/api/vendor/v1/accounts/7/users.json", nil); res.Status != http.StatusUnauthorized || errorOf(t, res) != "401 Unauthorized" {
			t.Errorf("without a token: %d %s", res.Status, res.Body)
		}
	})
}

// TestUnknownPaths: a path under ActivePlatform's prefixes that names no operation answers
// Grape's 404 {"error"}; the paths of /api/ that other APIs own keep their own dialects.
func TestUnknownPaths(t *testing.T) {
	x := start(t, "sqlite", nil)
	for _, path := range []string{
		"/api/v2/vendor/nothing", "/api/v2/vendor/account_accesses/1", "/api/vendor/v1/accounts/7",
		"/api/vendor/v1/accounts/7/users/1.json", "/api/vendor/v2/users", "/api/v2/vendor/",
	} {
		res := x.call(t, "GET", path, nil)
		if res.Status != http.StatusNotFound || res.Header.Get("Content-Type") != "application/json" || errorOf(t, res) != "404 Not Found" {
			t.Errorf("GET %s: %d %s %s, want 404 {\"error\":\"404 Not Found\"}", path, res.Status, res.Header.Get("Content-Type"), res.Body)
		}
	}
	// A method the path does not take: Grape's 405 in the same dialect.
	if res := x.call(t, "GET", "/api/v2/vendor/account_accesses", nil); res.Status != http.StatusMethodNotAllowed || errorOf(t, res) != "405 Method Not Allowed" {
		t.Errorf("GET account_accesses: %d %s", res.Status, res.Body)
	}
	// Not ActivePlatform's: /api/v2/ outside vendor/, and the rest of /api/.
	for _, path := range []string{"/api/v2/other", "/api/nothing"} {
		if res := x.Call(t, "GET", path, nil); strings.Contains(string(res.Body), `"error":"404 Not Found"`) {
			t.Errorf("GET %s answered in ActivePlatform's dialect: %d %s", path, res.Status, res.Body)
		}
	}
}

// TestConcurrentAttach races attachments on both databases: the same user to the same account
// (one 201, every other a 422 "User has already been taken", one access stored), and different
// users as the owner of one account (one owner).
func TestConcurrentAttach(t *testing.T) {
	const n = 8
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		users := make([]string, n)
		for i := range users {
			users[i] = x.created(t, fmt.Sprintf("racer%d@example.com", i))
		}
		for round := range apitest.RaceRounds(t) {
			account := []string{"7", "8", "9"}[round%3]
			same := apitest.Concurrently(n, func(i int) *apitest.Response {
				return x.attach(t, "/api/v2/vendor/account_accesses.json", fmt.Sprintf("account_id=%s&user_id=%s&role=admin", account, users[round]))
			})
			owners := apitest.Concurrently(n, func(i int) *apitest.Response {
				return x.attach(t, "/api/v2/vendor/account_accesses", fmt.Sprintf("account_id=%s&user_id=%s&role=owner", account, users[i]))
			})
			for name, c := range map[string]struct {
				res  []*apitest.Response
				want string
			}{"same access": {same, "User has already been taken"}, "owners": {owners, ""}} {
				created := 0
				for _, res := range c.res {
					switch {
					case res.Status == http.StatusCreated:
						created++
					case res.Status != http.StatusUnprocessableEntity:
						t.Errorf("round %d, %s: %d %s, want 201 or 422", round, name, res.Status, res.Body)
					case c.want != "" && errorOf(t, res) != c.want:
						t.Errorf("round %d, %s: %s, want %q", round, name, res.Body, c.want)
					}
				}
				if created != 1 {
					t.Errorf("round %d, %s: %d created, want 1", round, name, created)
				}
			}
			var pairs, ownersStored int64
			x.DB.Raw("SELECT COUNT(*) FROM activeplatform_account_accesses WHERE account_id = ? AND user_id = ?", account, users[round]).Scan(&pairs)
			x.DB.Raw("SELECT COUNT(*) FROM activeplatform_account_accesses WHERE account_id = ? AND role = 'owner'", account).Scan(&ownersStored)
			if pairs != 1 || ownersStored != 1 {
				t.Errorf("round %d: %d accesses of user %s and %d owners of account %s stored, want 1 and 1", round, pairs, users[round], ownersStored, account)
			}
		}
	})
}

// An attach that races the deletion of its user (as a control API reset deletes everything) is
// answered as the vendor answers an unknown user, never with a 500 from the foreign key.
func TestAttachRacesDeletion(t *testing.T) {
	const n = 6
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		for round := range apitest.RaceRounds(t) {
			user := x.created(t, fmt.Sprintf("doomed%d@example.com", round))
			answers := apitest.Concurrently(n+1, func(i int) *apitest.Response {
				if i == n {
					// Refused by the foreign key once an access exists: then the user stays.
					x.DB.Exec("DELETE FROM activeplatform_users WHERE id = ?", user)
					return nil
				}
				return x.attach(t, "/api/v2/vendor/account_accesses", fmt.Sprintf("account_id=%d&user_id=%s", 7+2*(i%2), user))
			})
			for _, res := range answers[:n] {
				// Two attaches of one account: one is 201, the other 422 (or 404 once the user is gone).
				if res.Status != http.StatusCreated && res.Status != http.StatusNotFound && res.Status != http.StatusUnprocessableEntity {
					t.Errorf("round %d: attach racing the user's deletion: %d %s, want 201, 404 or 422", round, res.Status, res.Body)
				}
			}
		}
	})
}
