package e2e_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/provisiond/provisiond/gen/xcart"
)

func TestXCart(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "xcart")
	withKey := func(key string) xcart.RequestEditorFn {
		return func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-Auth-Token", key)
			return nil
		}
	}
	c, err := xcart.NewClientWithResponses(d.url(), xcart.WithHTTPClient(d), xcart.WithRequestEditorFn(withKey(key("xcart"))))
	if err != nil {
		t.Fatal(err)
	}

	// The steps share what the first one creates. One that the rest build on ends the test when it
	// stops (t.Fatal); any other fails alone.
	var (
		password = "e2e-passw0rd"
		created  *xcart.CreateProfileResponse
		p        *xcart.Profile
	)

	// Create an administrator with a password, so that it can log in.
	if !prerequisite(t, "create an administrator", func(t *testing.T) {
		admin := xcart.ProfileCreateAccessLevelN100
		var err error
		created, err = c.CreateProfileWithResponse(ctx, xcart.ProfileCreate{
			Login:        "e2e.admin@example.com",
			Password:     nullable.NewNullableWithValue(password),
			AccessLevel:  &admin,
			MembershipId: nullable.NewNullableWithValue(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create", created.StatusCode(), created.Body, http.StatusCreated)
		p = created.JSON201
		if p == nil || p.Login != "e2e.admin@example.com" || p.AccessLevel != 100 || get(p.MembershipId) != 1 || p.Status != "E" {
			t.Fatalf("created profile = %s, want the login, access level 100, membership 1, status E", created.Body)
		}
		if loc := created.HTTPResponse.Header.Get("Location"); !strings.HasSuffix(loc, "/api/profiles/"+strconv.Itoa(p.Id)) {
			t.Errorf("Location = %q, want the new profile's path", loc)
		}
	}) {
		return
	}

	// Log in with it, and read it back with the JWT.
	t.Run("log in", func(t *testing.T) {
		login, err := c.LoginWithResponse(ctx, xcart.LoginRequest{Username: "e2e.admin@example.com", Password: &password})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login", login.StatusCode(), login.Body, http.StatusOK)
		bearer := func(_ context.Context, req *http.Request) error {
			req.Header.Del("X-Auth-Token")
			req.Header.Set("Authorization", "Bearer "+login.JSON200.Token)
			return nil
		}
		t.Run("get with the JWT", func(t *testing.T) {
			got, err := c.GetProfileWithResponse(ctx, p.Id, bearer)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get with the JWT", got.StatusCode(), got.Body, http.StatusOK)
			if got.JSON200.Login != p.Login || got.JSON200.Id != p.Id || !got.JSON200.CreateDate.Equal(p.CreateDate) {
				t.Errorf("read back %s, want the created profile %s", got.Body, created.Body)
			}
		})
	})

	// Update it, and find the change in a read and in a search.
	t.Run("update", func(t *testing.T) {
		status := xcart.ProfileUpdateStatus("D")
		language := "de"
		updated, err := c.UpdateProfileWithResponse(ctx, p.Id, xcart.ProfileUpdate{Status: &status, Language: &language})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update", updated.StatusCode(), updated.Body, http.StatusOK)
		if updated.JSON200.Status != "D" || updated.JSON200.Language != "de" || updated.JSON200.Login != p.Login {
			t.Errorf("updated profile = %s, want status D, language de, the same login", updated.Body)
		}
		t.Run("search", func(t *testing.T) {
			search := "E2E.ADMIN"
			list, err := c.ListProfilesWithResponse(ctx, &xcart.ListProfilesParams{Login: &search})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list", list.StatusCode(), list.Body, http.StatusOK)
			if l := *list.JSON200; len(l) != 1 || l[0].Id != p.Id || l[0].Status != "D" {
				t.Errorf("search %q = %s, want the updated profile alone", search, list.Body)
			}
		})
		// An incremental sync: the profiles added since a date, through the ".json" route.
		t.Run("added since, searchFakeField", func(t *testing.T) {
			search := "e2e.admin"
			for _, tc := range []struct {
				since time.Time
				want  int
			}{{p.CreateDate, 1}, {p.CreateDate.Add(time.Second), 0}} {
				since := tc.since.Format(time.RFC3339)
				list, err := c.ListProfilesJsonWithResponse(ctx, &xcart.ListProfilesJsonParams{SearchFakeField: &search, Added: &xcart.DateBounds{After: &since}})
				if err != nil {
					t.Fatal(err)
				}
				want(t, "list.json", list.StatusCode(), list.Body, http.StatusOK)
				if list.JSON200 == nil || len(*list.JSON200) != tc.want {
					t.Errorf("added[after]=%s&searchFakeField=%s: %s, want %d profiles", since, search, list.Body, tc.want)
				}
			}
		})
		// JSON-LD, through the ".jsonld" routes: a create in ld+json, the item, the collection.
		t.Run("JSON-LD", func(t *testing.T) {
			created, err := c.CreateProfileJsonldWithApplicationLdPlusJSONBodyWithResponse(ctx, xcart.ProfileCreate{Login: "e2e.linked@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "create.jsonld", created.StatusCode(), created.Body, http.StatusCreated)
			ld := created.ApplicationldJSON201
			if ld == nil || ld.Iri != "/api/profiles/"+strconv.Itoa(ld.Id) || ld.Type != xcart.ProfileJsonldTypeProfile || ld.Context == nil || *ld.Context != "/api/contexts/Profile" {
				t.Fatalf("created in JSON-LD: %s, want @context, @id and @type", created.Body)
			}
			item, err := c.GetProfileJsonldWithResponse(ctx, ld.Id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get.jsonld", item.StatusCode(), item.Body, http.StatusOK)
			if item.ApplicationldJSON200 == nil || item.ApplicationldJSON200.Login != "e2e.linked@example.com" {
				t.Errorf("get.jsonld: %s", item.Body)
			}
			search := "e2e.linked"
			coll, err := c.ListProfilesJsonldWithResponse(ctx, &xcart.ListProfilesJsonldParams{SearchFakeField: &search})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list.jsonld", coll.StatusCode(), coll.Body, http.StatusOK)
			if l := coll.ApplicationldJSON200; l == nil || l.HydraTotalItems != 1 || len(l.HydraMember) != 1 || l.HydraMember[0].Iri != ld.Iri || l.HydraView == nil {
				t.Errorf("list.jsonld: %s, want the one profile and a view of the filtered list", coll.Body)
			}
			gone, err := c.DeleteProfileJsonldWithResponse(ctx, ld.Id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "delete.jsonld", gone.StatusCode(), gone.Body, http.StatusNoContent)
			missing, err := c.GetProfileJsonldWithResponse(ctx, ld.Id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get.jsonld of a deleted profile", missing.StatusCode(), missing.Body, http.StatusNotFound)
			if e := missing.ApplicationldJSON404; e == nil || e.HydraDescription != "Not Found" || e.Type != xcart.HydraErrorTypeHydraError {
				t.Errorf("get.jsonld of a deleted profile: %s, want a hydra:Error", missing.Body)
			}
		})
	})

	// Errors, one of each documented kind.
	t.Run("400 malformed JSON", func(t *testing.T) {
		bad, err := c.CreateProfileWithBodyWithResponse(malformed(ctx), "application/json", strings.NewReader(`{"login":`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "malformed JSON", bad.StatusCode(), bad.Body, http.StatusBadRequest)
		if bad.ApplicationproblemJSON400 == nil || get(bad.ApplicationproblemJSON400.Detail) != "Syntax error" {
			t.Errorf("malformed JSON answered %s, want detail \"Syntax error\"", bad.Body)
		}
	})

	t.Run("401 no credential", func(t *testing.T) {
		unauthenticated, err := c.GetProfileWithResponse(invalid(ctx), p.Id, func(_ context.Context, req *http.Request) error {
			req.Header.Del("X-Auth-Token")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "no credential", unauthenticated.StatusCode(), unauthenticated.Body, http.StatusUnauthorized)
		if unauthenticated.ApplicationproblemJSON401 == nil {
			t.Errorf("no credential answered %s, want a problem", unauthenticated.Body)
		}
	})

	t.Run("403 read-only key", func(t *testing.T) {
		readOnly, err := c.CreateProfileWithResponse(ctx, xcart.ProfileCreate{Login: "e2e.nobody@example.com"}, withKey(readOnlyKey("xcart")))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create with a read-only key", readOnly.StatusCode(), readOnly.Body, http.StatusForbidden)
	})

	t.Run("404 missing profile", func(t *testing.T) {
		missing, err := c.GetProfileWithResponse(ctx, p.Id+1000)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get a missing profile", missing.StatusCode(), missing.Body, http.StatusNotFound)
		if missing.ApplicationproblemJSON404 == nil || get(missing.ApplicationproblemJSON404.Detail) != "Not Found" {
			t.Errorf("missing profile answered %s, want detail \"Not Found\"", missing.Body)
		}
	})

	t.Run("413 body over the limit", func(t *testing.T) {
		large, err := c.CreateProfileWithBodyWithResponse(oversized(ctx), "application/json", tooLarge())
		if err != nil {
			t.Fatal(err)
		}
		want(t, "body over the limit", large.StatusCode(), large.Body, http.StatusRequestEntityTooLarge)
	})

	t.Run("415 plain text body", func(t *testing.T) {
		media, err := c.CreateProfileWithBodyWithResponse(invalid(ctx), "text/plain", strings.NewReader("login=x"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "text/plain body", media.StatusCode(), media.Body, http.StatusUnsupportedMediaType)
	})

	// The generated client refuses to send an invalid email itself, so a short password it is.
	t.Run("422 short password", func(t *testing.T) {
		unprocessable, err := c.CreateProfileWithResponse(invalid(ctx), xcart.ProfileCreate{Login: "e2e.short@example.com", Password: nullable.NewNullableWithValue("short")})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "short password", unprocessable.StatusCode(), unprocessable.Body, http.StatusUnprocessableEntity)
		if v := unprocessable.ApplicationproblemJSON422; v == nil || len(v.Violations) != 1 || v.Violations[0].PropertyPath != "password" {
			t.Errorf("short password answered %s, want one violation on password", unprocessable.Body)
		}
	})

	// The last administrator cannot be deleted; a customer can, and is gone.
	t.Run("400 delete the last administrator", func(t *testing.T) {
		last, err := c.DeleteProfileWithResponse(ctx, p.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "delete the last administrator", last.StatusCode(), last.Body, http.StatusBadRequest)
		if last.ApplicationproblemJSON400 == nil || get(last.ApplicationproblemJSON400.Detail) != "Cannot remove the last admin profile" {
			t.Errorf("deleting the last administrator answered %s", last.Body)
		}
	})

	t.Run("delete a customer", func(t *testing.T) {
		customer, err := c.CreateProfileWithResponse(ctx, xcart.ProfileCreate{Login: "e2e.customer@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create a customer", customer.StatusCode(), customer.Body, http.StatusCreated)
		deleted, err := c.DeleteProfileWithResponse(ctx, customer.JSON201.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "delete", deleted.StatusCode(), deleted.Body, http.StatusNoContent)
		gone, err := c.GetProfileWithResponse(ctx, customer.JSON201.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get after delete", gone.StatusCode(), gone.Body, http.StatusNotFound)
	})

	// A named customer: X-Cart keeps names in addresses, so it is a profile, then its billing
	// address. The address is read back, moved, and deleted with its profile.
	t.Run("customer with a billing address", func(t *testing.T) {
		customer, err := c.CreateProfileWithResponse(ctx, xcart.ProfileCreate{Login: "e2e.named@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create a customer", customer.StatusCode(), customer.Body, http.StatusCreated)
		pid := customer.JSON201.Id
		billing := true
		created, err := c.CreateProfileAddressWithResponse(ctx, pid, xcart.ProfileAddressCreate{
			IsBilling: &billing, Firstname: "Ada", Lastname: "Lovelace", Phone: "+44 20 7946 0000",
			Street: "12 St James's Square", Zipcode: "SW1Y 4JH", City: "London", CountryCode: "GB",
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create an address", created.StatusCode(), created.Body, http.StatusCreated)
		a := created.JSON201
		if a == nil || !a.IsBilling || a.Firstname != "Ada" || a.Type != "R" || a.State.IsSpecified() && !a.State.IsNull() {
			t.Fatalf("created address = %s, want the billing address of Ada, residential, no state", created.Body)
		}
		if loc := created.HTTPResponse.Header.Get("Location"); !strings.HasSuffix(loc, "/api/profiles/"+strconv.Itoa(pid)+"/addresses/"+strconv.Itoa(a.Id)) {
			t.Errorf("Location = %q, want the new address's path", loc)
		}

		shipping := true
		phone := "+44 20 7946 0001"
		updated, err := c.UpdateProfileAddressWithResponse(ctx, pid, a.Id, xcart.ProfileAddressUpdate{IsShipping: &shipping, Phone: &phone})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update the address", updated.StatusCode(), updated.Body, http.StatusOK)
		if u := updated.JSON200; !u.IsBilling || !u.IsShipping || u.Phone != phone || u.Lastname != "Lovelace" {
			t.Errorf("updated address = %s, want billing and shipping, the new phone, the rest kept", updated.Body)
		}

		empty := ""
		unprocessable, err := c.UpdateProfileAddressWithResponse(invalid(ctx), pid, a.Id, xcart.ProfileAddressUpdate{City: &empty})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "empty city", unprocessable.StatusCode(), unprocessable.Body, http.StatusUnprocessableEntity)

		list, err := c.ListProfileAddressesWithResponse(ctx, pid, nil)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list addresses", list.StatusCode(), list.Body, http.StatusOK)
		if l := *list.JSON200; len(l) != 1 || l[0].Id != a.Id || l[0].Phone != phone {
			t.Errorf("addresses = %s, want the updated address alone", list.Body)
		}

		// JSON-LD, through the ".jsonld" routes: a create in ld+json, then the collection.
		linked, err := c.CreateProfileAddressJsonldWithApplicationLdPlusJSONBodyWithResponse(ctx, pid, xcart.ProfileAddressCreate{
			Firstname: "Ada", Lastname: "Lovelace", Phone: "+44 20 7946 0002",
			Street: "1 Ockham Park", Zipcode: "KT24 6NP", City: "Ockham", CountryCode: "GB",
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create an address.jsonld", linked.StatusCode(), linked.Body, http.StatusCreated)
		ld := linked.ApplicationldJSON201
		if ld == nil || ld.Iri != "/api/profiles/"+strconv.Itoa(pid)+"/addresses/"+strconv.Itoa(ld.Id) || ld.RdfType != xcart.Address ||
			ld.Context == nil || *ld.Context != "/api/contexts/Address" || ld.City != "Ockham" {
			t.Errorf("created address.jsonld = %s, want an Address item with its IRI and context", linked.Body)
		}
		ldList, err := c.ListProfileAddressesJsonldWithResponse(ctx, pid, nil)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list addresses.jsonld", ldList.StatusCode(), ldList.Body, http.StatusOK)
		if l := ldList.ApplicationldJSON200; l == nil || l.HydraTotalItems != 2 || len(l.HydraMember) != 2 || l.Id != "/api/profiles/"+strconv.Itoa(pid)+"/addresses" {
			t.Errorf("addresses.jsonld = %s, want a collection of both addresses", ldList.Body)
		}

		missing, err := c.CreateProfileAddressWithResponse(ctx, pid+1000, xcart.ProfileAddressCreate{
			Firstname: "No", Lastname: "One", Phone: "0", Street: "-", Zipcode: "0", City: "-", CountryCode: "GB",
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "address of a missing profile", missing.StatusCode(), missing.Body, http.StatusNotFound)

		deleted, err := c.DeleteProfileWithResponse(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "delete the customer", deleted.StatusCode(), deleted.Body, http.StatusNoContent)
		gone, err := c.GetProfileAddressWithResponse(ctx, pid, a.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "address after its profile's delete", gone.StatusCode(), gone.Body, http.StatusNotFound)
	})

	d.coverage()
}

// prerequisite runs f as the subtest name of t, for a step whose results the steps after it use,
// and reports whether f ran to its end. A step that ended with t.Fatal (or t.Skip) has nothing
// for them, so the caller stops there; one that found errors with t.Error but ran to its end has,
// and the steps after it run as they did when the test was one function. (t.Run's result would
// stop them at any failure.)
func prerequisite(t *testing.T, name string, f func(t *testing.T)) bool {
	completed := false
	t.Run(name, func(t *testing.T) {
		f(t)
		completed = true
	})
	return completed
}
