package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// probe is one request that needs the database, and what its API answers when the database is
// down: a 503 whose body holds want.
type probe struct {
	api  string
	req  func() *http.Request
	want string // a JSON object the 503 body must contain
}

var unique atomic.Int64

func email(prefix string) string {
	return fmt.Sprintf("%s-%d-%d@outage.example", prefix, os.Getpid(), unique.Add(1))
}

func request(method, u string, body string, header ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// token logs in to an OCC API while the database is up and returns the access token.
func token(t *testing.T, req *http.Request) string {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %v", req.URL.Path, res.StatusCode, err)
	}
	return tok.AccessToken
}

// probes are requests of every API that need the database: reads, logins and creates.
func probes(t *testing.T, base string) []probe {
	form := "application/x-www-form-urlencoded"
	adminLogin := func() *http.Request {
		return request("POST", base+"/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+key("occadmin"), "Content-Type", form)
	}
	storeLogin := func() *http.Request {
		body := url.Values{"grant_type": {"password"}, "username": {occstoreAdminEmail}, "password": {occstoreAdminPassword}}.Encode()
		return request("POST", base+"/ccstore/v1/login", body, "Content-Type", form)
	}
	adminToken, storeToken := token(t, adminLogin()), token(t, storeLogin())
	occ := `{"errorCode":"503","status":"503"}`
	return []probe{
		{"xcart", func() *http.Request {
			return request("GET", base+"/api/profiles", "", "X-Auth-Token", key("xcart"))
		}, `{"detail":"Service Unavailable"}`},
		{"xcart", func() *http.Request {
			return request("POST", base+"/api/profiles", `{"login":"`+email("x")+`","password":"outage-password"}`, "X-Auth-Token", key("xcart"), "Content-Type", "application/json")
		}, `{"detail":"Service Unavailable"}`},
		{"occadmin", adminLogin, occ},
		{"occadmin", func() *http.Request {
			return request("GET", base+"/ccadmin/v1/adminProfiles", "", "Authorization", "Bearer "+adminToken)
		}, occ},
		{"occadmin", func() *http.Request {
			return request("POST", base+"/ccadmin/v1/adminProfiles/", `{"email":"`+email("a")+`","firstName":"A","lastName":"B","roles":["adminRole"]}`, "Authorization", "Bearer "+adminToken, "Content-Type", "application/json")
		}, occ},
		{"occstore", storeLogin, occ},
		{"occstore", func() *http.Request {
			return request("GET", base+"/ccstore/v1/organizationMembers", "", "Authorization", "Bearer "+storeToken)
		}, occ},
		{"platformos", func() *http.Request {
			body := `{"form_configuration_name":"reference_rest_api_create_user","form":{"email":"` + email("p") + `","password":"outage-password","first_name":"P"}}`
			return request("POST", base+"/api/users", body, "Authorization", "Token token="+key("platformos"), "Content-Type", "application/json")
		}, `{"id":null,"errors":{"base":["Service Unavailable"]}}`},
		{"activeplatform", func() *http.Request {
			return request("GET", base+"/api/vendor/v1/users.json?api_token="+key("activeplatform"), "")
		}, `{"error":"Service Unavailable"}`},
		{"activeplatform", func() *http.Request {
			body := `{"first_name":"A","last_name":"P","email":"` + email("ap") + `","password":"outage-pass1"}`
			return request("POST", base+"/api/vendor/v1/users.json?api_token="+key("activeplatform"), body, "Content-Type", "application/json")
		}, `{"error":"Service Unavailable"}`},
	}
}

// reply is what one probe got.
type reply struct {
	probe      probe
	status     int
	retryAfter string
	body       []byte
	took       time.Duration
	err        error
}

// fire sends every probe rounds times, all at once, and returns the answers.
func fire(ps []probe, rounds int) []reply {
	var mu sync.Mutex
	var out []reply
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range rounds {
		for _, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := reply{probe: p}
				start := time.Now()
				res, err := client.Do(p.req())
				if err == nil {
					a.body, err = io.ReadAll(res.Body)
					res.Body.Close()
					a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
				}
				a.took, a.err = time.Since(start), err
				mu.Lock()
				out = append(out, a)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}

// contains reports whether the JSON object got holds every member of want, recursively.
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !contains(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

// checkUnavailable fails for every reply that is not the API's 503 with Retry-After, and
// returns the longest time a reply took.
func checkUnavailable(t *testing.T, phase string, answers []reply) time.Duration {
	t.Helper()
	var longest time.Duration
	for _, a := range answers {
		longest = max(longest, a.took)
		req := a.probe.req()
		what := fmt.Sprintf("%s: %s %s %s", phase, a.probe.api, req.Method, req.URL.Path)
		if testing.Verbose() {
			t.Logf("%s: %d in %v", what, a.status, a.took.Round(time.Millisecond))
		}
		if a.err != nil {
			t.Errorf("%s: no reply: %v", what, a.err)
			continue
		}
		var got, want any
		_ = json.Unmarshal(a.body, &got)
		if err := json.Unmarshal([]byte(a.probe.want), &want); err != nil {
			t.Fatal(err)
		}
		if a.status != http.StatusServiceUnavailable || a.retryAfter != "1" || !contains(got, want) {
			t.Errorf("%s: %d Retry-After %q %s, want 503 Retry-After \"1\" with %s", what, a.status, a.retryAfter, a.body, a.probe.want)
		}
	}
	return longest
}

// checkServing fails for every reply of the server's own making (5xx) or none.
func checkServing(t *testing.T, phase string, answers []reply) {
	t.Helper()
	for _, a := range answers {
		req := a.probe.req()
		if a.err != nil || a.status >= 500 {
			t.Errorf("%s: %s %s %s: %d %v %s, want a reply below 500", phase, a.probe.api, req.Method, req.URL.Path, a.status, a.err, a.body)
		}
	}
}

// waitReadyAgain polls /readyz until the server says the database answers again.
func waitReadyAgain(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("/readyz did not reply 200 within a minute of the database coming back")
}

// TestDatabaseOutage runs the binary on a PostgreSQL of its own and takes that database away:
// stopped (a restart or failover), then frozen (a stalled disk or a partition). Meanwhile every
// API answers 503 with Retry-After in its own error format — never 500, never a hang past the
// database deadline — and once the database is back the server serves again without a restart.
func TestDatabaseOutage(t *testing.T) {
	c := newCluster(t)
	const dbTimeout = time.Second
	// Without the credential cache: an OCC application-key login reads nothing but its key, and
	// a key the server keeps is served through an outage until it expires, as it should be
	// (internal/credential's tests); here every probe must need the database.
	srv := startInstance(t, c.URL(), "PROVISIOND_DB_TIMEOUT="+dbTimeout.String(), "PROVISIOND_CREDENTIAL_CACHE_TTL=0")
	ps := probes(t, srv.url())
	checkServing(t, "database up", fire(ps, 1))

	c.stop(t, "fast")
	longest := checkUnavailable(t, "database stopped", fire(ps, 5))
	t.Logf("database stopped: %d requests, the longest answered in %v", 5*len(ps), longest.Round(time.Millisecond))

	c.start(t)
	waitReadyAgain(t, srv.url())
	checkServing(t, "database back", fire(ps, 1))

	// Frozen for longer than any reply may take: a request that waited for the database
	// instead of giving up at its deadline would take the whole freeze.
	const freeze = 8 * time.Second
	c.freeze(t)
	thawed := time.AfterFunc(freeze, c.thaw)
	answers := fire(ps, 3)
	longest = checkUnavailable(t, "database frozen", answers)
	t.Logf("database frozen: %d requests, the longest answered in %v (database deadline %v)", len(answers), longest.Round(time.Millisecond), dbTimeout)
	if longest >= freeze-2*time.Second {
		t.Errorf("database frozen for %v: a reply took %v; requests waited for the database instead of giving up at its %v deadline", freeze, longest, dbTimeout)
	}
	if thawed.Stop() {
		c.thaw()
	}
	waitReadyAgain(t, srv.url())
	checkServing(t, "database thawed", fire(ps, 1))
}
