package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/gen/control"
)

// retryingClient is the kind of client a team tests against provisiond: it gives each attempt a
// deadline (doubled after an attempt that ran out of time), and retries a 503 or 429 after the
// server's Retry-After (or a short backoff without one) and an attempt that ran out of time, up
// to attempts times in all.
type retryingClient struct {
	d        *doer
	timeout  time.Duration
	attempts int
}

// attempt is what one try of a retryingClient got: a status and body, or an error.
type attempt struct {
	status     int
	retryAfter string
	body       []byte
	err        error
	took       time.Duration
	waited     time.Duration // how long the client waited before the next try
}

// do sends the request newReq makes until it is answered with neither 503 nor 429, or the
// attempts are used up, and returns every attempt.
func (r retryingClient) do(ctx context.Context, newReq func(ctx context.Context) *http.Request) []attempt {
	var tries []attempt
	timeout := r.timeout
	for range r.attempts {
		a := r.once(ctx, timeout, newReq)
		switch {
		case a.err != nil && !errors.Is(a.err, context.DeadlineExceeded):
			return append(tries, a)
		case a.err == nil && a.status != http.StatusServiceUnavailable && a.status != http.StatusTooManyRequests:
			return append(tries, a)
		}
		if a.err != nil {
			timeout *= 2
		}
		a.waited = 50 * time.Millisecond
		if s, err := strconv.Atoi(a.retryAfter); err == nil {
			a.waited = time.Duration(s) * time.Second
		}
		tries = append(tries, a)
		time.Sleep(a.waited)
	}
	return tries
}

func (r retryingClient) once(ctx context.Context, timeout time.Duration, newReq func(ctx context.Context) *http.Request) attempt {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := r.d.Do(newReq(ctx))
	if err != nil {
		return attempt{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return attempt{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: body, err: err, took: time.Since(start)}
}

// retryCase is one API's calls in TestClientRetries: a create that must not be repeated, and a
// call that can be (a read, or platformOS's login), each with its operationId.
type retryCase struct {
	api               string
	createOp, retryOp string
	create            func(ctx context.Context, email string) *http.Request
	retry             func(ctx context.Context) *http.Request
	unavailable       string // a JSON object the API's 503 body contains
	created           int    // the status of a create
}

// jsonRequest is a request with a JSON body (none when body is empty) and the headers given in pairs.
func jsonRequest(ctx context.Context, method, u, body string, header ...string) *http.Request {
	req := request(method, u, body, header...).WithContext(ctx)
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func retryCases(t *testing.T) []retryCase {
	ctx := t.Context()
	adminToken := token(t, jsonRequest(ctx, "POST", env.urls["occadmin"]+"/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+key("occadmin"), "Content-Type", "application/x-www-form-urlencoded"))
	storeToken := occstoreLogin(t, ctx, newDoer(t, "occstore"), env.urls["occstore"], occstoreAdminEmail, occstoreAdminPassword)
	occ := `{"errorCode":"503","status":"503"}`
	ap := "?api_token=" + url.QueryEscape(key("activeplatform"))
	return []retryCase{
		{
			api: "xcart", createOp: "createProfile", retryOp: "listProfiles",
			create: func(ctx context.Context, email string) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["xcart"]+"/api/profiles", `{"login":"`+email+`"}`, "X-Auth-Token", key("xcart"))
			},
			retry: func(ctx context.Context) *http.Request {
				return jsonRequest(ctx, "GET", env.urls["xcart"]+"/api/profiles", "", "X-Auth-Token", key("xcart"))
			},
			unavailable: `{"detail":"Service Unavailable"}`, created: 201,
		},
		{
			api: "occadmin", createOp: "createAdminProfile", retryOp: "listAdminProfiles",
			create: func(ctx context.Context, email string) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["occadmin"]+"/ccadmin/v1/adminProfiles/", `{"email":"`+email+`","firstName":"Rita","lastName":"Retry","roles":["adminRole"]}`, "Authorization", "Bearer "+adminToken)
			},
			retry: func(ctx context.Context) *http.Request {
				return jsonRequest(ctx, "GET", env.urls["occadmin"]+"/ccadmin/v1/adminProfiles", "", "Authorization", "Bearer "+adminToken)
			},
			unavailable: occ, created: 200,
		},
		{
			api: "occstore", createOp: "createMember", retryOp: "listMembers",
			create: func(ctx context.Context, email string) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["occstore"]+"/ccstore/v1/organizationMembers", `{"email":"`+email+`","firstName":"Rita","lastName":"Retry","active":true,"receiveEmail":"no","roles":[{"function":"buyer"}]}`,
					"Authorization", "Bearer "+storeToken, "X-CCOrganization", occstoreOrg)
			},
			retry: func(ctx context.Context) *http.Request {
				return jsonRequest(ctx, "GET", env.urls["occstore"]+"/ccstore/v1/organizationMembers", "", "Authorization", "Bearer "+storeToken, "X-CCOrganization", occstoreOrg)
			},
			unavailable: occ, created: 200,
		},
		{
			api: "platformos", createOp: "createUser", retryOp: "createSession",
			create: func(ctx context.Context, email string) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["platformos"]+"/api/users",
					`{"form_configuration_name":"reference_rest_api_create_user","form":{"email":"`+email+`","password":"retry-password","first_name":"Rita"}}`,
					"Authorization", "Token token="+key("platformos"))
			},
			// A login: platformOS has no read of a user, and logging in again is harmless.
			retry: func(ctx context.Context) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["platformos"]+"/api/sessions",
					`{"form_configuration_name":"reference_rest_api_create_session","form":{"email":"retry-pos@example.com","password":"retry-password"}}`,
					"Authorization", "Token token="+key("platformos"))
			},
			unavailable: `{"id":null,"errors":{"base":["Service Unavailable"]}}`, created: 201,
		},
		{
			// Through the ".json" paths, which the spec names apart (createUserJson).
			api: "activeplatform", createOp: "createUserJson", retryOp: "listUsersJson",
			create: func(ctx context.Context, email string) *http.Request {
				return jsonRequest(ctx, "POST", env.urls["activeplatform"]+"/api/vendor/v1/users.json"+ap, `{"email":"`+email+`","first_name":"Rita","last_name":"Retry","password":"retry-password1"}`)
			},
			retry: func(ctx context.Context) *http.Request {
				return jsonRequest(ctx, "GET", env.urls["activeplatform"]+"/api/vendor/v1/users.json"+ap, "")
			},
			unavailable: `{"error":"Service Unavailable"}`, created: 201,
		},
	}
}

// newControlClient is the control API's generated client, with the control credential.
func newControlClient(t *testing.T, d *doer) *control.ClientWithResponses {
	t.Helper()
	c, err := control.NewClientWithResponses(d.url(), control.WithHTTPClient(d), control.WithRequestEditorFn(controlBearer(key("control"))))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// controlBearer sends secret as the control API's bearer credential.
func controlBearer(secret string) control.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+secret)
		return nil
	}
}

// TestClientRetries is what a team writes to prove its client's retry logic against each of the
// five APIs, through the control API's generated client: injected 503s with and without
// Retry-After on a create, in the API's own error body, must be retried until the create succeeds
// (once: the faulted attempts wrote nothing); a delay past the client's deadline on a call that
// can be repeated must be given up and retried; a random delay within the deadline only slows the
// call. The journal then tells exactly what the client sent.
func TestClientRetries(t *testing.T) {
	ctx := t.Context()
	c := newControlClient(t, newDoer(t, "control"))
	t.Cleanup(func() {
		if res, err := c.ResetWithResponse(context.Background(), nil); err != nil || res.StatusCode() != http.StatusOK {
			t.Errorf("reset after the test: %v %v", res, err)
		}
	})
	addFault := func(t *testing.T, in control.FaultRuleInput) control.FaultRule {
		t.Helper()
		res, err := c.AddFaultWithResponse(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "add fault", res.StatusCode(), res.Body, http.StatusCreated)
		return *res.JSON201
	}
	count := func(t *testing.T, m control.RequestMatcher) int64 {
		t.Helper()
		res, err := c.CountRequestsWithResponse(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "count requests", res.StatusCode(), res.Body, http.StatusOK)
		return res.JSON200.Count
	}
	status := control.FaultActionType("status")
	delay := control.FaultActionType("delay")

	for _, rc := range retryCases(t) {
		t.Run(rc.api, func(t *testing.T) {
			api := control.ApiName(rc.api)
			d := newDoer(t, rc.api)
			client := retryingClient{d: d, timeout: 5 * time.Second, attempts: 4}
			if res, err := c.ClearFaultsWithResponse(ctx); err != nil || res.StatusCode() != http.StatusNoContent {
				t.Fatalf("clear faults: %v %v", res, err)
			}

			// Two 503s, the first with Retry-After: 1, then the create goes through.
			first := addFault(t, control.FaultRuleInput{Match: control.FaultMatcher{Api: &api, Operation: &rc.createOp},
				Action: control.FaultAction{Type: status, Status: ptr(int32(503)), RetryAfter: ptr(int32(1))}, Times: ptr(int32(1))})
			second := addFault(t, control.FaultRuleInput{Match: control.FaultMatcher{Api: &api, Operation: &rc.createOp},
				Action: control.FaultAction{Type: status, Status: ptr(int32(503))}, Times: ptr(int32(1))})
			email := fmt.Sprintf("retry-%s-%d@example.com", rc.api, time.Now().UnixNano())
			tries := client.do(ctx, func(ctx context.Context) *http.Request { return rc.create(ctx, email) })
			if len(tries) != 3 {
				t.Fatalf("create under two 503s: %d attempts %+v, want 3", len(tries), tries)
			}
			for i, a := range tries[:2] {
				var body any
				if a.status != http.StatusServiceUnavailable || json.Unmarshal(a.body, &body) != nil || !contains(body, mustJSON(rc.unavailable)) {
					t.Errorf("attempt %d: %d %s, want 503 with %s", i+1, a.status, a.body, rc.unavailable)
				}
			}
			if tries[0].retryAfter != "1" || tries[1].retryAfter != "" {
				t.Errorf("Retry-After of the 503s: %q and %q, want \"1\" and none", tries[0].retryAfter, tries[1].retryAfter)
			}
			if last := tries[2]; last.status != rc.created {
				t.Fatalf("the create after the 503s: %d %s, want %d", last.status, last.body, rc.created)
			}
			body := map[string]any{"email": email}
			if rc.api == "xcart" {
				body = map[string]any{"login": email}
			} else if rc.api == "platformos" {
				body = map[string]any{"form": map[string]any{"email": email}}
			}
			for _, m := range []struct {
				what string
				m    control.RequestMatcher
				want int64
			}{
				{"every attempt", control.RequestMatcher{Api: &api, Operation: &rc.createOp, Body: &body}, 3},
				{"the faulted ones, answered 503", control.RequestMatcher{Api: &api, Operation: &rc.createOp, Body: &body, Faulted: ptr(true), Status: ptr(int32(503))}, 2},
				{"the one that created", control.RequestMatcher{Api: &api, Operation: &rc.createOp, Body: &body, Faulted: ptr(false), Status: ptr(int32(rc.created))}, 1},
			} {
				if got := count(t, m.m); got != m.want {
					t.Errorf("count of %s: %d, want %d", m.what, got, m.want)
				}
			}
			users, err := c.ListUsersWithResponse(ctx, api, &control.ListUsersParams{Limit: ptr(int32(1000))})
			if err != nil {
				t.Fatal(err)
			}
			want(t, "list users", users.StatusCode(), users.Body, http.StatusOK)
			stored := 0
			for _, u := range users.JSON200.Items {
				if strings.EqualFold(u.Email, email) {
					stored++
				}
			}
			if stored != 1 {
				t.Errorf("%d users stored with %s, want 1: a faulted attempt wrote nothing", stored, email)
			}
			for _, r := range []control.FaultRule{first, second} {
				got, err := c.GetFaultWithResponse(ctx, r.Id)
				if err != nil {
					t.Fatal(err)
				}
				want(t, "get fault", got.StatusCode(), got.Body, http.StatusOK)
				if f := got.JSON200; f.Applied != 1 || f.Remaining == nil || *f.Remaining != 0 {
					t.Errorf("rule %d after the create: applied %d, remaining %v; want 1 and 0", r.Id, f.Applied, f.Remaining)
				}
			}

			// A delay past the client's deadline: the client gives up and tries again (with a
			// longer deadline: a busy machine may need more than 600 ms for a login's hash).
			if rc.api == "platformos" {
				// The login of the retried call needs a user with that email.
				tries := client.do(ctx, func(ctx context.Context) *http.Request {
					return rc.create(ctx, "retry-pos@example.com")
				})
				if s := tries[len(tries)-1].status; s != http.StatusCreated {
					t.Fatalf("platformOS login user: %d %s", s, tries[len(tries)-1].body)
				}
			}
			slow := addFault(t, control.FaultRuleInput{Match: control.FaultMatcher{Api: &api, Operation: &rc.retryOp},
				Action: control.FaultAction{Type: delay, DelayMs: ptr(int32(3000))}, Times: ptr(int32(1))})
			impatient := retryingClient{d: d, timeout: 600 * time.Millisecond, attempts: 3}
			tries = impatient.do(ctx, rc.retry)
			if n := len(tries); n < 2 || !errors.Is(tries[0].err, context.DeadlineExceeded) || tries[n-1].err != nil || tries[n-1].status != http.StatusOK {
				t.Errorf("%s under a 3 s delay with a 600 ms deadline: %+v, want a timeout, then 200", rc.retryOp, tries)
			}
			// The abandoned attempt is journaled once the server is done with it.
			deadline := time.Now().Add(10 * time.Second)
			for count(t, control.RequestMatcher{Api: &api, Operation: &rc.retryOp, Faulted: ptr(true)}) != 1 {
				if time.Now().After(deadline) {
					t.Fatalf("the delayed %s is not journaled as faulted", rc.retryOp)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got, err := c.GetFaultWithResponse(ctx, slow.Id); err != nil || got.JSON200 == nil || got.JSON200.Applied != 1 {
				t.Errorf("the delay rule after the retry: %v %v, want applied once", got, err)
			}

			// A random delay within the deadline only slows the call.
			addFault(t, control.FaultRuleInput{Match: control.FaultMatcher{Api: &api, Operation: &rc.retryOp},
				Action: control.FaultAction{Type: delay, DelayMs: ptr(int32(200)), DelayMaxMs: ptr(int32(400))}, Times: ptr(int32(1))})
			tries = client.do(ctx, rc.retry)
			if len(tries) != 1 || tries[0].status != http.StatusOK || tries[0].took < 200*time.Millisecond {
				t.Errorf("%s under a 200–400 ms delay: %+v, want one 200 after 200 ms at least", rc.retryOp, tries)
			}
		})
	}
}

func mustJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}
