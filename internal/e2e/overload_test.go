package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/store"
)

// passwordCreate is a create of one API that hashes a password, and where its records are.
type passwordCreate struct {
	api   string
	req   func(base, email string) *http.Request
	table string // the API's table, whose email_key (login_key for X-Cart) holds the email lower-cased
	key   string
	want  string // the 503 body
}

var passwordCreates = []passwordCreate{
	{"xcart", func(base, e string) *http.Request {
		return request("POST", base+"/api/profiles", `{"login":"`+e+`","password":"overload-password"}`, "X-Auth-Token", key("xcart"), "Content-Type", "application/json")
	}, "xcart_profiles", "login_key", `{"detail":"Service Unavailable"}`},
	{"occadmin", func(base, e string) *http.Request {
		return request("POST", base+"/ccadmin/v1/adminProfiles/", `{"email":"`+e+`","firstName":"O","lastName":"L","roles":["adminRole"],"password":"overload-password"}`, "Content-Type", "application/json")
	}, "occadmin_profiles", "email_key", `{"errorCode":"503","status":"503"}`},
	{"platformos", func(base, e string) *http.Request {
		body := `{"form_configuration_name":"reference_rest_api_create_user","form":{"email":"` + e + `","password":"overload-password","first_name":"O"}}`
		return request("POST", base+"/api/users", body, "Authorization", "Token token="+key("platformos"), "Content-Type", "application/json")
	}, "platformos_users", "email_key", `{"id":null,"errors":{"base":["Service Unavailable"]}}`},
	{"activeplatform", func(base, e string) *http.Request {
		body := `{"first_name":"O","last_name":"L","email":"` + e + `","password":"overload-pass1"}`
		return request("POST", base+"/api/vendor/v1/users.json?api_token="+key("activeplatform"), body, "Content-Type", "application/json")
	}, "activeplatform_users", "email_key", `{"error":"Service Unavailable"}`},
}

// TestPasswordOverload sends far more password creates at once than the server can hash within
// its write timeout. Every client gets a reply — the create (2xx) or 503 with Retry-After in
// the API's format, refused before anything was written — and the database holds exactly the
// records that were answered 2xx: none that a client believes failed, none it never heard of.
func TestPasswordOverload(t *testing.T) {
	const clients = 256
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		dbURL := apitest.DatabaseURL(t, dialect)
		srv := startInstance(t, dbURL, "PROVISIOND_WRITE_TIMEOUT=3s", "PROVISIOND_PASSWORD_CONCURRENCY=1")
		db, err := store.Open(context.Background(), dbURL, store.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		adminToken := token(t, request("POST", srv.url()+"/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+key("occadmin"), "Content-Type", "application/x-www-form-urlencoded"))
		for _, pc := range passwordCreates {
			t.Run(pc.api, func(t *testing.T) {
				prefix := fmt.Sprintf("overload-%s-%d-%d-", pc.api, os.Getpid(), unique.Add(1))
				ps := make([]probe, clients)
				for i := range ps {
					e := fmt.Sprintf("%s%d@overload.example", prefix, i)
					ps[i] = probe{api: pc.api, want: pc.want, req: func() *http.Request {
						r := pc.req(srv.url(), e)
						if pc.api == "occadmin" {
							r.Header.Set("Authorization", "Bearer "+adminToken)
						}
						return r
					}}
				}
				start := time.Now()
				answers := fire(ps, 1)
				created, refused := 0, 0
				var unavailable []reply
				for _, a := range answers {
					switch {
					case a.err != nil:
						t.Errorf("%s: no reply: %v", pc.api, a.err)
					case a.status == http.StatusOK || a.status == http.StatusCreated:
						created++
					default:
						refused++
						unavailable = append(unavailable, a)
					}
				}
				checkUnavailable(t, "overload", unavailable)
				var stored int64
				if err := db.Table(pc.table).Where(pc.key+" LIKE ?", prefix+"%").Count(&stored).Error; err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %d password creates at once: %d created, %d refused with 503, %d stored, in %v",
					pc.api, clients, created, refused, stored, time.Since(start).Round(time.Millisecond))
				if stored != int64(created) {
					t.Errorf("%s: %d records stored, but %d creates were answered 2xx", pc.api, stored, created)
				}
				if created == 0 {
					t.Errorf("%s: no create succeeded under the overload; want some served, the rest refused", pc.api)
				}
			})
		}
	})
}
