package platformos_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestUpdateIDsThatNameNoUser: a user id that cannot be a stored one (not an integer, out of
// 1..9223372036854775807, holding U+0000) gets the 404 of an id no user has, whatever the body
// (the request's schema problems too), never a 400 or a 500; an id in range that no user has is
// the same 404 for a body the schema accepts.
func TestUpdateIDsThatNameNoUser(t *testing.T) {
	unknown := []string{"9223372036854775807", "999999"}
	impossible := []string{"0", "-1", "abc", "1.5", "1e3", "9223372036854775808", "99999999999999999999", "%00", "1%00", "%001", "%20"}
	bodies := []any{
		create("reference_rest_api_update_user", map[string]any{"first_name": "X"}),
		map[string]any{"form": map[string]any{"first_name": "X\x00"}},
		create("nope", map[string]any{"featured": "yes"}),
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, id := range append(unknown, impossible...) {
			for i, body := range bodies {
				if i > 0 && slices.Contains(unknown, id) {
					break
				}
				res := x.call(t, http.MethodPut, "/api/users/"+id, body)
				if res.Status != http.StatusNotFound || errs(t, res) != "base: User not found" {
					t.Errorf("PUT /api/users/%s %v: %d %q, want 404 base: User not found", id, body, res.Status, errs(t, res))
				}
			}
		}
	})
}

// TestLoginRefusals: a login body's schema problems, U+0000 included, are 422s on their fields;
// a body naming no form configuration is the vendor's 406.
func TestLoginRefusals(t *testing.T) {
	cases := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"U+0000 in the email", create("reference_rest_api_create_session", map[string]any{"email": "a\x00@example.com", "password": "abcdef"}), 422, "email: is invalid"},
		{"U+0000 in both", create("reference_rest_api_create_session", map[string]any{"email": "a\x00@example.com", "password": "abc\x00def"}), 422, "email: is invalid; password: is invalid"},
		{"U+0000 in the name", create("reference_rest_api_create_session\x00", map[string]any{"email": "a@example.com", "password": "abcdef"}), 422, "form_configuration_name: is invalid"},
		{"no name", map[string]any{"form": map[string]any{"email": "a@example.com", "password": "abcdef"}}, 406, "form_configuration_name: can't be blank"},
		{"an unknown name", create("nope", map[string]any{"email": "a@example.com", "password": "abcdef"}), 406, "form_configuration_name: is not a known form configuration"},
		{"wrong credentials", create("reference_rest_api_create_session", map[string]any{"email": "a@example.com", "password": "abcdef"}), 422, "base: Invalid email or password"},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, c := range cases {
			res := x.call(t, http.MethodPost, "/api/sessions", c.body)
			if res.Status != c.status || errs(t, res) != c.want {
				t.Errorf("%s: %d %q, want %d %q", c.name, res.Status, errs(t, res), c.status, c.want)
			}
		}
	})
}

// TestUpdateHashesRefuseNUL: an update's hashes, stored as sent, refuse U+0000 in a key or a
// value like a create's, with the form's other problems, and nothing is written (on PostgreSQL
// too, whose text cannot hold it).
func TestUpdateHashesRefuseNUL(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, http.MethodPost, "/api/users", create("reference_rest_api_create_user", map[string]any{"first_name": "Nul", "email": "nul-up@example.com", "password": "abcdef"}))
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		path := fmt.Sprintf("/api/users/%v", res.Map(t)["id"])
		for _, c := range []struct {
			fields map[string]any
			want   string
		}{
			{map[string]any{"profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"v": "\x00"}}}}, "profiles: is invalid"},
			{map[string]any{"relationship_users": map[string]any{"\x00": 1}, "password": "abc"}, "password: is too short (minimum is 6 characters); relationship_users: is invalid"},
			{map[string]any{"transactables": map[string]any{"t": map[string]any{"k\x00": []any{1}}}, "last_name": "Changed"}, "transactables: is invalid"},
		} {
			res := x.call(t, http.MethodPut, path, create("update_any", c.fields))
			if res.Status != 422 || errs(t, res) != c.want {
				t.Errorf("PUT %v: %d %q, want 422 %q", c.fields, res.Status, errs(t, res), c.want)
			}
		}
		var changed int64
		x.DB.Table("platformos_users").Where("email_key = ? AND (last_name IS NOT NULL OR profiles <> '{}' OR relationship_users <> '{}' OR transactables <> '{}')", "nul-up@example.com").Count(&changed)
		if changed != 0 {
			t.Errorf("a refused update was written")
		}
	})
}
