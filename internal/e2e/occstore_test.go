package e2e_test

import (
	"context"
	"encoding/json"
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

func TestOCCStore(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "occstore")
	// token is the access token every request sends unless it names another.
	var token string
	c, err := occstore.NewClientWithResponses(d.url(), occstore.WithHTTPClient(d), occstore.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	org := occstoreOrg
	inOrg := &occstore.GetMemberParams{XCCOrganization: &org}

	// The steps share what the first ones create. One that the rest build on ends the test when it
	// stops (t.Fatal); any other fails alone.
	var (
		// Emails unique to this run, so that the test can run again over the same database.
		run   = strconv.FormatInt(time.Now().UnixNano(), 36)
		email = "e2e-occstore-leota-" + run + "@example.com"

		lastName = "Dilliard-Smith"
		id       string
		// buyerID is the fixtures' buyer, as the list finds it; the buyer's read of itself needs it.
		buyerID string
	)

	// Log in as the organization's delegated administrator, and renew the token.
	if !prerequisite(t, "log in and refresh", func(t *testing.T) {
		token = occstoreLogin(t, ctx, d, d.url(), occstoreAdminEmail, occstoreAdminPassword)
		refreshed, err := c.RefreshWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh", refreshed.StatusCode(), refreshed.Body, http.StatusOK)
		if r := refreshed.JSON200; r == nil || r.AccessToken == "" || r.AccessToken == token || r.TokenType != "bearer" || r.ExpiresIn != 930 {
			t.Fatalf("refresh answered %s, want a new bearer token for 930 s", refreshed.Body)
		}
		token = refreshed.JSON200.AccessToken
	}) {
		return
	}

	// Create a member with dynamic properties and a locale, and read it back.
	if !prerequisite(t, "create", func(t *testing.T) {
		lang := "en"
		created, err := c.CreateMemberWithResponse(ctx, &occstore.CreateMemberParams{XCCOrganization: &org, XCCAssetLanguage: &lang}, occstore.MemberCreate{
			FirstName:    "Leota",
			LastName:     "Dilliard",
			Email:        openapi_types.Email(email),
			Active:       true,
			ReceiveEmail: occstore.MemberCreateReceiveEmailYes,
			Roles:        []occstore.Role{{Function: occstore.Buyer}},
			AdditionalProperties: map[string]json.RawMessage{
				"Age":      json.RawMessage(`30`),
				"Nickname": json.RawMessage(`"Leo"`),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+email, created.StatusCode(), created.Body, http.StatusOK)
		id = created.JSON200.Id
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			t.Fatalf("create %s answered %s, want a numeric id", email, created.Body)
		}
	}) {
		return
	}
	t.Run("get", func(t *testing.T) {
		got, err := c.GetMemberWithResponse(ctx, id, inOrg)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+id, got.StatusCode(), got.Body, http.StatusOK)
		m := got.JSON200
		if m.Id != id || m.RepositoryId != id || m.Email != email || m.FirstName != "Leota" || m.LastName != "Dilliard" || !m.Active ||
			m.ReceiveEmail != occstore.MemberReceiveEmailYes || !slices.Equal(m.Roles, []occstore.Role{{Function: occstore.Buyer}}) ||
			m.ParentOrganization != (occstore.OrganizationRef{Id: occstoreOrg, Name: "E2E"}) {
			t.Errorf("get %s = %s, want Leota Dilliard, %s, active, receiveEmail yes, a buyer of %s", id, got.Body, email, occstoreOrg)
		}
		if l, err := m.Locale.Get(); err != nil || l != "en" {
			t.Errorf("get %s: locale %s, want en (X-CCAsset-Language)", id, got.Body)
		}
		if age, nick := m.AdditionalProperties["Age"], m.AdditionalProperties["Nickname"]; age != 30.0 || nick != "Leo" || len(m.AdditionalProperties) != 2 {
			t.Errorf("get %s: dynamic properties of %s, want Age 30 and Nickname Leo only", id, got.Body)
		}
	})

	// Update: the fields sent change, dynamic properties sent are set, the others are kept.
	t.Run("update", func(t *testing.T) {
		no := occstore.MemberUpdateReceiveEmailNo
		inactive := false
		roles := []occstore.Role{{Function: occstore.Admin}, {Function: occstore.Buyer}}
		updated, err := c.UpdateMemberWithResponse(ctx, id, &occstore.UpdateMemberParams{XCCOrganization: &org}, occstore.MemberUpdate{
			LastName: &lastName, ReceiveEmail: &no, Roles: &roles, Active: &inactive,
			AdditionalProperties: map[string]json.RawMessage{"Nickname": json.RawMessage(`"Lee"`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+id, updated.StatusCode(), updated.Body, http.StatusOK)
		again, err := c.GetMemberWithResponse(ctx, id, inOrg)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+id+" after the update", again.StatusCode(), again.Body, http.StatusOK)
		for what, u := range map[string]*occstore.GetMemberResponse{"update": {Body: updated.Body, JSON200: updated.JSON200}, "get after the update": again} {
			a := u.JSON200
			if a.LastName != lastName || a.FirstName != "Leota" || a.Email != email || a.Active || a.ReceiveEmail != occstore.MemberReceiveEmailNo ||
				!slices.Equal(a.Roles, roles) || a.AdditionalProperties["Nickname"] != "Lee" || a.AdditionalProperties["Age"] != 30.0 {
				t.Errorf("%s of %s = %s, want Leota %s, inactive, receiveEmail no, admin and buyer, Nickname Lee, Age 30", what, id, u.Body, lastName)
			}
			if l, err := a.Locale.Get(); err != nil || l != "en" {
				t.Errorf("%s of %s = %s, want locale en still", what, id, u.Body)
			}
		}

		// List with a filter over the changed fields.
		t.Run("list", func(t *testing.T) {
			q := `email eq "` + strings.ToUpper(email) + `" and active eq false and roles eq "admin"`
			list, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &org, Q: &q})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list q="+q, list.StatusCode(), list.Body, http.StatusOK)
			if l := list.JSON200; l.Total != 1 || l.TotalResults != 1 || len(l.Items) != 1 || l.Items[0].Id != id || l.Items[0].LastName != lastName {
				t.Errorf("list q=%s = %s, want %s alone", q, list.Body, id)
			}
		})
	})
	t.Run("list buyers in the default organization", func(t *testing.T) {
		buyers := `roles eq "buyer" and email sw "bea@"`
		sort := "email:asc"
		found, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{Q: &buyers, Sort: &sort})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list q="+buyers+" in the default organization", found.StatusCode(), found.Body, http.StatusOK)
		if l := found.JSON200; len(l.Items) != 1 || l.Items[0].Email != occstoreBuyerEmail || l.Items[0].ParentOrganization.Id != occstoreOrg {
			t.Fatalf("list q=%s = %s, want %s of %s alone", buyers, found.Body, occstoreBuyerEmail, occstoreOrg)
		}
		buyerID = found.JSON200.Items[0].Id
	})

	// 400: what the schema rules out, reported together.
	t.Run("400 no email and no roles", func(t *testing.T) {
		bad, err := c.CreateMemberWithBodyWithResponse(invalid(ctx), &occstore.CreateMemberParams{XCCOrganization: &org}, "application/json",
			strings.NewReader(`{"firstName":"Bo","lastName":"Buyer","active":true,"receiveEmail":"no"}`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "no email and no roles", bad.StatusCode(), bad.Body, http.StatusBadRequest)
		if e := bad.JSON400; e == nil || occStr(e.Message) != "There are 2 errors in the request." || occStr(e.Status) != "400" || e.Errors == nil ||
			!slices.Equal(occstoreItems(*e.Errors), []occProblem{
				{"22003", "The email is missing or empty.", "400", "/email"},
				{"22007", "The value of roles is missing.", "400", "/roles"},
			}) {
			t.Errorf("no email and no roles answered %s, want errors 22003 on /email and 22007 on /roles", bad.Body)
		}
	})
	t.Run("400 receiveEmail maybe", func(t *testing.T) {
		receive, err := c.CreateMemberWithResponse(invalid(ctx), &occstore.CreateMemberParams{XCCOrganization: &org}, occstore.MemberCreate{
			FirstName: "Bo", LastName: "Buyer", Email: openapi_types.Email("e2e-occstore-bo-" + run + "@example.com"), Active: true,
			ReceiveEmail: "maybe", Roles: []occstore.Role{{Function: occstore.Buyer}},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "receiveEmail maybe", receive.StatusCode(), receive.Body, http.StatusBadRequest)
		occWant(t, "receiveEmail maybe", receive.Body, occstoreProblem(receive.JSON400), occProblem{"22007", "The value of receiveEmail is invalid.", "400", "/receiveEmail"})
	})

	t.Run("400 login grant_type=client_credentials", func(t *testing.T) {
		grant, err := c.LoginWithFormdataBodyWithResponse(invalid(ctx), occstore.LoginRequest{GrantType: "client_credentials", Username: occstoreAdminEmail, Password: occPtr(occstoreAdminPassword)}, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login grant_type=client_credentials", grant.StatusCode(), grant.Body, http.StatusBadRequest)
		if e := grant.JSON400; e == nil || occStr(e.ErrorCode) != "22007" || occStr(e.Status) != "400" {
			t.Errorf("login grant_type=client_credentials answered %s, want error 22007", grant.Body)
		}
	})

	// 400: OCC's rules that need the database or look at dynamic properties, in valid requests.
	t.Run("400 email taken", func(t *testing.T) {
		upper := strings.ToUpper(email)
		duplicate, err := c.CreateMemberWithResponse(ctx, &occstore.CreateMemberParams{XCCOrganization: &org}, occstore.MemberCreate{
			FirstName: "Leota", LastName: "Again", Email: openapi_types.Email(upper), Active: true,
			ReceiveEmail: occstore.MemberCreateReceiveEmailNo, Roles: []occstore.Role{{Function: occstore.Buyer}},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+upper, duplicate.StatusCode(), duplicate.Body, http.StatusBadRequest)
		occWant(t, "create "+upper, duplicate.Body, occstoreProblem(duplicate.JSON400), occProblem{"22006", "A member with this email already exists.", "400", "/email"})
	})

	t.Run("400 dynamic repositoryId", func(t *testing.T) {
		reserved, err := c.UpdateMemberWithResponse(ctx, id, &occstore.UpdateMemberParams{XCCOrganization: &org}, occstore.MemberUpdate{
			AdditionalProperties: map[string]json.RawMessage{"repositoryId": json.RawMessage(`"1"`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+id+" with a dynamic repositoryId", reserved.StatusCode(), reserved.Body, http.StatusBadRequest)
		occWant(t, "update "+id+" with a dynamic repositoryId", reserved.Body, occstoreProblem(reserved.JSON400), occProblem{"22007", "repositoryId cannot be set.", "400", "/repositoryId"})
	})

	t.Run("400 invalid filter", func(t *testing.T) {
		badFilter := `email zz "leota"`
		filter, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &org, Q: &badFilter})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list q="+badFilter, filter.StatusCode(), filter.Body, http.StatusBadRequest)
		if e := filter.JSON400; e == nil || occStr(e.ErrorCode) != "22007" || occStr(e.Status) != "400" || occStr(e.OErrorPath) != "/q" || !strings.HasPrefix(occStr(e.Message), "The filter is invalid") {
			t.Errorf("list q=%s answered %s, want error 22007 on /q", badFilter, filter.Body)
		}
	})

	// 401: no token, a token that is not one, another OCC API's token, a wrong password.
	t.Run("401 no token", func(t *testing.T) {
		noToken, err := c.ListMembersWithResponse(invalid(ctx), &occstore.ListMembersParams{XCCOrganization: &org}, occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list without a token", noToken.StatusCode(), noToken.Body, http.StatusUnauthorized)
		occWant(t, "list without a token", noToken.Body, occstoreProblem(noToken.JSON401), occProblem{"401", "This request requires an access token.", "401", ""})
	})

	t.Run("401 a token that is not one", func(t *testing.T) {
		garbage, err := c.GetMemberWithResponse(ctx, id, inOrg, occBearer("e2e-not-a-token"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get with a token that is not one", garbage.StatusCode(), garbage.Body, http.StatusUnauthorized)
		occWant(t, "get with a token that is not one", garbage.Body, occstoreProblem(garbage.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
	})

	t.Run("401 occadmin token", func(t *testing.T) {
		ad, err := occadmin.NewClientWithResponses(env.urls["occadmin"], occadmin.WithHTTPClient(newDoer(t, "occadmin")))
		if err != nil {
			t.Fatal(err)
		}
		adminToken := occadminLogin(t, ctx, ad, key("occadmin"))
		foreign, err := c.RefreshWithResponse(ctx, occBearer(adminToken))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "refresh an occadmin token", foreign.StatusCode(), foreign.Body, http.StatusUnauthorized)
		occWant(t, "refresh an occadmin token", foreign.Body, occstoreProblem(foreign.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
	})

	t.Run("401 wrong username or password", func(t *testing.T) {
		for _, login := range []struct{ username, password string }{
			{occstoreAdminEmail, "wrong-password"},
			{"e2e-nobody@e2e.example", occstoreAdminPassword},
			{email, "any-password"}, // a member created through the API has no password
		} {
			what := "login " + login.username + " with password " + login.password
			t.Run(what, func(t *testing.T) {
				res, err := c.LoginWithFormdataBodyWithResponse(ctx, occstore.LoginRequest{GrantType: occstore.Password, Username: login.username, Password: occPtr(login.password)}, occNoBearer)
				if err != nil {
					t.Fatal(err)
				}
				want(t, what, res.StatusCode(), res.Body, http.StatusUnauthorized)
				occWant(t, what, res.Body, occstoreProblem(res.JSON401), occProblem{"401", "The username or password is invalid.", "401", ""})
			})
		}
	})

	// 403: a buyer reads itself but administers nothing; nobody acts in an organization it is not in.
	t.Run("403 buyer", func(t *testing.T) {
		buyer := occstoreLogin(t, ctx, d, d.url(), occstoreBuyerEmail, occstoreBuyerPassword)
		t.Run("gets itself", func(t *testing.T) {
			if buyerID == "" {
				t.Skip("no buyer id: the list of buyers did not find it")
			}
			self, err := c.GetMemberWithResponse(ctx, buyerID, nil, occBearer(buyer))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "the buyer gets itself", self.StatusCode(), self.Body, http.StatusOK)
			if s := self.JSON200; s.Email != occstoreBuyerEmail || !slices.Equal(s.Roles, []occstore.Role{{Function: occstore.Buyer}}) || s.ReceiveEmail != occstore.MemberReceiveEmailNo || !s.Locale.IsNull() {
				t.Errorf("the buyer's get of itself = %s, want %s, a buyer, receiveEmail no, locale null", self.Body, occstoreBuyerEmail)
			}
		})
		const onlyAdmins = "Only a delegated administrator of the organization may do this."
		t.Run("lists", func(t *testing.T) {
			buyerList, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &org}, occBearer(buyer))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "the buyer lists", buyerList.StatusCode(), buyerList.Body, http.StatusForbidden)
			occWant(t, "the buyer lists", buyerList.Body, occstoreProblem(buyerList.JSON403), occProblem{"403", onlyAdmins, "403", ""})
		})
		t.Run("creates", func(t *testing.T) {
			buyerCreate, err := c.CreateMemberWithResponse(ctx, nil, occstore.MemberCreate{
				FirstName: "Bo", LastName: "Buyer", Email: openapi_types.Email("e2e-occstore-bo-" + run + "@example.com"), Active: true,
				ReceiveEmail: occstore.MemberCreateReceiveEmailNo, Roles: []occstore.Role{{Function: occstore.Buyer}},
			}, occBearer(buyer))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "the buyer creates", buyerCreate.StatusCode(), buyerCreate.Body, http.StatusForbidden)
			occWant(t, "the buyer creates", buyerCreate.Body, occstoreProblem(buyerCreate.JSON403), occProblem{"403", onlyAdmins, "403", ""})
		})
		t.Run("gets another member", func(t *testing.T) {
			buyerGet, err := c.GetMemberWithResponse(ctx, id, inOrg, occBearer(buyer))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "the buyer gets "+id, buyerGet.StatusCode(), buyerGet.Body, http.StatusForbidden)
			occWant(t, "the buyer gets "+id, buyerGet.Body, occstoreProblem(buyerGet.JSON403), occProblem{"403", onlyAdmins, "403", ""})
		})
	})

	t.Run("403 another organization", func(t *testing.T) {
		elsewhere := "or-e2e-elsewhere"
		outside, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &elsewhere})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list in "+elsewhere, outside.StatusCode(), outside.Body, http.StatusForbidden)
		occWant(t, "list in "+elsewhere, outside.Body, occstoreProblem(outside.JSON403), occProblem{"403", "The caller does not belong to the organization " + elsewhere + ".", "403", ""})
	})

	// 404, on a read and on a write.
	const missingID = "999999999"
	t.Run("404 get", func(t *testing.T) {
		missing, err := c.GetMemberWithResponse(ctx, missingID, inOrg)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+missingID, missing.StatusCode(), missing.Body, http.StatusNotFound)
		occWant(t, "get "+missingID, missing.Body, occstoreProblem(missing.JSON404), occProblem{"404", "No member has the id " + missingID + ".", "404", ""})
	})
	t.Run("404 update", func(t *testing.T) {
		missingPut, err := c.UpdateMemberWithResponse(ctx, missingID, &occstore.UpdateMemberParams{XCCOrganization: &org}, occstore.MemberUpdate{LastName: &lastName})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+missingID, missingPut.StatusCode(), missingPut.Body, http.StatusNotFound)
		occWant(t, "update "+missingID, missingPut.Body, occstoreProblem(missingPut.JSON404), occProblem{"404", "No member has the id " + missingID + ".", "404", ""})
	})

	// 413 and 415.
	t.Run("413 body over the limit", func(t *testing.T) {
		large, err := c.CreateMemberWithBodyWithResponse(oversized(ctx), &occstore.CreateMemberParams{XCCOrganization: &org}, "application/json", tooLarge())
		if err != nil {
			t.Fatal(err)
		}
		want(t, "body over the limit", large.StatusCode(), large.Body, http.StatusRequestEntityTooLarge)
		occWant(t, "body over the limit", large.Body, occstoreProblem(large.JSON413), occProblem{"413", "Request Entity Too Large", "413", ""})
	})

	t.Run("415 plain text body", func(t *testing.T) {
		media, err := c.UpdateMemberWithBodyWithResponse(invalid(ctx), id, &occstore.UpdateMemberParams{XCCOrganization: &org}, "text/plain", strings.NewReader("active=true"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "text/plain body", media.StatusCode(), media.Body, http.StatusUnsupportedMediaType)
		occWant(t, "text/plain body", media.Body, occstoreProblem(media.JSON415), occProblem{"415", "Unsupported Media Type", "415", ""})
	})

	t.Run("415 login with a JSON body", func(t *testing.T) {
		jsonLogin, err := c.LoginWithBodyWithResponse(invalid(ctx), "application/json",
			strings.NewReader(`{"grant_type":"password","username":"`+occstoreAdminEmail+`","password":"`+occstoreAdminPassword+`"}`), occNoBearer)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "login with a JSON body", jsonLogin.StatusCode(), jsonLogin.Body, http.StatusUnsupportedMediaType)
		occWant(t, "login with a JSON body", jsonLogin.Body, occstoreProblem(jsonLogin.JSON415), occProblem{"415", "Unsupported Media Type", "415", ""})
	})

	// The current profile: the administrator, its organizations, and the one in force.
	t.Run("current profile", func(t *testing.T) {
		cur, err := c.GetCurrentProfileWithResponse(ctx, &occstore.GetCurrentProfileParams{XCCOrganization: &org})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "current profile", cur.StatusCode(), cur.Body, http.StatusOK)
		if p := cur.JSON200; p == nil || p.Email != occstoreAdminEmail || p.CurrentOrganization == nil || p.CurrentOrganization.Id != occstoreOrg ||
			p.ParentOrganization.Id != occstoreOrg || !slices.Equal(p.Roles, []occstore.Role{{Function: occstore.Admin}}) {
			t.Errorf("current profile = %s, want %s, an admin of %s, acting in it", cur.Body, occstoreAdminEmail, occstoreOrg)
		}
	})

	// Logout ends the token sent, and only that one: OCC's {"result": true}, then 401 for it.
	t.Run("logout", func(t *testing.T) {
		ended := occstoreLogin(t, ctx, d, d.url(), occstoreAdminEmail, occstoreAdminPassword)
		out, err := c.LogoutWithResponse(ctx, occBearer(ended))
		if err != nil {
			t.Fatal(err)
		}
		occLoggedOut(t, "logout", out.StatusCode(), out.Body, out.JSON200 != nil && out.JSON200.Result)
		again, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &org}, occBearer(ended))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list with a logged-out token", again.StatusCode(), again.Body, http.StatusUnauthorized)
		occWant(t, "list with a logged-out token", again.Body, occstoreProblem(again.JSON401), occProblem{"401", "The access token is invalid or has expired.", "401", ""})
		kept, err := c.GetMemberWithResponse(ctx, id, inOrg)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "another token of the same member after a logout", kept.StatusCode(), kept.Body, http.StatusOK)
	})

	d.coverage()
}

func occPtr[T any](v T) *T { return &v }

// TestOCCStoreB2BFlow replays what a B2B storefront does for a new user, through the generated
// client: the delegated administrator logs in, reads its current profile to learn its
// organizations, switches organization, creates a buyer in one and an administrator in the
// other; a member who is a buyer in one organization and an administrator in the other is
// refused where OCC refuses it and served where it administers; everyone logs out.
func TestOCCStoreB2BFlow(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "occstore")
	c, err := occstore.NewClientWithResponses(d.url(), occstore.WithHTTPClient(d))
	if err != nil {
		t.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	orgA, orgB := occstoreOrg, occstoreOrgB

	ada := occstoreLogin(t, ctx, d, d.url(), occstoreAdminEmail, occstoreAdminPassword)
	cur, err := c.GetCurrentProfileWithResponse(ctx, nil, occBearer(ada))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "current profile", cur.StatusCode(), cur.Body, http.StatusOK)
	p := cur.JSON200
	if p.CurrentOrganization == nil || p.CurrentOrganization.Id != orgA || p.ParentOrganization.Id != orgA ||
		!slices.ContainsFunc(p.SecondaryOrganizations, func(o occstore.OrganizationRef) bool { return o.Id == orgB }) {
		t.Fatalf("current profile = %s, want %s in force and %s among the secondary organizations", cur.Body, orgA, orgB)
	}

	// Switch to B: the same profile, B in force, Ada's roles there.
	switched, err := c.GetCurrentProfileWithResponse(ctx, &occstore.GetCurrentProfileParams{XCCOrganization: &orgB}, occBearer(ada))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "current profile in "+orgB, switched.StatusCode(), switched.Body, http.StatusOK)
	if s := switched.JSON200; s.CurrentOrganization == nil || s.CurrentOrganization.Id != orgB || !slices.Equal(s.Roles, []occstore.Role{{Function: occstore.Admin}}) {
		t.Fatalf("current profile in %s = %s, want it in force with the admin role", orgB, switched.Body)
	}

	// A buyer in A, an administrator in B.
	create := func(org, email string, f occstore.RoleFunction) string {
		t.Helper()
		res, err := c.CreateMemberWithResponse(ctx, &occstore.CreateMemberParams{XCCOrganization: &org}, occstore.MemberCreate{
			FirstName: "New", LastName: "Member", Email: openapi_types.Email(email), Active: true,
			ReceiveEmail: occstore.MemberCreateReceiveEmailNo, Roles: []occstore.Role{{Function: f}},
		}, occBearer(ada))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+email+" in "+org, res.StatusCode(), res.Body, http.StatusOK)
		return res.JSON200.Id
	}
	buyerID := create(orgA, "e2e-b2b-buyer-"+run+"@example.com", occstore.Buyer)
	adminID := create(orgB, "e2e-b2b-admin-"+run+"@example.com", occstore.Admin)
	for _, c2 := range []struct {
		id, org string
		status  int
		roles   []occstore.Role
	}{
		{buyerID, orgA, http.StatusOK, []occstore.Role{{Function: occstore.Buyer}}},
		{adminID, orgB, http.StatusOK, []occstore.Role{{Function: occstore.Admin}}},
		{adminID, orgA, http.StatusNotFound, nil},
	} {
		got, err := c.GetMemberWithResponse(ctx, c2.id, &occstore.GetMemberParams{XCCOrganization: &c2.org}, occBearer(ada))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+c2.id+" in "+c2.org, got.StatusCode(), got.Body, c2.status)
		if c2.status == http.StatusOK && (!slices.Equal(got.JSON200.Roles, c2.roles) || got.JSON200.ParentOrganization.Id != c2.org) {
			t.Errorf("get %s in %s = %s, want the roles %v of %s", c2.id, c2.org, got.Body, c2.roles, c2.org)
		}
	}

	// Bea is a buyer of A and an administrator of B: refused in A (OCC's 403), served in B.
	bea := occstoreLogin(t, ctx, d, d.url(), occstoreBuyerEmail, occstoreBuyerPassword)
	inA, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &orgA}, occBearer(bea))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "Bea lists "+orgA, inA.StatusCode(), inA.Body, http.StatusForbidden)
	occWant(t, "Bea lists "+orgA, inA.Body, occstoreProblem(inA.JSON403), occProblem{"403", "Only a delegated administrator of the organization may do this.", "403", ""})
	admins := `roles eq "admin"`
	inB, err := c.ListMembersWithResponse(ctx, &occstore.ListMembersParams{XCCOrganization: &orgB, Q: &admins}, occBearer(bea))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "Bea lists "+orgB, inB.StatusCode(), inB.Body, http.StatusOK)
	if l := inB.JSON200; !slices.ContainsFunc(l.Items, func(m occstore.Member) bool { return m.Id == adminID }) {
		t.Errorf("Bea lists the administrators of %s: %s, want %s among them", orgB, inB.Body, adminID)
	}

	// Everyone logs out; their tokens end.
	for who, token := range map[string]string{"Ada": ada, "Bea": bea} {
		out, err := c.LogoutWithResponse(ctx, occBearer(token))
		if err != nil {
			t.Fatal(err)
		}
		occLoggedOut(t, who+" logs out", out.StatusCode(), out.Body, out.JSON200 != nil && out.JSON200.Result)
		after, err := c.GetCurrentProfileWithResponse(ctx, nil, occBearer(token))
		if err != nil {
			t.Fatal(err)
		}
		want(t, who+"'s current profile after logout", after.StatusCode(), after.Body, http.StatusUnauthorized)
	}
}
