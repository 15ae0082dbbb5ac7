package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/provisiond/provisiond/gen/activeplatform"
	"github.com/provisiond/provisiond/gen/occadmin"
	"github.com/provisiond/provisiond/gen/occstore"
	"github.com/provisiond/provisiond/gen/platformos"
	"github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
)

// startRoundsEnv sets how many rounds TestInstancesStartTogether runs: 10 when unset.
const startRoundsEnv = "PROVISIOND_E2E_START_ROUNDS"

// startInstances is how many instances each round starts at once.
const startInstances = 3

// bootstrapPrefix starts the line that provisiond prints for each credential it creates at its
// first start; the secret is the line's last word.
const bootstrapPrefix = "provisiond: created a read/write credential for "

// TestInstancesStartTogether starts three instances of the binary at once on a fresh PostgreSQL
// database, round after round. Every instance must become ready and keep running; exactly one
// of them prints the bootstrap credentials; the same create sent to the three instances at once
// is made once and answered "already exists" by the others; and a token one instance issues is
// accepted by the others.
func TestInstancesStartTogether(t *testing.T) {
	apitest.RequirePostgres(t) // the instances need a PostgreSQL database to share
	base := os.Getenv(apitest.EnvDatabaseURL)
	if env.prism {
		t.Skip("the start-up race is the server's, not the specs': it runs without Prism")
	}
	rounds := 10
	if v := os.Getenv(startRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a whole number of rounds, 1 or more", startRoundsEnv, v)
		}
		rounds = n
	}
	// The OCC store organization of the suite's fixtures, whose passwords every start hashes and
	// stores, and no credentials: the first start creates one per API and prints it.
	fixturesPath := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(fixturesPath, []byte(occstoreFixtures), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) { startTogether(t, base, fixturesPath) })
	}
}

// startTogether is one round of TestInstancesStartTogether.
func startTogether(t *testing.T, base, fixturesPath string) {
	dbURL, drop, err := apitest.FreshSchema(base)
	if err != nil {
		t.Fatalf("%s: %v", apitest.EnvDatabaseURL, err)
	}
	// Registered first, so that it runs after the instances have stopped.
	t.Cleanup(func() { _ = drop() })
	dir := t.TempDir()
	addrs := make([]string, startInstances)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			t.Fatal(err)
		}
	}
	urls := make([]string, startInstances)
	procs := make([]*process, startInstances)
	for i, addr := range addrs {
		p, err := launch(filepath.Join(dir, fmt.Sprintf("instance-%d.log", i)), env.bin, []string{"serve"},
			append(serverEnv(dbURL, addr, fixturesPath), "PROVISIOND_DB_MAX_CONNS=4"))
		if err != nil {
			t.Fatal(err)
		}
		procs[i], urls[i] = p, "http://"+addr
		// stop fails for an instance that exited on its own: none may.
		t.Cleanup(func() {
			if err := p.stop(); err != nil {
				t.Errorf("instance %d of %d started together: %v", i, startInstances, err)
			}
			logs, err := os.ReadFile(p.log)
			if err != nil {
				t.Error(err)
			}
			apitest.FailOnViolations(t, string(logs))
		})
	}
	for i, p := range procs {
		if err := waitReady(urls[i]+"/readyz", p); err != nil {
			t.Fatalf("instance %d of %d started together: %v, want it ready\n%s", i, startInstances, err, tail(p.log))
		}
	}

	keys := bootstrapKeys(t, procs)
	ctx := t.Context()
	xcartDuplicates(t, ctx, urls, keys["xcart"])
	occadminDuplicates(t, ctx, urls, keys["occadmin"])
	occstoreDuplicates(t, ctx, urls)
	platformosDuplicates(t, ctx, urls, keys["platformos"])
	activeplatformDuplicates(t, ctx, urls, keys["activeplatform"])
}

// bootstrapKeys returns the credentials the instances printed, by API, and fails the test unless
// exactly one instance printed them, one for each API that takes a credential.
func bootstrapKeys(t *testing.T, procs []*process) map[string]string {
	t.Helper()
	keys := map[string]string{}
	var printers []int
	for i, p := range procs {
		b, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		printed := false
		for line := range strings.Lines(string(b)) {
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), bootstrapPrefix)
			if !ok {
				continue
			}
			api, _, _ := strings.Cut(rest, " ")
			if _, twice := keys[api]; twice {
				t.Errorf("a credential for %s printed twice (again by instance %d), want once", api, i)
			}
			keys[api] = rest[strings.LastIndex(rest, " ")+1:]
			printed = true
		}
		if printed {
			printers = append(printers, i)
		}
	}
	if len(printers) != 1 {
		t.Errorf("bootstrap credentials printed by instances %v, want by exactly one", printers)
	}
	apis := slices.Sorted(slices.Values(app.Modules.Keyed()))
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, apis) {
		t.Fatalf("bootstrap credentials printed for %v, want for %v", got, apis)
	}
	return keys
}

// perInstance builds one client per instance, the one of urls[i] at i.
func perInstance[C any](t *testing.T, urls []string, newClient func(url string) (C, error)) []C {
	t.Helper()
	clients := make([]C, len(urls))
	for i, u := range urls {
		var err error
		if clients[i], err = newClient(u); err != nil {
			t.Fatal(err)
		}
	}
	return clients
}

// answer is an instance's answer to one of the creates that createOnce sends at once.
type answer struct {
	status int
	err    error
	// exists fails the test unless the answer is the vendor's "already exists".
	exists func(what string)
}

// createOnce sends one create to every instance at once (create(i) to instance i) and fails the
// test unless exactly one answers created and every other one the vendor's "already exists". It
// returns the instance that created.
func createOnce(t *testing.T, what string, created int, create func(i int) answer) int {
	t.Helper()
	answers := apitest.Concurrently(startInstances, create)
	var won []int
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("%s at instance %d: %v", what, i, a.err)
		case a.status == created:
			won = append(won, i)
		default:
			a.exists(fmt.Sprintf("%s at instance %d of %d at once (status %d)", what, i, startInstances, a.status))
		}
	}
	if len(won) != 1 {
		t.Fatalf("%s at %d instances at once: created (%d) by instances %v, want by exactly one", what, startInstances, created, won)
	}
	return won[0]
}

// xcartDuplicates creates one administrator with a password through all instances at once, then
// logs it in at each instance and reads it with that JWT at the next one.
func xcartDuplicates(t *testing.T, ctx context.Context, urls []string, key string) {
	d := newDoer(t, "xcart")
	clients := perInstance(t, urls, func(u string) (*xcart.ClientWithResponses, error) {
		return xcart.NewClientWithResponses(u, xcart.WithHTTPClient(d), xcart.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-Auth-Token", key)
			return nil
		}))
	})
	login, password, admin := "start.admin@example.com", "start-passw0rd", xcart.ProfileCreateAccessLevelN100
	ids := make([]int, len(urls))
	const taken = `Field "login" must be unique`
	won := createOnce(t, "xcart: create "+login, http.StatusCreated, func(i int) answer {
		res, err := clients[i].CreateProfileWithResponse(ctx, xcart.ProfileCreate{Login: login, Password: nullable.NewNullableWithValue(password), AccessLevel: &admin})
		if err != nil {
			return answer{err: err}
		}
		if res.JSON201 != nil {
			ids[i] = res.JSON201.Id
		}
		return answer{status: res.StatusCode(), exists: func(what string) {
			if p := res.ApplicationproblemJSON400; p == nil || get(p.Detail) != taken {
				t.Errorf("%s: %s, want 400 with the detail %q", what, res.Body, taken)
			}
		}}
	})
	for i, c := range clients {
		issued, err := c.LoginWithResponse(ctx, xcart.LoginRequest{Username: login, Password: &password})
		if err != nil {
			t.Fatal(err)
		}
		want(t, fmt.Sprintf("xcart: log %s in at instance %d", login, i), issued.StatusCode(), issued.Body, http.StatusOK)
		next := (i + 1) % len(clients)
		got, err := clients[next].GetProfileWithResponse(ctx, ids[won], func(_ context.Context, req *http.Request) error {
			req.Header.Del("X-Auth-Token")
			req.Header.Set("Authorization", "Bearer "+issued.JSON200.Token)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.StatusCode() != http.StatusOK {
			t.Errorf("xcart: read profile %d at instance %d with the JWT instance %d issued: status %d %s, want 200", ids[won], next, i, got.StatusCode(), got.Body)
		}
	}
}

// occadminDuplicates creates one admin profile through all instances at once, each with the
// access token that instance 0 issued.
func occadminDuplicates(t *testing.T, ctx context.Context, urls []string, key string) {
	d := newDoer(t, "occadmin")
	var token string
	clients := perInstance(t, urls, func(u string) (*occadmin.ClientWithResponses, error) {
		return occadmin.NewClientWithResponses(u, occadmin.WithHTTPClient(d), occadmin.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		}))
	})
	token = occadminLogin(t, ctx, clients[0], key)
	email := "start.amber@example.com"
	createOnce(t, "occadmin: create "+email, http.StatusOK, func(i int) answer {
		res, err := clients[i].CreateAdminProfileWithResponse(ctx, nil, occadmin.AdminProfileCreate{
			Email: openapi_types.Email(email), FirstName: "Amber", LastName: "Admin", Roles: []string{"catalogRole"},
		})
		if err != nil {
			return answer{err: err}
		}
		return answer{status: res.StatusCode(), exists: func(what string) {
			occWant(t, what, res.Body, occadminProblem(res.JSON400), occProblem{"22006", "A profile with this email already exists.", "400", "/email"})
		}}
	})
}

// occstoreDuplicates creates one member of the fixtures' organization through all instances at
// once, each with the access token its administrator got from instance 0.
func occstoreDuplicates(t *testing.T, ctx context.Context, urls []string) {
	d := newDoer(t, "occstore")
	token := occstoreLogin(t, ctx, d, urls[0], occstoreAdminEmail, occstoreAdminPassword)
	clients := perInstance(t, urls, func(u string) (*occstore.ClientWithResponses, error) {
		return occstore.NewClientWithResponses(u, occstore.WithHTTPClient(d), occstore.WithRequestEditorFn(occBearer(token)))
	})
	org, email := occstoreOrg, "start.leota@example.com"
	createOnce(t, "occstore: create "+email, http.StatusOK, func(i int) answer {
		res, err := clients[i].CreateMemberWithResponse(ctx, &occstore.CreateMemberParams{XCCOrganization: &org}, occstore.MemberCreate{
			FirstName: "Leota", LastName: "Dilliard", Email: openapi_types.Email(email), Active: true,
			ReceiveEmail: occstore.MemberCreateReceiveEmailNo, Roles: []occstore.Role{{Function: occstore.Buyer}},
		})
		if err != nil {
			return answer{err: err}
		}
		return answer{status: res.StatusCode(), exists: func(what string) {
			occWant(t, what, res.Body, occstoreProblem(res.JSON400), occProblem{"22006", "A member with this email already exists.", "400", "/email"})
		}}
	})
}

// platformosDuplicates creates one user through all instances at once.
func platformosDuplicates(t *testing.T, ctx context.Context, urls []string, key string) {
	d := newDoer(t, "platformos")
	clients := perInstance(t, urls, func(u string) (*platformos.ClientWithResponses, error) {
		return platformos.NewClientWithResponses(u, platformos.WithHTTPClient(d), platformos.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Token token="+key)
			return nil
		}))
	})
	form, email, password, firstName := "reference_rest_api_create_user", "start.pos@example.com", "start-password", "Start"
	createOnce(t, "platformos: create "+email, http.StatusCreated, func(i int) answer {
		res, err := clients[i].CreateUserWithResponse(ctx, platformos.UserRequest{
			FormConfigurationName: &form,
			Form:                  platformos.UserForm{Email: &email, Password: &password, FirstName: &firstName},
		})
		if err != nil {
			return answer{err: err}
		}
		return answer{status: res.StatusCode(), exists: func(what string) {
			platformosErrors(t, what, res.ApplicationvndApiJSON422, res.Body, map[string][]string{"email": {"has already been taken"}})
		}}
	})
}

// activeplatformDuplicates creates one user through all instances at once.
func activeplatformDuplicates(t *testing.T, ctx context.Context, urls []string, key string) {
	d := newDoer(t, "activeplatform")
	clients := perInstance(t, urls, func(u string) (*activeplatform.ClientWithResponses, error) {
		return activeplatform.NewClientWithResponses(u, activeplatform.WithHTTPClient(d), activeplatform.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			q := req.URL.Query()
			q.Set("api_token", key)
			req.URL.RawQuery = q.Encode()
			return nil
		}))
	})
	email, password := "start.ap@example.com", "N;T@o;y!4TNqlV"
	createOnce(t, "activeplatform: create "+email, http.StatusCreated, func(i int) answer {
		res, err := clients[i].CreateUserJsonWithResponse(ctx, activeplatform.UserCreate{FirstName: "Start", LastName: "Doe", Email: openapi_types.Email(email), Password: &password})
		if err != nil {
			return answer{err: err}
		}
		return answer{status: res.StatusCode(), exists: func(what string) {
			activeplatformError(t, what, res.JSON422, res.Body, "Email has already been taken")
		}}
	})
}
