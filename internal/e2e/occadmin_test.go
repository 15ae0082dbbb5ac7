package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/provisiond/provisiond/gen/occadmin"
	"github.com/provisiond/provisiond/gen/occstore"
)

func TestOCCAdmin(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "occadmin")
	// token is the access token every request sends unless it names another.
	var token string
	c, err := occadmin.NewClientWithResponses(d.url(), occadmin.WithHTTPClient(d), occadmin.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}

	// The steps share what the first ones create. One that the rest build on ends the test when it
	// stops (t.Fatal); any other fails alone.
	var (
		// Emails unique to this run, so that the test can run again over the same database.
		run   = strconv.FormatInt(time.Now().UnixNano(), 36)
		email = "e2e-occadmin-amber-" + run + "@example.com"

		inactive = false
		lastName = "Archer"
		id       string
		p        *occadmin.AdminProfile
	)

	// Log in with the application key, and renew the token.
	if !prerequisite(t, "log in and refresh", func(t *testing.T) {
		token = occadminLogin(t, ctx, c, key("occadmin"))
		refreshed, err := c.RefreshWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh", refreshed.StatusCode(), refreshed.Body, http.StatusOK)
		if r := refreshed.JSON200; r == nil || r.AccessToken == "" || r.AccessToken == token || r.TokenType != "bearer" || r.ExpiresIn != 300 {
			t.Fatalf("refresh answered %s, want a new bearer token for 300 s", refreshed.Body)
		}
		token = refreshed.JSON200.AccessToken
	}) {
		return
	}

	t.Run("list roles", func(t *testing.T) {
		roles, err := c.ListAdminRolesWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list roles with the refreshed token", roles.StatusCode(), roles.Body, http.StatusOK)
		byID := map[string]occadmin.AdminRole{}
		for _, r := range roles.JSON200.Items {
			byID[r.RepositoryId] = r
		}
		if r := byID["adminRole"]; r.Name != "Administrator" || r.Description != "Administrator Role" || r.Category != "Administrator" || !slices.Equal(r.Privileges, []string{"Administrator"}) {
			t.Errorf("roles = %s, want adminRole named Administrator (Administrator Role, category Administrator) with the privilege Administrator", roles.Body)
		}
		if r, ok := byID["noPrivilegesRole"]; !ok || len(r.Privileges) != 0 {
			t.Errorf("roles = %s, want noPrivilegesRole without privileges", roles.Body)
		}
	})

	// Create through OCC's path (with the slash), read it back.
	if !prerequisite(t, "create", func(t *testing.T) {
		lang := "en"
		created, err := c.CreateAdminProfileWithResponse(ctx, &occadmin.CreateAdminProfileParams{XCCAssetLanguage: &lang}, occadmin.AdminProfileCreate{
			Email:     openapi_types.Email(email),
			FirstName: "Amber",
			LastName:  "Admin",
			Roles:     []string{"adminRole"},
			Active:    &inactive,
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+email, created.StatusCode(), created.Body, http.StatusOK)
		id = created.JSON200.Id
		if !strings.HasPrefix(id, "iuser") {
			t.Fatalf("create %s answered %s, want an id iuser<n>", email, created.Body)
		}
	}) {
		return
	}
	// The read after the update compares its registration date with this read's.
	if !prerequisite(t, "get", func(t *testing.T) {
		got, err := c.GetAdminProfileWithResponse(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+id, got.StatusCode(), got.Body, http.StatusOK)
		p = got.JSON200
		if p.Id != id || p.RepositoryId != id || p.Email != email || p.FirstName != "Amber" || p.LastName != "Admin" || p.Active ||
			!slices.Equal(p.Roles, []occadmin.RoleRef{{RepositoryId: "adminRole", Name: "Administrator"}}) {
			t.Errorf("get %s = %s, want %s, Amber Admin, inactive, the role adminRole named Administrator", id, got.Body, email)
		}
		if reg, err := time.Parse(time.RFC3339, p.RegistrationDate); err != nil || !strings.HasSuffix(p.RegistrationDate, "Z") || len(p.RegistrationDate) != len("2006-01-02T15:04:05.000Z") {
			t.Errorf("get %s: registrationDate %s, want UTC with milliseconds", id, p.RegistrationDate)
		} else if age := time.Since(reg); age < -time.Minute || age > time.Hour {
			t.Errorf("get %s: registrationDate %s, want about now", id, p.RegistrationDate)
		}
	}) {
		return
	}

	// Update some fields: those sent change, the others keep their value.
	t.Run("update", func(t *testing.T) {
		active := true
		newRoles := []string{"adminRole", "catalogRole"}
		updated, err := c.UpdateAdminProfileWithResponse(ctx, id, occadmin.AdminProfileUpdate{Active: &active, LastName: &lastName, Roles: &newRoles})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+id, updated.StatusCode(), updated.Body, http.StatusOK)
		wantRoles := []occadmin.RoleRef{{RepositoryId: "adminRole", Name: "Administrator"}, {RepositoryId: "catalogRole", Name: "Catalog"}}
		if u := updated.JSON200; u.LastName != "Archer" || !u.Active || u.FirstName != "Amber" || u.Email != email || !slices.Equal(u.Roles, wantRoles) {
			t.Errorf("update %s answered %s, want Amber Archer, active, %s, roles adminRole and catalogRole", id, updated.Body, email)
		}
		t.Run("get", func(t *testing.T) {
			again, err := c.GetAdminProfileWithResponse(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get "+id+" after the update", again.StatusCode(), again.Body, http.StatusOK)
			if a := again.JSON200; a.LastName != "Archer" || !a.Active || a.FirstName != "Amber" || !slices.Equal(a.Roles, wantRoles) || a.RegistrationDate != p.RegistrationDate {
				t.Errorf("get %s after the update = %s, want the update's answer %s", id, again.Body, updated.Body)
			}
		})
	})

	// A second profile through the path without the slash, then a search that finds both.
	t.Run("create without the slash", func(t *testing.T) {
		second := "e2e-occadmin-basil-" + run + "@example.com"
		other, err := c.CreateAdminProfileWithoutSlashWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email(second), FirstName: "Basil", LastName: "Builder", Roles: []string{"catalogRole", "noPrivilegesRole"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+second+" without the slash", other.StatusCode(), other.Body, http.StatusOK)
		q := `email sw "e2e-occadmin-" and email co "` + run + `"`
		t.Run("list", func(t *testing.T) {
			sort := "email:desc"
			list, err := c.ListAdminProfilesWithResponse(ctx, &occadmin.ListAdminProfilesParams{Q: &q, Sort: &sort})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list q="+q, list.StatusCode(), list.Body, http.StatusOK)
			if l := list.JSON200; l.Total != 2 || l.TotalResults != 2 || len(l.Items) != 2 || l.Items[0].Id != other.JSON200.Id || l.Items[1].Id != id ||
				l.Items[1].LastName != "Archer" || !l.Items[0].Active || l.Sort == nil || len(*l.Sort) != 1 || (*l.Sort)[0] != (occadmin.SortOrder{Property: "email", Order: occadmin.Desc}) {
				t.Errorf("list q=%s sort=%s = %s, want %s then %s, total 2, sort email desc", q, sort, list.Body, second, email)
			}
		})
		t.Run("list a page", func(t *testing.T) {
			one := 1
			page, err := c.ListAdminProfilesWithResponse(ctx, &occadmin.ListAdminProfilesParams{Q: &q, Limit: &one, Offset: &one})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list q="+q+" limit=1 offset=1", page.StatusCode(), page.Body, http.StatusOK)
			if l := page.JSON200; l.Total != 2 || l.Limit != 1 || l.Offset != 1 || len(l.Items) != 1 || l.Items[0].Id != other.JSON200.Id {
				t.Errorf("list q=%s limit=1 offset=1 = %s, want the second by id, %s, of 2", q, page.Body, second)
			}
		})
	})

	// 400: what the schema rules out, reported together.
	t.Run("400 invalid email and empty roles", func(t *testing.T) {
		bad, err := c.CreateAdminProfileWithBodyWithResponse(invalid(ctx), nil, "application/json",
			strings.NewReader(`{"firstName":"Bob","lastName":"Builder","email":"not-an-email","roles":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "invalid email and empty roles", bad.StatusCode(), bad.Body, http.StatusBadRequest)
		if e := bad.JSON400; e == nil || occStr(e.Message) != "There are 2 errors in the request." || occStr(e.Status) != "400" || e.Errors == nil ||
			!slices.Equal(occadminItems(*e.Errors), []occProblem{
				{"23006", "The email is not a valid email address.", "400", "/email"},
				{"89002", "The roles are missing or empty.", "400", "/roles"},
			}) {
			t.Errorf("invalid email and empty roles answered %s, want errors 23006 on /email and 89002 on /roles", bad.Body)
		}
	})
	t.Run("400 no firstName", func(t *testing.T) {
		noFirstName, err := c.CreateAdminProfileWithoutSlashWithBodyWithResponse(invalid(ctx), nil, "application/json",
			strings.NewReader(`{"lastName":"Builder","email":"e2e-occadmin-bob-`+run+`@example.com","roles":["adminRole"]}`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "no firstName", noFirstName.StatusCode(), noFirstName.Body, http.StatusBadRequest)
		occWant(t, "no firstName", noFirstName.Body, occadminProblem(noFirstName.JSON400), occProblem{"22007", "The value of firstName is missing.", "400", "/firstName"})
	})

	// 400: OCC's rules that need the database, in valid requests.
	t.Run("400 unknown role", func(t *testing.T) {
		unknownRole, err := c.CreateAdminProfileWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email("e2e-occadmin-bob-" + run + "@example.com"), FirstName: "Bob", LastName: "Builder", Roles: []string{"adminRole", "bogusRole"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "role bogusRole", unknownRole.StatusCode(), unknownRole.Body, http.StatusBadRequest)
		occWant(t, "role bogusRole", unknownRole.Body, occadminProblem(unknownRole.JSON400), occProblem{"89001", "The role bogusRole does not exist.", "400", "/roles/1"})
	})

	t.Run("400 no privilege", func(t *testing.T) {
		noPrivilege, err := c.CreateAdminProfileWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email("e2e-occadmin-bob-" + run + "@example.com"), FirstName: "Bob", LastName: "Builder", Roles: []string{"noPrivilegesRole"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "roles [noPrivilegesRole]", noPrivilege.StatusCode(), noPrivilege.Body, http.StatusBadRequest)
		occWant(t, "roles [noPrivilegesRole]", noPrivilege.Body, occadminProblem(noPrivilege.JSON400), occProblem{"89012", "None of the roles carries a privilege.", "400", "/roles"})
	})

	t.Run("400 email taken", func(t *testing.T) {
		upper := strings.ToUpper(email)
		duplicate, err := c.CreateAdminProfileWithoutSlashWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email(upper), FirstName: "Amber", LastName: "Again", Roles: []string{"catalogRole"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+upper, duplicate.StatusCode(), duplicate.Body, http.StatusBadRequest)
		occWant(t, "create "+upper, duplicate.Body, occadminProblem(duplicate.JSON400), occProblem{"22006", "A profile with this email already exists.", "400", "/email"})
	})

	t.Run("400 invalid filter", func(t *testing.T) {
		badFilter := `email zz "amber"`
		filter, err := c.ListAdminProfilesWithResponse(ctx, &occadmin.ListAdminProfilesParams{Q: &badFilter})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list q="+badFilter, filter.StatusCode(), filter.Body, http.StatusBadRequest)
		if e := filter.JSON400; e == nil || occStr(e.ErrorCode) != "22007" || occStr(e.Status) != "400" || occStr(e.OErrorPath) != "/q" || !strings.HasPrefix(occStr(e.Message), "The filter is invalid") {
			t.Errorf("list q=%s answered %s, want error 22007 on /q", badFilter, filter.Body)
		}
	})

	t.Run("400 login grant_type=authorization_code", func(t *testing.T) {
		grant, err := c.LoginWithFormdataBodyWithResponse(invalid(ctx), occadmin.LoginRequest{GrantType: "authorization_code"}, occBearer(key("occadmin")))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login grant_type=authorization_code", grant.StatusCode(), grant.Body, http.StatusBadRequest)
		if e := grant.JSON400; e == nil || occStr(e.ErrorCode) != "22007" || occStr(e.Status) != "400" {
			t.Errorf("login grant_type=authorization_code answered %s, want error 22007", grant.Body)
		}
	})

	t.Run("400 login grant_type=password without username and password", func(t *testing.T) {
		grant, err := c.LoginWithFormdataBodyWithResponse(ctx, occadmin.LoginRequest{GrantType: occadmin.Password}, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login grant_type=password alone", grant.StatusCode(), grant.Body, http.StatusBadRequest)
		if e := grant.JSON400; e == nil || occStr(e.Message) != "There are 2 errors in the request." || e.Errors == nil ||
			!slices.Equal(occadminItems(*e.Errors), []occProblem{
				{"22007", "The value of username is missing.", "400", "/username"},
				{"22007", "The value of password is missing.", "400", "/password"},
			}) {
			t.Errorf("login grant_type=password alone answered %s, want 22007 on /username and /password", grant.Body)
		}
	})

	// 401: no token, a token that is not one, an unknown application key.
	t.Run("401 no token", func(t *testing.T) {
		noToken, err := c.GetAdminProfileWithResponse(invalid(ctx), id, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get without a token", noToken.StatusCode(), noToken.Body, http.StatusUnauthorized)
		occWant(t, "get without a token", noToken.Body, occadminProblem(noToken.JSON401), occProblem{"401", "This request requires an access token.", "401", ""})
	})

	t.Run("401 application key as a token", func(t *testing.T) {
		keyAsToken, err := c.ListAdminRolesWithResponse(ctx, occBearer(key("occadmin")))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "the application key as an access token", keyAsToken.StatusCode(), keyAsToken.Body, http.StatusUnauthorized)
		occWant(t, "the application key as an access token", keyAsToken.Body, occadminProblem(keyAsToken.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
	})

	t.Run("401 occstore token", func(t *testing.T) {
		storeToken := occstoreLogin(t, ctx, newDoer(t, "occstore"), env.urls["occstore"], occstoreAdminEmail, occstoreAdminPassword)
		foreign, err := c.GetAdminProfileWithResponse(ctx, id, occBearer(storeToken))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get with an occstore token", foreign.StatusCode(), foreign.Body, http.StatusUnauthorized)
		occWant(t, "get with an occstore token", foreign.Body, occadminProblem(foreign.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
	})

	t.Run("401 unknown application key", func(t *testing.T) {
		unknownKey, err := c.LoginWithFormdataBodyWithResponse(ctx, occadmin.LoginRequest{GrantType: occadmin.ClientCredentials}, occBearer("e2e-occadmin-unknown-key-0001"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login with an unknown key", unknownKey.StatusCode(), unknownKey.Body, http.StatusUnauthorized)
		occWant(t, "login with an unknown key", unknownKey.Body, occadminProblem(unknownKey.JSON401), occProblem{"401", "The application key is not valid.", "401", ""})
	})

	// 403: a read-only key's token reads and refreshes, but does not write.
	t.Run("403 read-only key", func(t *testing.T) {
		readOnly := occadminLogin(t, ctx, c, readOnlyKey("occadmin"))
		readRefresh, err := c.RefreshWithResponse(ctx, occBearer(readOnly))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh a read-only token", readRefresh.StatusCode(), readRefresh.Body, http.StatusOK)
		readOnly = readRefresh.JSON200.AccessToken
		t.Run("get", func(t *testing.T) {
			read, err := c.GetAdminProfileWithResponse(ctx, id, occBearer(readOnly))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get with a read-only token", read.StatusCode(), read.Body, http.StatusOK)
		})
		t.Run("create", func(t *testing.T) {
			forbidden, err := c.CreateAdminProfileWithResponse(ctx, nil, occadmin.AdminProfileCreate{
				Email: openapi_types.Email("e2e-occadmin-ro-" + run + "@example.com"), FirstName: "Rhoda", LastName: "Only", Roles: []string{"adminRole"},
			}, occBearer(readOnly))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "create with a read-only token", forbidden.StatusCode(), forbidden.Body, http.StatusForbidden)
			occWant(t, "create with a read-only token", forbidden.Body, occadminProblem(forbidden.JSON403), occProblem{"403", "The application key of this token is read-only.", "403", ""})
		})
		t.Run("update", func(t *testing.T) {
			forbiddenPut, err := c.UpdateAdminProfileWithResponse(ctx, id, occadmin.AdminProfileUpdate{Active: &inactive}, occBearer(readOnly))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "update with a read-only token", forbiddenPut.StatusCode(), forbiddenPut.Body, http.StatusForbidden)
			occWant(t, "update with a read-only token", forbiddenPut.Body, occadminProblem(forbiddenPut.JSON403), occProblem{"403", "The application key of this token is read-only.", "403", ""})
		})
	})

	// 404, on a read and on a write.
	const missingID = "iuser999999999"
	t.Run("404 get", func(t *testing.T) {
		missing, err := c.GetAdminProfileWithResponse(ctx, missingID)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+missingID, missing.StatusCode(), missing.Body, http.StatusNotFound)
		occWant(t, "get "+missingID, missing.Body, occadminProblem(missing.JSON404), occProblem{"404", "No admin profile has the id " + missingID + ".", "404", ""})
	})
	t.Run("404 update", func(t *testing.T) {
		missingPut, err := c.UpdateAdminProfileWithResponse(ctx, missingID, occadmin.AdminProfileUpdate{LastName: &lastName})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+missingID, missingPut.StatusCode(), missingPut.Body, http.StatusNotFound)
		occWant(t, "update "+missingID, missingPut.Body, occadminProblem(missingPut.JSON404), occProblem{"404", "No admin profile has the id " + missingID + ".", "404", ""})
	})

	// 413 and 415.
	t.Run("413 body over the limit", func(t *testing.T) {
		large, err := c.CreateAdminProfileWithBodyWithResponse(oversized(ctx), nil, "application/json", tooLarge())
		if err != nil {
			t.Fatal(err)
		}
		want(t, "body over the limit", large.StatusCode(), large.Body, http.StatusRequestEntityTooLarge)
		occWant(t, "body over the limit", large.Body, occadminProblem(large.JSON413), occProblem{"413", "Request Entity Too Large", "413", ""})
	})

	t.Run("415 plain text body", func(t *testing.T) {
		media, err := c.CreateAdminProfileWithBodyWithResponse(invalid(ctx), nil, "text/plain", strings.NewReader("email="+email))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "text/plain body", media.StatusCode(), media.Body, http.StatusUnsupportedMediaType)
		occWant(t, "text/plain body", media.Body, occadminProblem(media.JSON415), occProblem{"415", "Unsupported Media Type", "415", ""})
	})

	t.Run("415 login with a JSON body", func(t *testing.T) {
		jsonLogin, err := c.LoginWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`), occBearer(key("occadmin")))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login with a JSON body", jsonLogin.StatusCode(), jsonLogin.Body, http.StatusUnsupportedMediaType)
		occWant(t, "login with a JSON body", jsonLogin.Body, occadminProblem(jsonLogin.JSON415), occProblem{"415", "Unsupported Media Type", "415", ""})
	})

	// An application key's token has no admin profile behind it.
	t.Run("404 current admin profile of an application key", func(t *testing.T) {
		cur, err := c.GetCurrentAdminProfileWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "current admin profile", cur.StatusCode(), cur.Body, http.StatusNotFound)
		occWant(t, "current admin profile", cur.Body, occadminProblem(cur.JSON404), occProblem{"404", "No admin profile is logged in: this access token was obtained with an application key.", "404", ""})
	})

	// An admin profile with a password logs in with its own credentials (no application key),
	// reads itself as the current profile, and logs out.
	t.Run("password login", func(t *testing.T) {
		admin := "e2e-occadmin-pw-" + run + "@example.com"
		pw := "E2e-Passw0rd-" + run
		made, err := c.CreateAdminProfileWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email(admin), FirstName: "Pat", LastName: "Password", Roles: []string{"adminRole"}, Password: &pw,
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+admin, made.StatusCode(), made.Body, http.StatusOK)
		in, err := c.LoginWithFormdataBodyWithResponse(ctx, occadmin.LoginRequest{GrantType: occadmin.Password, Username: &admin, Password: &pw}, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "password login "+admin, in.StatusCode(), in.Body, http.StatusOK)
		own := in.JSON200.AccessToken
		cur, err := c.GetCurrentAdminProfileWithResponse(ctx, occBearer(own))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "current admin profile", cur.StatusCode(), cur.Body, http.StatusOK)
		if p := cur.JSON200; p.Id != made.JSON200.Id || p.Email != admin {
			t.Errorf("current admin profile = %s, want %s", cur.Body, made.JSON200.Id)
		}
		wrong := "not-" + pw
		refused, err := c.LoginWithFormdataBodyWithResponse(ctx, occadmin.LoginRequest{GrantType: occadmin.Password, Username: &admin, Password: &wrong}, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "password login with a wrong password", refused.StatusCode(), refused.Body, http.StatusUnauthorized)
		occWant(t, "password login with a wrong password", refused.Body, occadminProblem(refused.JSON401), occProblem{"401", "The username or password is invalid.", "401", ""})
		out, err := c.LogoutWithResponse(ctx, occBearer(own))
		if err != nil {
			t.Fatal(err)
		}
		occLoggedOut(t, "logout of "+admin, out.StatusCode(), out.Body, out.JSON200 != nil && out.JSON200.Result)
	})

	// Logout ends the token sent, and only that one: OCC's {"result": true}, then 401 for it.
	t.Run("logout", func(t *testing.T) {
		ended := occadminLogin(t, ctx, c, key("occadmin"))
		out, err := c.LogoutWithResponse(ctx, occBearer(ended))
		if err != nil {
			t.Fatal(err)
		}
		occLoggedOut(t, "logout", out.StatusCode(), out.Body, out.JSON200 != nil && out.JSON200.Result)
		again, err := c.RefreshWithResponse(ctx, occBearer(ended)) // a well-formed request: only the server knows the token ended
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh of a logged-out token", again.StatusCode(), again.Body, http.StatusUnauthorized)
		occWant(t, "refresh of a logged-out token", again.Body, occadminProblem(again.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
		kept, err := c.ListAdminRolesWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "another token after a logout", kept.StatusCode(), kept.Body, http.StatusOK)
	})

	d.coverage()
}

// occadminLogin exchanges an application key for an access token.
func occadminLogin(t *testing.T, ctx context.Context, c *occadmin.ClientWithResponses, key string) string {
	t.Helper()
	res, err := c.LoginWithFormdataBodyWithResponse(ctx, occadmin.LoginRequest{GrantType: occadmin.ClientCredentials}, occBearer(key))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "occadmin login", res.StatusCode(), res.Body, http.StatusOK)
	if r := res.JSON200; r.AccessToken == "" || r.TokenType != "bearer" || r.ExpiresIn != 300 {
		t.Fatalf("occadmin login answered %s, want a bearer token for 300 s", res.Body)
	}
	return res.JSON200.AccessToken
}

// occstoreLogin logs a store member in through a client of its own on d, at the server at url.
func occstoreLogin(t *testing.T, ctx context.Context, d *doer, url, email, password string) string {
	t.Helper()
	c, err := occstore.NewClientWithResponses(url, occstore.WithHTTPClient(d))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.LoginWithFormdataBodyWithResponse(ctx, occstore.LoginRequest{GrantType: occstore.Password, Username: email, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "occstore login "+email, res.StatusCode(), res.Body, http.StatusOK)
	if r := res.JSON200; r.AccessToken == "" || r.TokenType != "bearer" || r.ExpiresIn != 930 {
		t.Fatalf("occstore login %s answered %s, want a bearer token for 930 s", email, res.Body)
	}
	return res.JSON200.AccessToken
}

// occLoggedOut fails the test unless a logout answered 200 with {"result": true} (result says
// whether the body had it); both OCC clients have types of their own for the body.
func occLoggedOut(t *testing.T, what string, status int, body []byte, result bool) {
	t.Helper()
	want(t, what, status, body, http.StatusOK)
	if !result {
		t.Errorf("%s answered %s, want {\"result\": true}", what, body)
	}
}

// occBearer sends token as the request's bearer token, in place of the client's. Its type is
// the underlying one of both OCC clients' RequestEditorFn, so that either takes it.
func occBearer(token string) func(context.Context, *http.Request) error {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// occNoBearer removes the client's bearer token.
func occNoBearer(_ context.Context, req *http.Request) error {
	req.Header.Del("Authorization")
	return nil
}

// occProblem is what the tests check of an OCC error or of one of its errors[]; both OCC
// clients have types of their own for it.
type occProblem struct{ ErrorCode, Message, Status, Path string }

func occStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func occadminProblem(e *occadmin.Error) *occProblem {
	if e == nil {
		return nil
	}
	return &occProblem{occStr(e.ErrorCode), occStr(e.Message), occStr(e.Status), occStr(e.OErrorPath)}
}

func occadminItems(items []occadmin.ErrorItem) []occProblem {
	out := make([]occProblem, len(items))
	for i, e := range items {
		out[i] = occProblem{occStr(e.ErrorCode), occStr(e.Message), occStr(e.Status), occStr(e.OErrorPath)}
	}
	return out
}

func occstoreProblem(e *occstore.Error) *occProblem {
	if e == nil {
		return nil
	}
	return &occProblem{occStr(e.ErrorCode), occStr(e.Message), occStr(e.Status), occStr(e.OErrorPath)}
}

func occstoreItems(items []occstore.ErrorItem) []occProblem {
	out := make([]occProblem, len(items))
	for i, e := range items {
		out[i] = occProblem{occStr(e.ErrorCode), occStr(e.Message), occStr(e.Status), occStr(e.OErrorPath)}
	}
	return out
}

// occWant fails the test unless an OCC error body (nil when it did not parse as one) is want.
func occWant(t *testing.T, what string, body []byte, got *occProblem, want occProblem) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: error %s, want %+v", what, body, want)
	}
}
