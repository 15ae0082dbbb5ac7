package activeplatform

import "testing"

// TestRewritePath: ".json" is dropped from the paths of the operations only; any other path is
// left as sent, so that it answers the 404 of a path that names no operation.
func TestRewritePath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/vendor/v1/users.json":              "/api/vendor/v1/users",
		"/api/vendor/v1/users/12.json":           "/api/vendor/v1/users/12",
		"/api/vendor/v1/users/12":                "/api/vendor/v1/users/12",
		"/api/vendor/v1/users/12/x.json":         "/api/vendor/v1/users/12/x.json",
		"/api/vendor/v1/accounts/7/users.json":   "/api/vendor/v1/accounts/7/users",
		"/api/vendor/v1/accounts/7.json":         "/api/vendor/v1/accounts/7.json",
		"/api/vendor/v1/accounts/7/x/users.json": "/api/vendor/v1/accounts/7/x/users.json",
		"/api/v2/vendor/account_accesses.json":   "/api/v2/vendor/account_accesses",
		"/api/v2/vendor/account_accesses/1.json": "/api/v2/vendor/account_accesses/1.json",
		"/api/profiles.json":                     "/api/profiles.json",
	} {
		if got := rewritePath(in); got != want {
			t.Errorf("rewritePath(%s) = %s, want %s", in, got, want)
		}
	}
}
