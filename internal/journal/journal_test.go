package journal_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/openapi"
)

// newJournal is a journal of size entries and bodyLimit bytes per body that records the five
// vendor APIs.
func newJournal(t testing.TB, size, bodyLimit int) *journal.Journal {
	t.Helper()
	j := journal.New(size, bodyLimit)
	for _, name := range []string{"xcart", "occadmin", "occstore", "platformos", "activeplatform"} {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		j.Record(name, doc)
	}
	return j
}

func add(j *journal.Journal, api, op string, status int) {
	j.Add(journal.Entry{Time: time.Now(), API: api, Operation: op, Method: "POST", Path: "/p", Status: status}, nil, nil, nil, nil, "", "")
}

func ids(es []journal.Entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// The journal keeps the last size entries, newest first, with ids that never name two entries,
// also across a Clear; Get finds only what it still holds.
func TestRing(t *testing.T) {
	j := newJournal(t, 3, 100)
	for i := range 5 {
		add(j, "xcart", "createProfile", 200+i)
	}
	if got := ids(j.List(journal.Filter{})); !slices.Equal(got, []int64{5, 4, 3}) {
		t.Errorf("after 5 of at most 3: ids %v, want [5 4 3]", got)
	}
	if _, ok := j.Get(2); ok {
		t.Error("Get(2) found an entry the ring dropped")
	}
	if e, ok := j.Get(4); !ok || e.Status != 203 {
		t.Errorf("Get(4) = %+v, %v; want status 203", e, ok)
	}
	j.Clear()
	if got := j.List(journal.Filter{}); len(got) != 0 {
		t.Errorf("after Clear: %v", ids(got))
	}
	for range 4 {
		add(j, "xcart", "createProfile", 201)
	}
	got := ids(j.List(journal.Filter{}))
	if len(got) != 3 || got[0] <= 5 || got[0]-got[2] != 2 {
		t.Errorf("after Clear and 4 more: ids %v, want the 3 newest, all above 5", got)
	}
	if _, ok := j.Get(got[0]); !ok {
		t.Errorf("Get(%d) found nothing", got[0])
	}
	if j0 := newJournal(t, 0, 100); j0.Records("xcart") {
		t.Error("a journal of size 0 records")
	}
	if j.Records("control") {
		t.Error("the journal records an API it has no spec of")
	}
}

func TestFilter(t *testing.T) {
	j := newJournal(t, 10, 100)
	add(j, "xcart", "createProfile", 201)
	add(j, "xcart", "getProfile", 404)
	since := time.Now()
	add(j, "occadmin", "createAdminProfile", 201)
	add(j, "xcart", "createProfile", 400)
	for _, c := range []struct {
		f    journal.Filter
		want []int64
	}{
		{journal.Filter{API: "xcart"}, []int64{4, 2, 1}},
		{journal.Filter{Operation: "createProfile"}, []int64{4, 1}},
		{journal.Filter{Status: ptr(201)}, []int64{3, 1}},
		{journal.Filter{Status: ptr(0)}, nil},
		{journal.Filter{Method: "post", Limit: 2}, []int64{4, 3}},
		{journal.Filter{Since: since}, []int64{4, 3}},
		{journal.Filter{API: "platformos"}, nil},
	} {
		if got := ids(j.List(c.f)); !slices.Equal(got, c.want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Secrets are masked before anything is stored: the properties the spec marks (format: password,
// writeOnly) at any depth of a JSON body and in a form, the headers of the API's key schemes and
// those that carry credentials everywhere; a body cut to the limit is masked first.
func TestMasking(t *testing.T) {
	j := newJournal(t, 100, 1000)
	const secret = "hunter2-the-secret"
	h := http.Header{"Authorization": {"Bearer " + secret}, "X-Auth-Token": {secret}, "Cookie": {"s=" + secret}, "Content-Type": {"application/json"}}
	cases := []struct {
		api, mediaType, req, res string
	}{
		{"xcart", "application/json", `{"login":"a@example.com","password":"` + secret + `","nested":[{"password":"` + secret + `"}]}`, `{"token":"` + secret + `"}`},
		{"occadmin", "application/x-www-form-urlencoded", "grant_type=password&username=a&password=" + secret, `{"access_token":"` + secret + `","token_type":"bearer"}`},
		{"platformos", "application/json", `{"form":{"email":"a@example.com","password":"` + secret + `"}}`, `{}`},
		{"activeplatform", "text/plain", `password=` + secret, `{}`},
		{"platformos", "application/json", `{"form":{"pass\u0077ord":"` + secret + `"}}`, `{}`},
		{"xcart", "application/json", `{"login":"a@example.com","PASSWORD":"` + secret + `"}`, `{}`},
		{"xcart", "application/json", `{"login":"a@example.com"} {"password":"` + secret + `"}`, `{}`},
		// Rack, and so ActivePlatform, drops the spaces before a name and reads nested names.
		{"activeplatform", "application/x-www-form-urlencoded", "first_name=A&  password=" + secret, `{}`},
		{"activeplatform", "application/x-www-form-urlencoded", "first_name=A&user%5Bpassword%5D=" + secret + "&password%5B%5D=" + secret, `{}`},
		{"platformos", "application/json", `{"form":{}} {"form":{"password":"` + secret + `"}}`, `{}`},
		{"platformos", "application/json", `{"form":{}}, "password":"` + secret + `"}`, `{}`},
	}
	for _, c := range cases {
		j.Add(journal.Entry{API: c.api, Query: "a=1"}, h, http.Header{"Set-Cookie": {"s=" + secret}}, []byte(c.req), []byte(c.res), c.mediaType, "application/json")
	}
	for _, e := range j.List(journal.Filter{}) {
		all := fmt.Sprint(e)
		if strings.Contains(all, secret) {
			t.Errorf("%s: the journal holds the secret: %s", e.API, all)
		}
		if e.RequestHeaders["Content-Type"] != "application/json" || e.Query != "a=1" {
			t.Errorf("%s: a header or query that holds no secret was changed: %v %q", e.API, e.RequestHeaders, e.Query)
		}
	}
	xs := j.List(journal.Filter{API: "xcart"})
	xc := xs[len(xs)-1]
	if !strings.Contains(xc.RequestBody, `"login":"a@example.com"`) || !strings.Contains(xc.RequestBody, `"password":"***"`) {
		t.Errorf("xcart request body %s: want the login kept and the password ***", xc.RequestBody)
	}
	occ := j.List(journal.Filter{API: "occadmin"})[0]
	if !strings.Contains(occ.RequestBody, "username=a") || !strings.Contains(occ.ResponseBody, `"token_type":"bearer"`) {
		t.Errorf("occadmin: %s / %s: want the username and the token type kept", occ.RequestBody, occ.ResponseBody)
	}

	// A key of a query scheme is masked in every API's query: here ActivePlatform's sent to X-Cart.
	j.Add(journal.Entry{API: "xcart", Query: "page=1&api_token=" + secret}, nil, nil, nil, nil, "", "")
	if q := j.List(journal.Filter{})[0].Query; q != "api_token=%2A%2A%2A&page=1" {
		t.Errorf("query %q, want api_token masked and page kept", q)
	}
	ap := j.List(journal.Filter{API: "activeplatform", Limit: 1})[0]
	if !strings.Contains(ap.RequestBody, "first_name=A") {
		t.Errorf("activeplatform form %q: want first_name kept", ap.RequestBody)
	}

	cut := newJournal(t, 1, 20)
	cut.Add(journal.Entry{API: "xcart"}, nil, nil, []byte(`{"login":"a@example.com","password":"`+secret+`"}`), nil, "application/json", "")
	e := cut.List(journal.Filter{})[0]
	if len(e.RequestBody) != 20 || !e.Truncated || strings.Contains(e.RequestBody, "hunter") {
		t.Errorf("a body over the limit: %q (truncated %v), want its first 20 bytes after masking", e.RequestBody, e.Truncated)
	}
}

// Concurrent adds, lists and clears are safe (go test -race) and every id is unique.
func TestConcurrent(t *testing.T) {
	j := newJournal(t, 50, 100)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				add(j, "xcart", "createProfile", 201)
				if i%50 == 0 && w == 0 {
					j.Clear()
				}
				seen := map[int64]bool{}
				for _, e := range j.List(journal.Filter{Limit: 10}) {
					if seen[e.ID] {
						t.Errorf("id %d listed twice", e.ID)
					}
					seen[e.ID] = true
				}
			}
		})
	}
	wg.Wait()
	for range 50 { // the last Clear may have come after the other workers' last adds
		add(j, "xcart", "createProfile", 201)
	}
	if n := len(j.List(journal.Filter{})); n != 50 {
		t.Errorf("%d entries, want 50", n)
	}
}
