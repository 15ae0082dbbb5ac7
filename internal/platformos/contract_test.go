package platformos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/platformos"
)

// posUpdater is platformOS's adapter for apitest.UpdateContract: users updated through the API
// with update_any (a fixtures configuration that requires nothing), read back from the database (the API has no read). The
// hash is profiles: a key is a profile type, its value is kept as the property "v".
type posUpdater struct {
	*pos
	n atomic.Int64
}

func (x *posUpdater) Create(t testing.TB) string {
	email := fmt.Sprintf("contract%d@example.com", x.n.Add(1))
	res := x.Call(t, "POST", "/api/users", create("signup_open", map[string]any{"email": email}), "Authorization", x.auth)
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: status %d, want 201; body %s", email, res.Status, res.Body)
	}
	var body struct{ ID int64 }
	res.JSON(t, &body)
	return strconv.FormatInt(body.ID, 10)
}

func (x *posUpdater) Update(t testing.TB, id string, change map[string]any) *apitest.Response {
	form := map[string]any{}
	for k, v := range change {
		if profiles, ok := v.(map[string]any); ok && k == "profiles" {
			wrapped := map[string]any{}
			for typ, p := range profiles {
				wrapped[typ] = map[string]any{"properties": map[string]any{"v": p}}
			}
			v = wrapped
		}
		form[k] = v
	}
	return x.Call(t, "PUT", "/api/users/"+id, map[string]any{"form_configuration_name": "update_any", "form": form}, "Authorization", x.auth)
}

func (x *posUpdater) Read(t testing.TB, id string) map[string]any {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("user id %q: %v", id, err)
	}
	u, err := platformos.NewStore(x.DB).Get(context.Background(), n)
	if err != nil {
		t.Fatalf("read user %s: %v", id, err)
	}
	hash := func(js string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatalf("user %s: stored hash %q: %v", id, js, err)
		}
		return m
	}
	profiles := map[string]any{}
	for typ, p := range hash(u.Profiles) {
		props, _ := p.(map[string]any)["properties"].(map[string]any)
		profiles[typ] = props["v"]
	}
	return map[string]any{
		"email": u.Email, "external_id": u.ExternalID, "first_name": u.FirstName, "middle_name": u.MiddleName,
		"last_name": u.LastName, "name": u.Name, "featured": u.Featured, "public_profile": u.PublicProfile,
		"relationship_users": hash(u.RelationshipUsers), "transactables": hash(u.Transactables), "profiles": profiles,
	}
}

func TestUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: func(t *testing.T, dialect string) apitest.Updater { return &posUpdater{pos: start(t, dialect)} },
		Fields: map[string]func(int) any{
			"email":              func(r int) any { return fmt.Sprintf("round%d@example.com", r) },
			"external_id":        apitest.Text("ext"),
			"first_name":         apitest.Text("First"),
			"middle_name":        apitest.Text("Middle"),
			"last_name":          apitest.Text("Last"),
			"name":               apitest.Text("Name"),
			"featured":           apitest.Toggle(false, true),
			"public_profile":     apitest.Toggle(false, true),
			"relationship_users": func(r int) any { return map[string]any{"friend": r} },
			"transactables":      func(r int) any { return map[string]any{"listing": r} },
		},
		Hash: "profiles",
	}.Run(t)
}

func (x *posUpdater) CreateWith(t testing.TB, email string) *apitest.Response {
	return x.Call(t, "POST", "/api/users", create("signup_open", map[string]any{"email": email}), "Authorization", x.auth)
}

func (x *posUpdater) Taken(t testing.TB, r *apitest.Response) bool {
	return r.Status == http.StatusUnprocessableEntity && fmt.Sprint(r.Map(t)["errors"]) == "map[email:[has already been taken]]"
}

func (x *posUpdater) Stored(t testing.TB, email string) int64 {
	return apitest.Stored(t, x.DB, "platformos_users", "email_key", email)
}

func TestCreateContract(t *testing.T) {
	apitest.CreateContract{
		Start:   func(t *testing.T, dialect string) apitest.Creator { return &posUpdater{pos: start(t, dialect)} },
		Created: http.StatusCreated,
	}.Run(t)
}
