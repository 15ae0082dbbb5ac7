package activeplatform_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/activeplatform"
	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/module"
)

// apUpdater is ActivePlatform's adapter for apitest.UpdateContract: users through the API. The
// hash is custom_attributes, by key; the contract's keys are defined as string attributes whose
// display name is the key, so that a read names them as an update does.
type apUpdater struct {
	*ap
	n atomic.Int64
}

func startUpdater(t *testing.T, dialect string) apitest.Updater {
	x := start(t, dialect, nil)
	defs := make([]activeplatform.Definition, apitest.HashKeys)
	for i := range defs {
		defs[i] = activeplatform.Definition{Key: apitest.HashKey(i), Name: apitest.HashKey(i), Type: activeplatform.TypeString}
	}
	if err := activeplatform.NewStore(x.DB).LoadDefinitions(context.Background(), defs, false, module.Applied{}); err != nil {
		t.Fatalf("define the contract's attributes: %v", err)
	}
	return &apUpdater{ap: x}
}

func (x *apUpdater) Create(t testing.TB) string {
	body := john(fmt.Sprintf("contract%d@example.com", x.n.Add(1)))
	res := x.Call(t, "POST", "/api/vendor/v1/users.json?api_token="+x.token, body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create %v: status %d, want 201; body %s", body, res.Status, res.Body)
	}
	var created struct{ ID int64 }
	res.JSON(t, &created)
	return strconv.FormatInt(created.ID, 10)
}

func (x *apUpdater) Update(t testing.TB, id string, change map[string]any) *apitest.Response {
	body := map[string]any{}
	for k, v := range change {
		if attrs, ok := v.(map[string]any); ok && k == "custom_attributes" {
			list := []map[string]any{}
			for key, value := range attrs {
				list = append(list, map[string]any{"key": key, "value": value})
			}
			v = list
		}
		body[k] = v
	}
	return x.Call(t, "PUT", "/api/vendor/v1/users/"+id+".json?api_token="+x.token, body)
}

func (x *apUpdater) Read(t testing.TB, id string) map[string]any {
	res := x.Call(t, "GET", "/api/vendor/v1/users/"+id+".json?api_token="+x.token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("read user %s: status %d, want 200; body %s", id, res.Status, res.Body)
	}
	m := res.Map(t)
	attrs := map[string]any{}
	list, _ := m["custom_attributes"].([]any)
	for _, a := range list {
		a := a.(map[string]any)
		attrs[a["name"].(string)] = a["value"]
	}
	m["custom_attributes"] = attrs
	return m
}

func TestUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: startUpdater,
		Fields: map[string]func(int) any{
			"first_name":  apitest.Text("First"),
			"middle_name": apitest.Text("Middle"),
			"last_name":   apitest.Text("Last"),
		},
		Hash: "custom_attributes",
	}.Run(t)
}

func (x *apUpdater) CreateWith(t testing.TB, email string) *apitest.Response {
	body := john(email)
	body["password"] = "abcdefg1"
	return x.Call(t, "POST", "/api/vendor/v1/users.json?api_token="+x.token, body)
}

func (x *apUpdater) Taken(t testing.TB, r *apitest.Response) bool {
	return r.Status == http.StatusUnprocessableEntity && r.Map(t)["error"] == "Email has already been taken"
}

func (x *apUpdater) Stored(t testing.TB, email string) int64 {
	return apitest.Stored(t, x.DB, "activeplatform_users", "email_key", email)
}

func TestCreateContract(t *testing.T) {
	apitest.CreateContract{
		// The creates wait for a hashing slot and the database as long as they need: on a loaded
		// machine (other packages' tests at once), 50 argon2id hashes two at a time and their
		// queued writes outlast the default 5 s timeouts, and the late creates would answer 503.
		Start: func(t *testing.T, dialect string) apitest.Creator {
			return &apUpdater{ap: start(t, dialect, func(c *config.Config) { c.PasswordQueueTimeout, c.DBTimeout = 0, 0 })}
		},
		Created: http.StatusCreated,
	}.Run(t)
}
