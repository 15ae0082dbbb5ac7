package occadmin_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// oaUpdater is OCC admin's adapter for apitest.UpdateContract: admin profiles through the API,
// roles read back as their ids (as an update sends them).
type oaUpdater struct {
	*oa
	n atomic.Int64
}

func (x *oaUpdater) Create(t testing.TB) string {
	body := profile(fmt.Sprintf("contract%d@example.com", x.n.Add(1)))
	res := x.Call(t, "POST", "/ccadmin/v1/adminProfiles/", body, "Authorization", "Bearer "+x.token)
	if res.Status != http.StatusOK {
		t.Fatalf("create %v: status %d, want 200; body %s", body, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

func (x *oaUpdater) Update(t testing.TB, id string, change map[string]any) *apitest.Response {
	return x.Call(t, "PUT", "/ccadmin/v1/adminProfiles/"+id, change, "Authorization", "Bearer "+x.token)
}

func (x *oaUpdater) Read(t testing.TB, id string) map[string]any {
	res := x.Call(t, "GET", "/ccadmin/v1/adminProfiles/"+id, nil, "Authorization", "Bearer "+x.token)
	if res.Status != http.StatusOK {
		t.Fatalf("read admin profile %s: status %d, want 200; body %s", id, res.Status, res.Body)
	}
	m := res.Map(t)
	roles, _ := m["roles"].([]any)
	ids := make([]any, len(roles))
	for i, r := range roles {
		ids[i] = r.(map[string]any)["repositoryId"]
	}
	m["roles"] = ids
	return m
}

func TestUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: func(t *testing.T, dialect string) apitest.Updater { return &oaUpdater{oa: start(t, dialect)} },
		Fields: map[string]func(int) any{
			"email":     func(r int) any { return fmt.Sprintf("round%d@example.com", r) },
			"firstName": apitest.Text("First"),
			"lastName":  apitest.Text("Last"),
			"active":    apitest.Toggle(true, false),
			"roles":     apitest.Toggle([]string{"adminRole"}, []string{"catalogRole", "adminRole"}),
		},
	}.Run(t)
}

func (x *oaUpdater) CreateWith(t testing.TB, email string) *apitest.Response {
	return x.Call(t, "POST", "/ccadmin/v1/adminProfiles/", profile(email), "Authorization", "Bearer "+x.token)
}

func (x *oaUpdater) Taken(t testing.TB, r *apitest.Response) bool {
	return r.Status == http.StatusBadRequest && r.Map(t)["errorCode"] == "22006"
}

func (x *oaUpdater) Stored(t testing.TB, email string) int64 {
	return apitest.Stored(t, x.DB, "occadmin_profiles", "email_key", email)
}

func TestCreateContract(t *testing.T) {
	apitest.CreateContract{
		Start:   func(t *testing.T, dialect string) apitest.Creator { return &oaUpdater{oa: start(t, dialect)} },
		Created: http.StatusOK,
	}.Run(t)
}
