package occstore_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/occstore"
)

// osUpdater is OCC store's adapter for apitest.UpdateContract: members of Acme, changed by Ada
// through the API. The hash is "dynamic": dynamic properties are the member's top-level keys.
type osUpdater struct {
	*st
	n atomic.Int64
}

func (x *osUpdater) Create(t testing.TB) string {
	body := member(fmt.Sprintf("contract%d@example.com", x.n.Add(1)))
	res := x.Call(t, "POST", "/ccstore/v1/organizationMembers", body, "Authorization", "Bearer "+x.ada)
	if res.Status != http.StatusOK {
		t.Fatalf("create %v: status %d, want 200; body %s", body, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

func (x *osUpdater) Update(t testing.TB, id string, change map[string]any) *apitest.Response {
	body := maps.Clone(change)
	if dyn, ok := body["dynamic"].(map[string]any); ok {
		delete(body, "dynamic")
		maps.Copy(body, dyn)
	}
	return x.Call(t, "PUT", "/ccstore/v1/organizationMembers/"+id, body, "Authorization", "Bearer "+x.ada)
}

func (x *osUpdater) Read(t testing.TB, id string) map[string]any {
	res := x.Call(t, "GET", "/ccstore/v1/organizationMembers/"+id, nil, "Authorization", "Bearer "+x.ada)
	if res.Status != http.StatusOK {
		t.Fatalf("read member %s: status %d, want 200; body %s", id, res.Status, res.Body)
	}
	m := res.Map(t)
	m["dynamic"] = maps.Clone(m)
	return m
}

func TestUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: func(t *testing.T, dialect string) apitest.Updater { return &osUpdater{st: start(t, dialect)} },
		Fields: map[string]func(int) any{
			"email":        func(r int) any { return fmt.Sprintf("round%d@example.com", r) },
			"firstName":    apitest.Text("First"),
			"lastName":     apitest.Text("Last"),
			"active":       apitest.Toggle(true, false),
			"receiveEmail": apitest.Toggle("yes", "no"),
			"roles":        apitest.Toggle([]map[string]string{{"function": "buyer"}}, []map[string]string{{"function": "admin"}, {"function": "buyer"}}),
			"Nickname":     apitest.Text("Nick"),
		},
		Hash: "dynamic",
	}.Run(t)
}

// TestSeedRolesRace seeds fixtures (DBStore.Seed) that give a member the role admin while an update
// takes its roles down to buyer, in each of apitest.RaceRounds rounds. Loading only adds roles,
// so the update's buyer must remain whichever commits first.
func TestSeedRolesRace(t *testing.T) {
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		const loads = 8
		email := "loaded@example.com"
		id := x.create(t, member(email))
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			t.Fatalf("member id %q: %v", id, err)
		}
		path := "/ccstore/v1/organizationMembers/" + id
		st := occstore.NewStore(x.DB)
		acme := occstore.Organization{ID: "or-acme", Name: "Acme", Active: true}
		seed := occstore.Seed{Organizations: []occstore.Organization{acme}, Members: []occstore.SeedMember{{
			Member: occstore.Member{Email: email, FirstName: "Lou", LastName: "Loaded", Active: true, ReceiveEmail: "no",
				PasswordHash: "not a hash", ParentOrganization: acme.ID},
			Organizations: []occstore.SeedMembership{{Organization: acme.ID, Roles: []string{occstore.RoleAdmin}}},
		}}}
		for r := 1; r <= rounds; r++ {
			if res := x.as(t, x.ada, "PUT", path, map[string]any{"roles": []map[string]string{{"function": "admin"}}}); res.Status != http.StatusOK {
				t.Fatalf("round %d: reset the roles: %d %s", r, res.Status, res.Body)
			}
			errs := apitest.Concurrently(1+loads, func(i int) error {
				if i > 0 {
					_, err := st.Seed(context.Background(), seed, true)
					return err
				}
				if res := x.as(t, x.ada, "PUT", path, map[string]any{"roles": []map[string]string{{"function": "buyer"}}}); res.Status != http.StatusOK {
					return fmt.Errorf("update: %d %s", res.Status, res.Body)
				}
				return nil
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, request %d: %v", r, i, err)
				}
			}
			roles, _, err := st.RolesIn(context.Background(), n, acme.ID)
			if err != nil {
				t.Fatalf("read member %s: %v", id, err)
			}
			if !slices.Contains(roles, occstore.RoleBuyer) {
				t.Fatalf("round %d: roles set to [buyer] while %d fixture loads added admin: read back %v; want buyer among them", r, loads, roles)
			}
		}
	})
}

func (x *osUpdater) CreateWith(t testing.TB, email string) *apitest.Response {
	return x.Call(t, "POST", "/ccstore/v1/organizationMembers", member(email), "Authorization", "Bearer "+x.ada)
}

func (x *osUpdater) Taken(t testing.TB, r *apitest.Response) bool {
	return r.Status == http.StatusBadRequest && r.Map(t)["errorCode"] == "22006"
}

func (x *osUpdater) Stored(t testing.TB, email string) int64 {
	return apitest.Stored(t, x.DB, "occstore_members", "email_key", email)
}

func TestCreateContract(t *testing.T) {
	apitest.CreateContract{
		Start:   func(t *testing.T, dialect string) apitest.Creator { return &osUpdater{st: start(t, dialect)} },
		Created: http.StatusOK,
	}.Run(t)
}
