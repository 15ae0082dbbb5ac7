package xcart_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// ld sends a request with the read/write key, asking for JSON-LD by Accept, with a JSON body
// sent as application/ld+json.
func (x *xc) ld(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	return x.Call(t, method, path, body, "X-Auth-Token", x.key, "Accept", "application/ld+json", "Content-Type", "application/ld+json")
}

// Every profile route answers with API Platform's format suffix as without it: ".json" in JSON
// whatever Accept says, ".jsonld" in JSON-LD; another suffix is API Platform's 404.
func TestFormatSuffixes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, suffix := range []string{".json", ".jsonld"} {
			res := x.call(t, "POST", "/api/profiles"+suffix, map[string]any{"login": "jane" + strings.TrimPrefix(suffix, ".") + "@example.com"})
			if res.Status != http.StatusCreated {
				t.Fatalf("POST /api/profiles%s: %d %s", suffix, res.Status, res.Body)
			}
			created := res.Map(t)
			n := id(t, created)
			path := fmt.Sprintf("/api/profiles/%d%s", n, suffix)
			if got := res.Header.Get("Location"); got != fmt.Sprintf("/api/profiles/%d", n) {
				t.Errorf("POST /api/profiles%s: Location %q, want the IRI without the suffix", suffix, got)
			}
			x.suffixed(t, suffix, []suffixCall{
				{"GET", path, nil, http.StatusOK},
				{"PUT", path, map[string]any{"status_comment": "via " + suffix}, http.StatusOK},
				{"GET", "/api/profiles" + suffix, nil, http.StatusOK},
				{"DELETE", path, nil, http.StatusNoContent},
				{"GET", path, nil, http.StatusNotFound},
			})
		}
		x.notFound(t, []suffixNotFound{
			{"GET", "/api/profiles.xml", `Format "xml" is not supported`},
			{"GET", "/api/profiles/1.csv", `Format "csv" is not supported`},
			{"POST", "/api/profiles.html", `Format "html" is not supported`},
			{"GET", "/api/profiles/abc.json", "Not Found"},
			{"GET", "/api/profiles/1.json.json", "Not Found"},
			{"GET", "/api/profiles/999.json", "Not Found"},
		})
	})
}

// suffixCall is a request of a format-suffixed route and the status it wants.
type suffixCall struct {
	method, path string
	body         any
	want         int
}

// suffixed sends each call with Accept asking for the format that suffix does not name, and
// checks that the suffix wins: the status wanted, in the suffix's media type (an error of
// ".json" in problem+json).
func (x *xc) suffixed(t *testing.T, suffix string, calls []suffixCall) {
	t.Helper()
	accept := map[string]string{".json": "application/ld+json", ".jsonld": "application/json"}[suffix]
	for _, tc := range calls {
		res := x.Call(t, tc.method, tc.path, tc.body, "X-Auth-Token", x.key, "Accept", accept)
		if res.Status != tc.want {
			t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, res.Status, res.Body, tc.want)
		}
		want := map[string]string{".json": "application/json", ".jsonld": "application/ld+json"}[suffix]
		if res.Status >= 400 && suffix == ".json" {
			want = "application/problem+json"
		}
		if got := res.Header.Get("Content-Type"); res.Status != http.StatusNoContent && !strings.HasPrefix(got, want) {
			t.Errorf("%s %s (Accept %s): Content-Type %q, want %s", tc.method, tc.path, accept, got, want)
		}
	}
}

// suffixNotFound is a request of a path with a suffix API Platform does not route, and the
// detail of its 404.
type suffixNotFound struct{ method, path, detail string }

// notFound checks that each call is a 404 with its detail.
func (x *xc) notFound(t *testing.T, calls []suffixNotFound) {
	t.Helper()
	for _, tc := range calls {
		res := x.call(t, tc.method, tc.path, nil)
		if res.Status != http.StatusNotFound || detail(t, res) != tc.detail {
			t.Errorf("%s %s: %d %s, want 404 %q", tc.method, tc.path, res.Status, res.Body, tc.detail)
		}
	}
}

// JSON-LD answers carry API Platform's Hydra shapes: an item's @context, @id and @type; a
// collection's members, total and paging links; errors as hydra:Error and ConstraintViolationList.
// Bodies may be sent as application/ld+json.
func TestJSONLD(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.ld(t, "POST", "/api/profiles", map[string]any{"@context": "/api/contexts/Profile", "@type": "Profile", "login": "ld@example.com", "status_comment": "linked"})
		if res.Status != http.StatusCreated {
			t.Fatalf("POST ld+json: %d %s", res.Status, res.Body)
		}
		item := res.Map(t)
		n := id(t, item)
		iri := fmt.Sprintf("/api/profiles/%d", n)
		if item["@context"] != "/api/contexts/Profile" || item["@id"] != iri || item["@type"] != "Profile" || item["login"] != "ld@example.com" || item["status_comment"] != "linked" {
			t.Errorf("created in JSON-LD: %s, want @context, @id %s, @type Profile and the fields", res.Body, iri)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/ld+json") {
			t.Errorf("Content-Type %q, want application/ld+json", got)
		}
		if res := x.ld(t, "PUT", iri, map[string]any{"language": "de"}); res.Status != http.StatusOK || res.Map(t)["language"] != "de" || res.Map(t)["@id"] != iri {
			t.Errorf("PUT ld+json: %d %s", res.Status, res.Body)
		}

		for i := range 5 {
			x.create(t, map[string]any{"login": fmt.Sprintf("page%d@example.com", i)})
		}
		// 6 profiles (ld@, page0..4), 2 a page.
		res = x.ld(t, "GET", "/api/profiles?itemsPerPage=2&page=2", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("GET collection: %d %s", res.Status, res.Body)
		}
		var coll struct {
			Context    string            `json:"@context"`
			ID         string            `json:"@id"`
			Type       string            `json:"@type"`
			Members    []map[string]any  `json:"hydra:member"`
			TotalItems int               `json:"hydra:totalItems"`
			View       map[string]string `json:"hydra:view"`
			Search     struct {
				Template string `json:"hydra:template"`
			} `json:"hydra:search"`
		}
		res.JSON(t, &coll)
		wantView := map[string]string{
			"@id": "/api/profiles?itemsPerPage=2&page=2", "@type": "hydra:PartialCollectionView",
			"hydra:first": "/api/profiles?itemsPerPage=2&page=1", "hydra:last": "/api/profiles?itemsPerPage=2&page=3",
			"hydra:previous": "/api/profiles?itemsPerPage=2&page=1", "hydra:next": "/api/profiles?itemsPerPage=2&page=3",
		}
		if coll.Context != "/api/contexts/Profile" || coll.ID != "/api/profiles" || coll.Type != "hydra:Collection" || coll.TotalItems != 6 ||
			len(coll.Members) != 2 || coll.Members[0]["@id"] != "/api/profiles/3" || coll.Members[0]["@context"] != nil ||
			fmt.Sprint(coll.View) != fmt.Sprint(wantView) || !strings.HasPrefix(coll.Search.Template, "/api/profiles{?first_login[before],") {
			t.Errorf("page 2 of 3 in JSON-LD: %s\nwant view %v", res.Body, wantView)
		}
		for _, tc := range []struct {
			path string
			view map[string]string
		}{
			// The only page, unfiltered: no view.
			{"/api/profiles.jsonld", nil},
			// Filtered, one page: the request's own IRI, brackets encoded as PHP does.
			{"/api/profiles.jsonld?login=page&added%5Bafter%5D=2000-01-01", map[string]string{"@id": "/api/profiles.jsonld?login=page&added%5Bafter%5D=2000-01-01", "@type": "hydra:PartialCollectionView"}},
			// The last page: no next; the page keeps its place in the query.
			{"/api/profiles.jsonld?page=3&itemsPerPage=2", map[string]string{"@id": "/api/profiles.jsonld?page=3&itemsPerPage=2", "@type": "hydra:PartialCollectionView",
				"hydra:first": "/api/profiles.jsonld?page=1&itemsPerPage=2", "hydra:last": "/api/profiles.jsonld?page=3&itemsPerPage=2", "hydra:previous": "/api/profiles.jsonld?page=2&itemsPerPage=2"}},
		} {
			res := x.call(t, "GET", tc.path, nil)
			var got struct {
				View map[string]string `json:"hydra:view"`
			}
			res.JSON(t, &got)
			if res.Status != http.StatusOK || fmt.Sprint(got.View) != fmt.Sprint(tc.view) {
				t.Errorf("GET %s: %d, view %v, want %v", tc.path, res.Status, got.View, tc.view)
			}
		}

		for _, tc := range []struct {
			name, method, path string
			body               any
			header             []string
			status             int
			want               map[string]any
		}{
			{"not found", "GET", "/api/profiles/999", nil, nil, http.StatusNotFound,
				map[string]any{"@context": "/api/contexts/Error", "@type": "hydra:Error", "hydra:title": "An error occurred", "hydra:description": "Not Found"}},
			{"not found, by suffix", "GET", "/api/profiles/999.jsonld", nil, []string{"Accept", "application/json"}, http.StatusNotFound,
				map[string]any{"@type": "hydra:Error", "hydra:description": "Not Found"}},
			{"duplicate login", "POST", "/api/profiles", map[string]any{"login": "LD@example.com"}, nil, http.StatusBadRequest,
				map[string]any{"@type": "hydra:Error", "hydra:description": `Field "login" must be unique`}},
			{"violations", "POST", "/api/profiles", map[string]any{"login": "x", "status": "Z"}, nil, http.StatusUnprocessableEntity,
				map[string]any{"@context": "/api/contexts/ConstraintViolationList", "@type": "ConstraintViolationList",
					"hydra:description": "login: This value is too short. It should have 5 characters or more.\nlogin: This value is not a valid email address.\nstatus: The value you selected is not a valid choice."}},
			{"no credential", "GET", "/api/profiles", nil, []string{"X-Auth-Token", ""}, http.StatusUnauthorized,
				map[string]any{"@type": "hydra:Error", "hydra:description": "Full authentication is required to access this resource."}},
			{"failed login", "POST", "/api-login/check", map[string]any{"username": "nobody@example.com", "password": "wrong-password"}, []string{"Content-Type", "application/json"}, http.StatusUnauthorized,
				map[string]any{"@type": "hydra:Error", "hydra:description": "Invalid credentials.", "code": float64(401), "message": "Invalid credentials."}},
		} {
			header := append([]string{"X-Auth-Token", x.key, "Accept", "application/ld+json", "Content-Type", "application/ld+json"}, tc.header...)
			res := x.Call(t, tc.method, tc.path, tc.body, header...)
			got := res.Map(t)
			if res.Status != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/ld+json") {
				t.Errorf("%s: %d %s (%s), want %d in application/ld+json", tc.name, res.Status, res.Body, res.Header.Get("Content-Type"), tc.status)
				continue
			}
			for k, v := range tc.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s: %s = %v, want %v", tc.name, k, got[k], v)
				}
			}
		}
	})
}

// Accept picks JSON-LD only when it ranks application/ld+json above application/json; JSON wins a
// tie and is the default.
func TestAcceptNegotiation(t *testing.T) {
	x := start(t, "sqlite")
	x.create(t, map[string]any{"login": "jane@example.com"})
	for _, tc := range []struct {
		accept string
		ld     bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/ld+json", true},
		{"application/ld+json, application/json", false},
		{"application/json;q=0.5, application/ld+json", true},
		{"application/ld+json;q=0.9, application/json;q=0.8", true},
		{"application/ld+json;q=0.9, */*", false},
		{"application/*;q=0.5, application/ld+json", true},
		{"text/html, application/ld+json;q=0.1", true},
		{"application/ld+json;q=0", false},
	} {
		res := x.Call(t, "GET", "/api/profiles/1", nil, "X-Auth-Token", x.key, "Accept", tc.accept)
		_, isLD := res.Map(t)["@id"]
		if res.Status != http.StatusOK || isLD != tc.ld {
			t.Errorf("Accept %q: %d, JSON-LD %v, want %v", tc.accept, res.Status, isLD, tc.ld)
		}
	}
}

// The list filters of X-Cart's Profile resource: the partial searchFakeField and the
// IntegerDateFilter bounds of added and first_login, whose unreadable dates are ignored.
func TestListFilters(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.Timezone = "+02:00" }})
		x := &xc{Server: s, key: s.Keys["xcart"]}
		// The clock starts at 2026-01-02T03:04:05Z; profile 1 is created then.
		x.create(t, map[string]any{"login": "early@example.com"}) // id 1, 03:04:05
		s.Clock.Advance(time.Hour)
		x.create(t, map[string]any{"login": "later@example.com", "access_level": 100, "password": "s3cret-passw0rd"}) // id 2, 04:04:05
		s.Clock.Advance(24 * time.Hour)
		if res := x.Call(t, "POST", "/api-login/check", map[string]any{"username": "later@example.com", "password": "s3cret-passw0rd"}); res.Status != http.StatusOK {
			t.Fatalf("login: %d %s", res.Status, res.Body)
		} // first login of id 2: 2026-01-03T04:04:05Z
		for _, tc := range []struct {
			query string
			want  []int
		}{
			{"", []int{1, 2}},
			{"searchFakeField=LATER", []int{2}},
			{"searchFakeField=example&login=early", []int{1}},
			{"added[after]=2026-01-02T04:04:05Z", []int{2}},
			{"added[strictly_after]=2026-01-02T04:04:05Z", nil},
			{"added[before]=2026-01-02T03:04:05Z", []int{1}},
			{"added[strictly_before]=2026-01-02T03:04:05%2B00:00", nil},
			{"added[after]=2026-01-02 06:00:00", []int{2}},        // 04:00Z in the server's +02:00
			{"added[after]=2026-01-02T06:00:00%2B0200", []int{2}}, // the same instant, an offset of its own
			{"added[after]=2026-01-02", []int{1, 2}},              // midnight at +02:00
			{"added[after]=@1767326645", []int{2}},                // 2026-01-02T04:04:05Z
			{"added[after]=2026-01-02T04:04:05.9Z", []int{2}},     // a timestamp is the whole second
			{"added[after]=yesterday", []int{1, 2}},               // now is 2026-01-03T04:04:05Z: yesterday is 2026-01-02T00:00+02:00
			{"added[after]=today", nil},
			{"added[after]=not a date", []int{1, 2}},    // ignored, as X-Cart ignores it
			{"added[sometime]=2030-01-01", []int{1, 2}}, // not a DateFilter key
			{"added[after]=2026-01-02T03:30:00Z&added[before]=2026-01-02T05:00:00Z", []int{2}},
			{"first_login[after]=2026-01-01", []int{2}},
			{"raw:first_login[after]=2026-01-01&searchFakeField=later", []int{2}},
			{"first_login[before]=2026-01-01", []int{1}}, // never logged in: X-Cart's 0
			{"first_login[strictly_after]=1970-01-01T00:00:00Z", []int{2}},
			{"first_login[after]=1970-01-01T00:00:00Z", []int{1, 2}},
			{"first_login[strictly_before]=1970-01-01T00:00:00Z", nil},
		} {
			query := escapeBrackets(tc.query)
			if raw, ok := strings.CutPrefix(tc.query, "raw:"); ok {
				query = raw // brackets as typed, not percent-encoded
			}
			res := x.call(t, "GET", "/api/profiles?"+query, nil)
			if res.Status != http.StatusOK {
				t.Errorf("%s: %d %s", tc.query, res.Status, res.Body)
				continue
			}
			var list []struct{ ID int }
			res.JSON(t, &list)
			var got []int
			for _, p := range list {
				got = append(got, p.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: ids %v, want %v", tc.query, got, tc.want)
			}
		}
	})
}

// escapeBrackets percent-encodes the brackets and spaces of a query, as clients send them.
func escapeBrackets(q string) string {
	return strings.NewReplacer("[", "%5B", "]", "%5D", " ", "%20").Replace(q)
}

// The login is checked as Symfony's Email constraint checks it in X-Cart's html5 mode, once, by
// the schema: what the pattern accepts is stored as sent, and nothing else is.
func TestLoginEmailMode(t *testing.T) {
	x := start(t, "sqlite")
	for login, ok := range map[string]bool{
		".a@example.com":                           true, // HTML5, not RFC 5322: the Go email type refused it
		"a..b@example.com":                         true,
		"o'neil+tag@sub.example.org":               true,
		"!#$%&'*+/=?^_`{|}~-@example.com":          true,
		"jane@1.2":                                 true,
		"jane@x-y.example":                         true,
		"jane@" + strings.Repeat("a", 63) + ".com": true,
		"jane@" + strings.Repeat("a", 64) + ".com": false,
		"zoë@example.com":                          false, // the premise: html5 mode refuses it
		"niño@example.com":                         false,
		"jane@exämple.com":                         false,
		"jane@example":                             false, // html5, not html5-allow-no-tld
		"jane@-example.com":                        false,
		"jane@example-.com":                        false,
		"jane@example..com":                        false,
		`"jane"@example.com`:                       false,
		"jane doe@example.com":                     false,
		"jane@example.com\n":                       false,
	} {
		res := x.call(t, "POST", "/api/profiles", map[string]any{"login": login})
		switch {
		case ok && (res.Status != http.StatusCreated || res.Map(t)["login"] != login):
			t.Errorf("login %q: %d %s, want 201 with the login as sent", login, res.Status, res.Body)
		case !ok && (res.Status != http.StatusUnprocessableEntity || !slices.Contains(violations(t, res)["login"], "This value is not a valid email address.")):
			t.Errorf("login %q: %d %s, want 422 not a valid email address", login, res.Status, res.Body)
		}
	}
}

// Creates in JSON-LD, through ".jsonld" and ld+json bodies, race each other and JSON creates of
// the same logins: each login is created once, every other answer is the duplicate's 400, and
// every created profile is listed.
func TestJSONLDCreatesRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		const logins, tries = 8, 4
		var mu sync.Mutex
		created := map[string]int{}
		var wg sync.WaitGroup
		for i := range logins * tries {
			wg.Go(func() {
				login := fmt.Sprintf("race%d@example.com", i%logins)
				path, header := "/api/profiles", []string{"X-Auth-Token", x.key}
				if i%2 == 0 {
					path, header = "/api/profiles.jsonld", append(header, "Content-Type", "application/ld+json")
				}
				res := x.Call(t, "POST", path, map[string]any{"login": login}, header...)
				switch res.Status {
				case http.StatusCreated:
					mu.Lock()
					created[login]++
					mu.Unlock()
				case http.StatusBadRequest:
				default:
					t.Errorf("POST %s %s: %d %s", path, login, res.Status, res.Body)
				}
			})
		}
		wg.Wait()
		res := x.ld(t, "GET", "/api/profiles?searchFakeField=race&itemsPerPage=100", nil)
		var coll struct {
			Total int `json:"hydra:totalItems"`
		}
		res.JSON(t, &coll)
		if len(created) != logins || coll.Total != logins {
			t.Errorf("created %v, listed %d; want each of %d logins once", created, coll.Total, logins)
		}
		for login, n := range created {
			if n != 1 {
				t.Errorf("%s created %d times", login, n)
			}
		}
	})
}
