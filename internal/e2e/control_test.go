package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/gen/control"
	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/password"
)

// seededPerAPI is how many users TestControl seeds in each of the five APIs (1,000 in all).
const seededPerAPI = 200

// seedPassword is every seeded user's password, pre-hashed in the document: bcrypt (as X-Cart's
// PHP and the Rails vendors store it) for even entries, argon2id for odd ones.
const seedPassword = "seed-password-1"

// call sends a JSON request through d and returns the status and the body.
func call(t *testing.T, d *doer, method, u string, body any, header ...string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := d.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// TestControl is the recipe of docs/testing-your-client.md as a test suite would run it, through the control API's
// generated Go client: reset, seed 1,000 users across the five APIs with pre-hashed passwords,
// log in as seeded users through every vendor API that has a login, create through the vendor
// APIs, and inspect what they stored through the control API.
func TestControl(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "control")
	defer d.coverage()
	c := newControlClient(t, d)

	// The suite's other tests share this server: leave it as the fixtures make it.
	t.Cleanup(func() {
		if res, err := c.ResetWithResponse(context.Background(), nil); err != nil || res.StatusCode() != http.StatusOK {
			t.Errorf("reset after the test: %v %v", res, err)
		}
	})
	if !prerequisite(t, "reset", func(t *testing.T) {
		res, err := c.ResetWithResponse(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "reset", res.StatusCode(), res.Body, http.StatusOK)
		if r := res.JSON200; len(r.Apis) != 5 || r.Credentials != control.Kept {
			t.Errorf("reset answered %s", res.Body)
		}
	}) {
		return
	}

	if !prerequisite(t, "seed 1,000 users with pre-hashed passwords", func(t *testing.T) {
		b, err := bcrypt.GenerateFromPassword([]byte(seedPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		a, err := password.New(password.OWASP, 1).Hash(ctx, seedPassword)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := json.Marshal(apitest.SeedDocument("seed", seededPerAPI, string(b), a))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.ApplyFixturesWithBodyWithResponse(ctx, "application/json", bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "apply fixtures", res.StatusCode(), res.Body, http.StatusOK)
		applied := res.JSON200.Applied
		for api, kind := range map[string]string{"xcart": "profiles", "occadmin": "profiles", "occstore": "members", "platformos": "users", "activeplatform": "users"} {
			if got := applied[api][kind]; got.Created != seededPerAPI || got.Updated != 0 {
				t.Errorf("%s %s: %+v, want %d created", api, kind, got, seededPerAPI)
			}
		}
		// Again: idempotent, everything updated.
		res, err = c.ApplyFixturesWithBodyWithResponse(ctx, "application/json", bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "apply fixtures again", res.StatusCode(), res.Body, http.StatusOK)
		if got := res.JSON200.Applied["xcart"]["profiles"]; got.Created != 0 || got.Updated != seededPerAPI {
			t.Errorf("applied again: %+v, want %d updated", got, seededPerAPI)
		}
	}) {
		return
	}

	t.Run("log in as seeded users", func(t *testing.T) {
		xd := newDoer(t, "xcart")
		for _, login := range []string{"seed-xc-0@example.com", "seed-xc-1@example.com"} {
			status, body := call(t, xd, "POST", xd.url()+"/api-login/check", map[string]any{"username": login, "password": seedPassword})
			want(t, "X-Cart login "+login, status, body, http.StatusOK)
		}
		occstoreLogin(t, ctx, newDoer(t, "occstore"), env.urls["occstore"], "seed-os-0@example.com", seedPassword)
		occstoreLogin(t, ctx, newDoer(t, "occstore"), env.urls["occstore"], "seed-os-1@example.com", seedPassword)
		pd := newDoer(t, "platformos")
		for _, email := range []string{"seed-pos-0@example.com", "seed-pos-1@example.com"} {
			status, body := call(t, pd, "POST", pd.url()+"/api/sessions", map[string]any{
				"form_configuration_name": "reference_rest_api_create_session",
				"form":                    map[string]any{"email": email, "password": seedPassword},
			}, "Authorization", "Token token="+key("platformos"))
			want(t, "platformOS session "+email, status, body, http.StatusOK)
		}
	})

	t.Run("create through the vendor APIs and inspect", func(t *testing.T) {
		created := map[string]string{} // api → the id of the user created through it
		xd := newDoer(t, "xcart")
		status, body := call(t, xd, "POST", xd.url()+"/api/profiles", map[string]any{"login": "ctl-xc@example.com"}, "X-Auth-Token", key("xcart"))
		want(t, "X-Cart create", status, body, http.StatusCreated)
		created["xcart"] = idOf(t, body, "id")
		pd := newDoer(t, "platformos")
		status, body = call(t, pd, "POST", pd.url()+"/api/users", map[string]any{
			"form_configuration_name": "reference_rest_api_create_user",
			"form":                    map[string]any{"email": "ctl-pos@example.com", "password": "ctl-password", "first_name": "Ctl"},
		}, "Authorization", "Token token="+key("platformos"))
		want(t, "platformOS create", status, body, http.StatusCreated)
		created["platformos"] = idOf(t, body, "id")
		ad := newDoer(t, "activeplatform")
		status, body = call(t, ad, "POST", ad.url()+"/api/vendor/v1/users?api_token="+url.QueryEscape(key("activeplatform")), map[string]any{
			"email": "ctl-ap@example.com", "first_name": "Ctl", "last_name": "AP", "password": "ctl-password1",
		})
		want(t, "ActivePlatform create", status, body, http.StatusCreated)
		created["activeplatform"] = idOf(t, body, "id")

		for api, id := range created {
			page, err := c.ListUsersWithResponse(ctx, control.ApiName(api), &control.ListUsersParams{Limit: ptr(int32(1000))})
			if err != nil {
				t.Fatal(err)
			}
			want(t, api+" users", page.StatusCode(), page.Body, http.StatusOK)
			if p := page.JSON200; p.Total != seededPerAPI+1 || len(p.Items) != seededPerAPI+1 {
				t.Errorf("%s: %d users (%d listed), want %d seeded and 1 created", api, p.Total, len(p.Items), seededPerAPI)
			}
			u, err := c.GetUserWithResponse(ctx, control.ApiName(api), id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, api+" user "+id, u.StatusCode(), u.Body, http.StatusOK)
			if got := u.JSON200; got.Id != id || !strings.HasPrefix(got.Email, "ctl-") || strings.Contains(string(u.Body), "$argon2id$") || strings.Contains(string(u.Body), "ctl-password") {
				t.Errorf("%s user %s: %s", api, id, u.Body)
			}
		}
		// The OCC store members: read back although only their organization's administrator may
		// read them through the vendor API.
		page, err := c.ListUsersWithResponse(ctx, control.Occstore, &control.ListUsersParams{Limit: ptr(int32(1000))})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "occstore users", page.StatusCode(), page.Body, http.StatusOK)
		if page.JSON200.Total < seededPerAPI {
			t.Errorf("occstore: %d members, want the %d seeded at least", page.JSON200.Total, seededPerAPI)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		res, err := c.ResetWithResponse(invalid(ctx), nil, func(_ context.Context, req *http.Request) error {
			req.Header.Del("Authorization")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "reset without a credential", res.StatusCode(), res.Body, http.StatusUnauthorized)
		res, err = c.ResetWithResponse(ctx, nil, controlBearer(key("xcart")))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "reset with an X-Cart credential", res.StatusCode(), res.Body, http.StatusForbidden)
		nope := control.ApiName("nope")
		res, err = c.ResetWithResponse(invalid(ctx), &control.ResetParams{Api: &[]control.ApiName{nope}})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "reset of an unknown API", res.StatusCode(), res.Body, http.StatusBadRequest)
		if p := res.ApplicationproblemJSON400; p == nil || p.Errors == nil || len(*p.Errors) != 1 {
			t.Errorf("400 %s: want one problem listed", res.Body)
		}
		missing, err := c.GetUserWithResponse(ctx, control.Xcart, "999999")
		if err != nil {
			t.Fatal(err)
		}
		want(t, "an unknown user", missing.StatusCode(), missing.Body, http.StatusNotFound)
		// Prism does not parse YAML bodies: this one goes to the server directly (malformed).
		bad, err := c.ApplyFixturesWithBodyWithResponse(malformed(ctx), "application/yaml", strings.NewReader("xcart:\n  profiles:\n    - {login: not-an-email}\n"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "a refused fixtures document", bad.StatusCode(), bad.Body, http.StatusBadRequest)
		text, err := c.ApplyFixturesWithBodyWithResponse(invalid(ctx), "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "a text body", text.StatusCode(), text.Body, http.StatusUnsupportedMediaType)
		big, err := c.ApplyFixturesWithBodyWithResponse(oversized(ctx), "application/json", strings.NewReader(`{"padding":"`+strings.Repeat("x", controlBodyLimit)+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "a body over the limit", big.StatusCode(), big.Body, http.StatusRequestEntityTooLarge)
		// A fault rule for an operation the API does not have: 422, listing the API's operations.
		api, op := control.ApiName("xcart"), "deleteEverything"
		noOp, err := c.AddFaultWithResponse(ctx, control.FaultRuleInput{Match: control.FaultMatcher{Api: &api, Operation: &op}, Action: control.FaultAction{Type: "drop"}})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "a fault rule for an unknown operation", noOp.StatusCode(), noOp.Body, http.StatusUnprocessableEntity)
		if !strings.Contains(string(noOp.Body), "createProfile") {
			t.Errorf("422 %s: want the API's operations listed", noOp.Body)
		}
	})
}

// idOf is the member name of the JSON object body, as text (numbers without a fraction).
func idOf(t *testing.T, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return fmt.Sprint(m[name])
}

func ptr[T any](v T) *T { return &v }
