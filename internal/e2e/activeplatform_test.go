package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/provisiond/provisiond/gen/activeplatform"
)

func TestActivePlatform(t *testing.T) {
	ctx := t.Context()
	d := newDoer(t, "activeplatform")
	// The generated client leaves the spec's query-parameter security to its caller; "" leaves the
	// token out.
	withToken := func(token string) activeplatform.RequestEditorFn {
		return func(_ context.Context, req *http.Request) error {
			q := req.URL.Query()
			q.Del("api_token")
			if token != "" {
				q.Set("api_token", token)
			}
			req.URL.RawQuery = q.Encode()
			return nil
		}
	}
	c, err := activeplatform.NewClientWithResponses(d.url(), activeplatform.WithHTTPClient(d), activeplatform.WithRequestEditorFn(withToken(key("activeplatform"))))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)

	// The steps share what the first ones create. One that the rest build on ends the test when it
	// stops (t.Fatal); any other fails alone.
	var (
		johnEmail, password = "e2e-ap.john.doe@example.com", "N;T@o;y!4TNqlV"
		janeEmail           = "e2e-ap.jane.roe@example.com"
		smith               = "Smith"
		filter              = "E2E-AP."

		created     *activeplatform.CreateUserJsonResponse
		formCreated *activeplatform.CreateUserResponse
		john, jane  *activeplatform.User
		// formUpdated, u: the last update's answer, which the reads after it compare with.
		formUpdated *activeplatform.UpdateUserResponse
		u           *activeplatform.User
	)

	// Create a user with ActivePlatform's own example, as JSON on the .json path.
	if !prerequisite(t, "create", func(t *testing.T) {
		empty := ""
		age := []activeplatform.CustomAttributeInput{{Key: "age", Value: "21"}}
		var err error
		created, err = c.CreateUserJsonWithResponse(ctx, activeplatform.UserCreate{
			FirstName: "John", MiddleName: &empty, LastName: "Doe", Password: &password,
			Email: openapi_types.Email(johnEmail), CustomAttributes: &age,
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+johnEmail, created.StatusCode(), created.Body, http.StatusCreated)
		john = created.JSON201
		if john == nil || john.Id <= 0 || john.FirstName != "John" || john.MiddleName != "" || john.LastName != "Doe" || john.Email != johnEmail ||
			john.Status != activeplatform.UserStatusInactive || !slices.Equal(john.CustomAttributes, []activeplatform.CustomAttribute{{Name: "Age", Value: "21"}}) {
			t.Fatalf("create %s answered %s, want John Doe, inactive (attached to no account yet), with Age 21", johnEmail, created.Body)
		}
		if !john.CreatedAt.Equal(john.UpdatedAt) || john.CreatedAt.Before(start) || john.CreatedAt.After(time.Now()) {
			t.Errorf("create %s answered created_at %s, updated_at %s, want both equal and now", johnEmail, john.CreatedAt, john.UpdatedAt)
		}
		// UTC is the default time zone; the format is ActivePlatform's, milliseconds and a numeric offset.
		if stamp := `"created_at":"` + john.CreatedAt.UTC().Format("2006-01-02T15:04:05.000-07:00") + `"`; !strings.Contains(string(created.Body), stamp) {
			t.Errorf("create %s answered %s, want %s", johnEmail, created.Body, stamp)
		}
	}) {
		return
	}

	// The same form-encoded, on the path without .json.
	if !prerequisite(t, "create form-encoded", func(t *testing.T) {
		var err error
		formCreated, err = c.CreateUserWithFormdataBodyWithResponse(ctx, activeplatform.UserCreate{
			FirstName: "Jane", LastName: "Roe", Password: &password, Email: openapi_types.Email(janeEmail),
		})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+janeEmail+" form-encoded", formCreated.StatusCode(), formCreated.Body, http.StatusCreated)
		jane = formCreated.JSON201
		if jane == nil || jane.Id == john.Id || jane.FirstName != "Jane" || jane.MiddleName != "" || jane.LastName != "Roe" || jane.Email != janeEmail ||
			jane.Status != activeplatform.UserStatusInactive || len(jane.CustomAttributes) != 0 {
			t.Fatalf("create %s form-encoded answered %s, want Jane Roe, inactive, no custom attributes", janeEmail, formCreated.Body)
		}
	}) {
		return
	}

	// Attach John to the fixtures' active account as its owner and Jane as a user (the role left
	// out), on both paths, and Jane to the inactive account: both become active, the vendor's
	// rule, in every answer that shows them.
	if !prerequisite(t, "attach to accounts", func(t *testing.T) {
		owner := activeplatform.CreateAccountAccessJsonParamsRoleOwner
		res, err := c.CreateAccountAccessJsonWithResponse(ctx, &activeplatform.CreateAccountAccessJsonParams{AccountId: activeplatformAccount, UserId: john.Id, Role: &owner})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "attach John as the owner", res.StatusCode(), res.Body, http.StatusCreated)
		for _, account := range []int64{activeplatformAccount, activeplatformInactiveAccount} {
			res, err := c.CreateAccountAccessWithResponse(ctx, &activeplatform.CreateAccountAccessParams{AccountId: account, UserId: jane.Id})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "attach Jane to "+fmt.Sprint(account), res.StatusCode(), res.Body, http.StatusCreated)
		}
		for _, id := range []int64{john.Id, jane.Id} {
			got, err := c.GetUserWithResponse(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get "+fmt.Sprint(id)+" once attached", got.StatusCode(), got.Body, http.StatusOK)
			if got.JSON200.Status != activeplatform.UserStatusActive {
				t.Fatalf("get %d once attached to an active account answered %s, want status active", id, got.Body)
			}
		}
		john.Status, jane.Status = activeplatform.UserStatusActive, activeplatform.UserStatusActive
	}) {
		return
	}

	// An account's users, on both paths: the active account has both, the inactive one Jane.
	t.Run("account users", func(t *testing.T) {
		both, err := c.ListAccountUsersJsonWithResponse(ctx, activeplatformAccount)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "users of "+fmt.Sprint(activeplatformAccount)+".json", both.StatusCode(), both.Body, http.StatusOK)
		if l := *both.JSON200; len(l) != 2 || !activeplatformSameUser(l[0], *john) || !activeplatformSameUser(l[1], *jane) {
			t.Errorf("users of account %d answered %s, want John then Jane, active", activeplatformAccount, both.Body)
		}
		one, err := c.ListAccountUsersWithResponse(ctx, activeplatformInactiveAccount)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "users of "+fmt.Sprint(activeplatformInactiveAccount), one.StatusCode(), one.Body, http.StatusOK)
		if l := *one.JSON200; len(l) != 1 || l[0].Id != jane.Id || l[0].Status != activeplatform.UserStatusActive {
			t.Errorf("users of account %d answered %s, want Jane, active through her other account", activeplatformInactiveAccount, one.Body)
		}
	})

	// Read both back, once on each path.
	t.Run("get", func(t *testing.T) {
		gotJohn, err := c.GetUserWithResponse(ctx, john.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+fmt.Sprint(john.Id), gotJohn.StatusCode(), gotJohn.Body, http.StatusOK)
		if !activeplatformSameUser(*gotJohn.JSON200, *john) {
			t.Errorf("get %d answered %s, want the created %s", john.Id, gotJohn.Body, created.Body)
		}
	})
	t.Run("get .json", func(t *testing.T) {
		gotJane, err := c.GetUserJsonWithResponse(ctx, jane.Id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+fmt.Sprint(jane.Id)+".json", gotJane.StatusCode(), gotJane.Body, http.StatusOK)
		if !activeplatformSameUser(*gotJane.JSON200, *jane) {
			t.Errorf("get %d.json answered %s, want the created %s", jane.Id, gotJane.Body, formCreated.Body)
		}
	})

	// Update: what is sent changes, the rest is kept (the custom attributes not sent too).
	t.Run("update", func(t *testing.T) {
		age22 := []activeplatform.CustomAttributeInput{{Key: "age", Value: "22"}}
		updated, err := c.UpdateUserJsonWithResponse(ctx, john.Id, activeplatform.UserUpdate{LastName: &smith, CustomAttributes: &age22})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+fmt.Sprint(john.Id)+".json", updated.StatusCode(), updated.Body, http.StatusOK)
		if v := updated.JSON200; v.Id != john.Id || v.FirstName != "John" || v.LastName != "Smith" || v.Email != johnEmail ||
			!slices.Equal(v.CustomAttributes, []activeplatform.CustomAttribute{{Name: "Age", Value: "22"}}) ||
			!v.CreatedAt.Equal(john.CreatedAt) || v.UpdatedAt.Before(john.UpdatedAt) {
			t.Errorf("update %d.json with last_name Smith, age 22 answered %s, want John Smith, Age 22, the same created_at", john.Id, updated.Body)
		}
		middle := "Q"
		formUpdated, err = c.UpdateUserWithFormdataBodyWithResponse(ctx, john.Id, activeplatform.UserUpdate{MiddleName: &middle})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+fmt.Sprint(john.Id)+" form-encoded", formUpdated.StatusCode(), formUpdated.Body, http.StatusOK)
		u = formUpdated.JSON200
		if u.MiddleName != "Q" || u.FirstName != "John" || u.LastName != "Smith" ||
			!slices.Equal(u.CustomAttributes, []activeplatform.CustomAttribute{{Name: "Age", Value: "22"}}) {
			t.Errorf("update %d with middle_name Q answered %s, want John Q Smith, Age 22", john.Id, formUpdated.Body)
		}
		t.Run("get .json", func(t *testing.T) {
			reread, err := c.GetUserJsonWithResponse(ctx, john.Id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get "+fmt.Sprint(john.Id)+".json after the updates", reread.StatusCode(), reread.Body, http.StatusOK)
			if !activeplatformSameUser(*reread.JSON200, *u) {
				t.Errorf("get %d.json after the updates answered %s, want the updated %s", john.Id, reread.Body, formUpdated.Body)
			}
		})
	})

	// The email cannot be changed, and a refused update writes nothing.
	t.Run("400 update the email", func(t *testing.T) {
		jack, changed := "Jack", "e2e-ap.john.smith@example.com"
		emailChange, err := c.UpdateUserWithResponse(ctx, john.Id, activeplatform.UserUpdate{Email: &changed, FirstName: &jack})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update the email", emailChange.StatusCode(), emailChange.Body, http.StatusBadRequest)
		activeplatformError(t, "update the email", emailChange.JSON400, emailChange.Body, "email cannot be changed")
		t.Run("get", func(t *testing.T) {
			if u == nil {
				t.Skip("no answer of the updates to compare with")
			}
			unchanged, err := c.GetUserWithResponse(ctx, john.Id)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "get after a refused update", unchanged.StatusCode(), unchanged.Body, http.StatusOK)
			if !activeplatformSameUser(*unchanged.JSON200, *u) {
				t.Errorf("get %d after a refused update answered %s, want %s unchanged", john.Id, unchanged.Body, formUpdated.Body)
			}
		})
	})

	// List: a filter in another letter case, sorted by email, one user a page.
	t.Run("list one a page", func(t *testing.T) {
		byEmail, one := activeplatform.ListUsersJsonParamsSortingFieldEmail, int32(1)
		for page, wantEmails := range [][]string{{janeEmail}, {johnEmail}, nil} {
			page++
			t.Run("page "+fmt.Sprint(page), func(t *testing.T) {
				p := int32(page)
				params := &activeplatform.ListUsersJsonParams{FiltersEmail: &filter, SortingField: &byEmail, PerPage: &one, Page: &p}
				list, err := c.ListUsersJsonWithResponse(ctx, params)
				if err != nil {
					t.Fatal(err)
				}
				what := "list filters[email]=" + filter + "&sorting[field]=email&per_page=1&page=" + fmt.Sprint(page)
				want(t, what, list.StatusCode(), list.Body, http.StatusOK)
				var emails []string
				for _, u := range *list.JSON200 {
					emails = append(emails, u.Email)
				}
				if !slices.Equal(emails, wantEmails) {
					t.Errorf("%s answered %s, want the emails %q", what, list.Body, wantEmails)
				}
			})
		}
	})
	t.Run("list reversed", func(t *testing.T) {
		reversed, active := true, activeplatform.ListUsersParamsFiltersStatusActive
		list, err := c.ListUsersWithResponse(ctx, &activeplatform.ListUsersParams{FiltersEmail: &filter, FiltersStatus: &active, SortingReversed: &reversed})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list active users, in reverse id order", list.StatusCode(), list.Body, http.StatusOK)
		if l := *list.JSON200; len(l) != 2 || l[0].Id != jane.Id || l[1].Id != john.Id {
			t.Errorf("list filters[email]=%s, filters[status]=active, sorting[reversed]=true answered %s, want Jane then John", filter, list.Body)
		}
	})

	// Errors, one of each documented kind.
	t.Run("400 missing fields", func(t *testing.T) {
		missing, err := c.CreateUserJsonWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"last_name":"Poe","email":"e2e-ap.sam@example.com"}`))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create without first_name and password", missing.StatusCode(), missing.Body, http.StatusBadRequest)
		activeplatformError(t, "create without first_name and password", missing.JSON400, missing.Body, "first_name is missing, password is missing")
	})

	t.Run("400 weak password", func(t *testing.T) {
		weak := "password"
		// The spec's Password schema states the default policy: the request is one it refuses.
		weakCreate, err := c.CreateUserWithResponse(invalid(ctx), activeplatform.UserCreate{FirstName: "Sam", LastName: "Poe", Email: "e2e-ap.sam@example.com", Password: &weak})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create with the password "+weak, weakCreate.StatusCode(), weakCreate.Body, http.StatusBadRequest)
		activeplatformError(t, "create with the password "+weak, weakCreate.JSON400, weakCreate.Body, "password is too weak: at least 8 characters, a letter, a digit")
	})

	t.Run("400 per_page=101", func(t *testing.T) {
		tooMany := int32(101)
		pageTooLong, err := c.ListUsersJsonWithResponse(invalid(ctx), &activeplatform.ListUsersJsonParams{PerPage: &tooMany})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list per_page=101", pageTooLong.StatusCode(), pageTooLong.Body, http.StatusBadRequest)
		activeplatformError(t, "list per_page=101", pageTooLong.JSON400, pageTooLong.Body, "per_page is invalid")
	})

	t.Run("401 no api_token", func(t *testing.T) {
		noToken, err := c.GetUserJsonWithResponse(invalid(ctx), john.Id, withToken(""))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get without api_token", noToken.StatusCode(), noToken.Body, http.StatusUnauthorized)
		activeplatformError(t, "get without api_token", noToken.JSON401, noToken.Body, "401 Unauthorized")
	})
	t.Run("401 wrong api_token", func(t *testing.T) {
		wrongToken, err := c.ListUsersJsonWithResponse(ctx, nil, withToken("e2e-wrong-token"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "list with api_token=e2e-wrong-token", wrongToken.StatusCode(), wrongToken.Body, http.StatusUnauthorized)
		activeplatformError(t, "list with api_token=e2e-wrong-token", wrongToken.JSON401, wrongToken.Body, "401 Unauthorized")
	})

	unknown := jane.Id + 1000
	t.Run("404 get", func(t *testing.T) {
		notFound, err := c.GetUserJsonWithResponse(ctx, unknown)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "get "+fmt.Sprint(unknown)+".json", notFound.StatusCode(), notFound.Body, http.StatusNotFound)
		activeplatformError(t, "get "+fmt.Sprint(unknown)+".json", notFound.JSON404, notFound.Body, "Couldn't find User with 'id'="+fmt.Sprint(unknown))
	})
	t.Run("404 update", func(t *testing.T) {
		updateNotFound, err := c.UpdateUserWithResponse(ctx, unknown, activeplatform.UserUpdate{LastName: &smith})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "update "+fmt.Sprint(unknown), updateNotFound.StatusCode(), updateNotFound.Body, http.StatusNotFound)
		activeplatformError(t, "update "+fmt.Sprint(unknown), updateNotFound.JSON404, updateNotFound.Body, "Couldn't find User with 'id'="+fmt.Sprint(unknown))
	})

	t.Run("413 body over the limit", func(t *testing.T) {
		large, err := c.CreateUserJsonWithBodyWithResponse(oversized(ctx), "application/json", tooLarge())
		if err != nil {
			t.Fatal(err)
		}
		want(t, "body over the limit", large.StatusCode(), large.Body, http.StatusRequestEntityTooLarge)
		activeplatformError(t, "body over the limit", large.JSON413, large.Body, "413 Request Entity Too Large")
	})

	t.Run("415 plain text body", func(t *testing.T) {
		media, err := c.CreateUserWithBodyWithResponse(invalid(ctx), "text/plain", strings.NewReader("first_name=Sam"))
		if err != nil {
			t.Fatal(err)
		}
		want(t, "text/plain body", media.StatusCode(), media.Body, http.StatusUnsupportedMediaType)
		activeplatformError(t, "text/plain body", media.JSON415, media.Body, "415 Unsupported Media Type")
	})

	t.Run("404 account", func(t *testing.T) {
		unknownAccount := int64(activeplatformAccount + 1)
		users, err := c.ListAccountUsersJsonWithResponse(ctx, unknownAccount)
		if err != nil {
			t.Fatal(err)
		}
		what := "users of " + fmt.Sprint(unknownAccount) + ".json"
		want(t, what, users.StatusCode(), users.Body, http.StatusNotFound)
		activeplatformError(t, what, users.JSON404, users.Body, "Couldn't find Account with 'id'="+fmt.Sprint(unknownAccount))
		attach, err := c.CreateAccountAccessWithResponse(ctx, &activeplatform.CreateAccountAccessParams{AccountId: unknownAccount, UserId: john.Id})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "attach to "+fmt.Sprint(unknownAccount), attach.StatusCode(), attach.Body, http.StatusNotFound)
		activeplatformError(t, "attach to "+fmt.Sprint(unknownAccount), attach.JSON404, attach.Body, "Couldn't find Account with 'id'="+fmt.Sprint(unknownAccount))
	})

	t.Run("400 attach with a bad role", func(t *testing.T) {
		root := activeplatform.CreateAccountAccessParamsRole("root")
		bad, err := c.CreateAccountAccessWithResponse(invalid(ctx), &activeplatform.CreateAccountAccessParams{AccountId: activeplatformAccount, UserId: jane.Id, Role: &root})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "attach with role root", bad.StatusCode(), bad.Body, http.StatusBadRequest)
		activeplatformError(t, "attach with role root", bad.JSON400, bad.Body, "role does not have a valid value")
	})

	// The same user to the same account twice, whatever the role.
	t.Run("422 attach twice", func(t *testing.T) {
		admin := activeplatform.CreateAccountAccessParamsRoleAdmin
		twice, err := c.CreateAccountAccessWithResponse(ctx, &activeplatform.CreateAccountAccessParams{AccountId: activeplatformAccount, UserId: jane.Id, Role: &admin})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "attach Jane again", twice.StatusCode(), twice.Body, http.StatusUnprocessableEntity)
		activeplatformError(t, "attach Jane again", twice.JSON422, twice.Body, "User has already been taken")
	})

	// The email is taken in any letter case.
	t.Run("422 email taken", func(t *testing.T) {
		takenEmail := strings.ToUpper(johnEmail)
		taken, err := c.CreateUserJsonWithResponse(ctx, activeplatform.UserCreate{FirstName: "Johnny", LastName: "Doe", Email: openapi_types.Email(takenEmail), Password: &password})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "create "+takenEmail, taken.StatusCode(), taken.Body, http.StatusUnprocessableEntity)
		activeplatformError(t, "create "+takenEmail, taken.JSON422, taken.Body, "Email has already been taken")
	})

	d.coverage()
}

// activeplatformSameUser reports whether two answers describe the same state of one user; the
// timestamps are compared as instants.
func activeplatformSameUser(a, b activeplatform.User) bool {
	return a.Id == b.Id && a.FirstName == b.FirstName && a.MiddleName == b.MiddleName && a.LastName == b.LastName &&
		a.Email == b.Email && a.Status == b.Status && slices.Equal(a.CustomAttributes, b.CustomAttributes) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

// activeplatformError fails the test unless got is {"error": message}.
func activeplatformError(t *testing.T, what string, got *activeplatform.Error, body []byte, message string) {
	t.Helper()
	if got == nil || got.Error != message {
		t.Errorf("%s answered %s, want {\"error\":%q}", what, body, message)
	}
}
