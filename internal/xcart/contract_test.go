package xcart_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// xcUpdater is X-Cart's adapter for apitest.UpdateContract: profiles through the API, in the
// API's own field names.
type xcUpdater struct {
	*xc
	n atomic.Int64
}

func (x *xcUpdater) Create(t testing.TB) string {
	login := fmt.Sprintf("contract%d@example.com", x.n.Add(1))
	res := x.Call(t, "POST", "/api/profiles", map[string]any{"login": login}, "X-Auth-Token", x.key)
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: status %d, want 201; body %s", login, res.Status, res.Body)
	}
	return strconv.Itoa(id(t, res.Map(t)))
}

func (x *xcUpdater) Update(t testing.TB, id string, change map[string]any) *apitest.Response {
	return x.Call(t, "PUT", "/api/profiles/"+id, change, "X-Auth-Token", x.key)
}

func (x *xcUpdater) Read(t testing.TB, id string) map[string]any {
	res := x.Call(t, "GET", "/api/profiles/"+id, nil, "X-Auth-Token", x.key)
	if res.Status != http.StatusOK {
		t.Fatalf("read profile %s: status %d, want 200; body %s", id, res.Status, res.Body)
	}
	return res.Map(t)
}

func TestUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: func(t *testing.T, dialect string) apitest.Updater { return &xcUpdater{xc: start(t, dialect)} },
		Fields: map[string]func(int) any{
			"status":                apitest.Toggle("E", "D"),
			"status_comment":        apitest.Text("comment"),
			"referer":               apitest.Text("https://example.com/from"),
			"ga_client_id":          apitest.Text("GA1.2"),
			"language":              func(r int) any { return string(rune('a'+r%26)) + string(rune('a'+r/26%26)) },
			"membership_id":         apitest.Toggle(1, 2),
			"force_change_password": apitest.Toggle(false, true),
			"social_login_provider": apitest.Text("provider"),
			"social_login_id":       apitest.Text("social"),
			"concierge_user_id":     apitest.Text("concierge"),
			"stripe_customer_id":    apitest.Text("cus"),
			"stored_selectors":      func(r int) any { return []string{"selector " + strconv.Itoa(r)} },
			"mail_chimp_lists":      func(r int) any { return []int{r} },
		},
	}.Run(t)
}

// TestLastAdministratorRace takes every administrator away at once, half of them by a delete and
// half by a demotion, in each of apitest.RaceRounds rounds: exactly one must stay, refused with
// X-Cart's 400, and every other request must succeed (two of them deadlocking would be a 500).
func TestLastAdministratorRace(t *testing.T) {
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		const n = 8
		admins := func() []int {
			var ids []int
			if err := x.DB.Table("xcart_profiles").Where("access_level = ?", 100).Order("id").Pluck("id", &ids).Error; err != nil {
				t.Fatalf("list administrators: %v", err)
			}
			return ids
		}
		for r := 1; r <= rounds; r++ {
			for i := len(admins()); i < n; i++ {
				x.create(t, map[string]any{"login": fmt.Sprintf("admin%d-%d@example.com", r, i), "access_level": 100})
			}
			ids := admins()
			res := apitest.Concurrently(len(ids), func(i int) *apitest.Response {
				path := "/api/profiles/" + strconv.Itoa(ids[i])
				if i%2 == 0 {
					return x.Call(t, "DELETE", path, nil, "X-Auth-Token", x.key)
				}
				return x.Call(t, "PUT", path, map[string]any{"access_level": 0}, "X-Auth-Token", x.key)
			})
			var refused []int
			for i, res := range res {
				switch {
				case res.Status == http.StatusBadRequest && detail(t, res) == "Cannot remove the last admin profile":
					refused = append(refused, ids[i])
				case res.Status/100 != 2:
					t.Errorf("round %d: taking administrator %d away (of %d at once): %d %s; want 2xx, or 400 for the last", r, ids[i], len(ids), res.Status, res.Body)
				}
			}
			if left := admins(); len(refused) != 1 || len(left) != 1 || left[0] != refused[0] {
				t.Fatalf("round %d: %d administrators taken away at once: refused %v, administrators left %v; want one, the same", r, len(ids), refused, left)
			}
		}
	})
}

func (x *xcUpdater) CreateWith(t testing.TB, login string) *apitest.Response {
	return x.Call(t, "POST", "/api/profiles", map[string]any{"login": login}, "X-Auth-Token", x.key)
}

func (x *xcUpdater) Taken(t testing.TB, r *apitest.Response) bool {
	return r.Status == http.StatusBadRequest && r.Map(t)["detail"] == `Field "login" must be unique`
}

func (x *xcUpdater) Stored(t testing.TB, login string) int64 {
	return apitest.Stored(t, x.DB, "xcart_profiles", "login_key", login)
}

func TestCreateContract(t *testing.T) {
	apitest.CreateContract{
		Start:   func(t *testing.T, dialect string) apitest.Creator { return &xcUpdater{xc: start(t, dialect)} },
		Created: http.StatusCreated,
	}.Run(t)
}
