package journal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/journal"
)

// decode is s decoded as the journal decodes bodies (numbers as json.Number), or, with numbers
// false, as a control API request decodes its matcher (numbers as float64).
func decode(t *testing.T, s string, numbers bool) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if numbers {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// Contains matches a body as the request count does: objects by their members at any depth,
// arrays as a subset in any order, numbers by value however decoded, anything else by equality.
func TestContains(t *testing.T) {
	const got = `{"login":"a@example.com","age":42,"ratio":0.5,"active":true,"note":null,
		"address":{"city":"Oslo","lines":["1 Main St","Flat 2"],"geo":{"lat":59.9}},
		"roles":[{"id":1,"name":"admin"},{"id":2,"name":"editor"}],"tags":["x","y","z"]}`
	for _, c := range []struct {
		want string
		ok   bool
	}{
		{`{}`, true},
		{`{"login":"a@example.com"}`, true},
		{`{"login":"A@example.com"}`, false},
		{`{"login":"a@example.com","missing":1}`, false},
		{`{"age":42}`, true},
		{`{"age":42.0}`, true},
		{`{"age":4.2e1}`, true},
		{`{"age":43}`, false},
		{`{"age":"42"}`, false},
		{`{"ratio":0.5}`, true},
		{`{"active":true}`, true},
		{`{"active":"true"}`, false},
		{`{"active":false}`, false},
		{`{"note":null}`, true},
		{`{"login":null}`, false},
		{`{"address":{"city":"Oslo"}}`, true},
		{`{"address":{"geo":{"lat":59.9}}}`, true},
		{`{"address":{"geo":{"lat":59}}}`, false},
		{`{"address":{"country":"NO"}}`, false},
		{`{"address":"Oslo"}`, false},
		{`{"address":{"lines":["Flat 2"]}}`, true},
		{`{"tags":["z","x"]}`, true},
		{`{"tags":[]}`, true},
		{`{"tags":["w"]}`, false},
		{`{"tags":"x"}`, false},
		{`{"tags":{"0":"x"}}`, false},
		{`{"roles":[{"name":"editor"}]}`, true},
		{`{"roles":[{"id":2,"name":"admin"}]}`, false},
		{`{"roles":[{"id":2},{"id":1}]}`, true},
		{`{"login":{"a":1}}`, false},
		{`["login"]`, false},
		{`"a@example.com"`, false},
	} {
		for _, numbers := range []bool{false, true} {
			if ok := journal.Contains(decode(t, got, true), decode(t, c.want, numbers)); ok != c.ok {
				t.Errorf("Contains(body, %s) (want decoded with json.Number: %v) = %v, want %v", c.want, numbers, ok, c.ok)
			}
		}
	}
	// Numbers compare by value whichever side holds which type.
	for _, c := range []struct{ got, want any }{
		{json.Number("7"), 7.0}, {7.0, json.Number("7")}, {json.Number("7.0"), json.Number("7")}, {7, 7.0}, {int64(7), json.Number("7")},
	} {
		if !journal.Contains(c.got, c.want) {
			t.Errorf("Contains(%#v, %#v) = false, want true", c.got, c.want)
		}
	}
	if journal.Contains(json.Number("7"), "7") || journal.Contains("7", json.Number("7")) || journal.Contains(nil, 0.0) {
		t.Error("a number contains or is contained in a string or null")
	}
}

// Count counts the entries a filter selects, with the filters of the request count: path,
// status (0 is a dropped request's), faulted, and a body the request's contains, JSON or a form
// (a field sent twice as an array); a masked password matches "***" only.
func TestCount(t *testing.T) {
	const secret = "hunter2-the-secret"
	j := newJournal(t, 20, 1000)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	jsonType := http.Header{"Content-Type": {"application/json"}}
	dropped := &journal.Fault{Rule: 1, Action: "drop"}
	for _, e := range []struct {
		api, path string
		status    int
		fault     *journal.Fault
		header    http.Header
		body      string
	}{
		{"xcart", "/api/profiles", 201, nil, jsonType, `{"login":"a@example.com","password":"` + secret + `","roles":[1,2]}`},
		{"xcart", "/api/profiles", 201, nil, jsonType, `{"login":"b@example.com","roles":[2]}`},
		{"xcart", "/api/profiles", 0, dropped, jsonType, `{"login":"a@example.com"}`},
		{"xcart", "/api/profiles/1", 503, &journal.Fault{Rule: 2, Action: "status"}, nil, ""},
		{"activeplatform", "/users", 201, nil, form, "user[email]=c@example.com&role=a&role=b&age=30"},
		{"occadmin", "/ccadmin/v1/login", 200, nil, form, "grant_type=password&username=admin&password=" + secret},
		{"platformos", "/api/users", 422, nil, http.Header{"Content-Type": {"text/plain"}}, `{"login":"a@example.com"}x`},
	} {
		j.Add(journal.Entry{Time: time.Now(), API: e.api, Method: "POST", Path: e.path, Status: e.status, Fault: e.fault},
			e.header, nil, []byte(e.body), nil, e.header.Get("Content-Type"), "")
	}
	for _, c := range []struct {
		name string
		f    journal.Filter
		want int
	}{
		{"all", journal.Filter{}, 7},
		{"path", journal.Filter{Path: "/api/profiles"}, 3},
		{"path is exact", journal.Filter{Path: "/api/profile"}, 0},
		{"status", journal.Filter{Status: ptr(201)}, 3},
		{"status 0: dropped", journal.Filter{Status: ptr(0)}, 1},
		{"faulted", journal.Filter{Faulted: ptr(true)}, 2},
		{"not faulted", journal.Filter{Faulted: ptr(false)}, 5},
		{"faulted on a path", journal.Filter{Faulted: ptr(true), Path: "/api/profiles"}, 1},
		{"JSON body", journal.Filter{Body: map[string]any{"login": "a@example.com"}}, 2},
		{"JSON body and status", journal.Filter{Body: map[string]any{"login": "a@example.com"}, Status: ptr(201)}, 1},
		{"JSON array member", journal.Filter{Body: map[string]any{"roles": []any{2.0}}}, 2},
		{"JSON array subset", journal.Filter{Body: map[string]any{"roles": []any{2.0, 1.0}}}, 1},
		{"empty body matcher: an object body", journal.Filter{API: "xcart", Body: map[string]any{}}, 3},
		{"masked password: the real one", journal.Filter{Body: map[string]any{"password": secret}}, 0},
		{"masked password: ***", journal.Filter{Body: map[string]any{"password": journal.Masked}}, 2},
		{"form field", journal.Filter{Body: map[string]any{"user[email]": "c@example.com"}}, 1},
		{"form field as a string", journal.Filter{Body: map[string]any{"age": "30"}}, 1},
		{"form field as a number", journal.Filter{Body: map[string]any{"age": 30.0}}, 0},
		{"form field sent twice", journal.Filter{Body: map[string]any{"role": []any{"b"}}}, 1},
		{"form field sent twice, both", journal.Filter{Body: map[string]any{"role": []any{"b", "a"}}}, 1},
		{"form field sent twice, as one", journal.Filter{Body: map[string]any{"role": "a"}}, 0},
		{"form, two fields", journal.Filter{Body: map[string]any{"username": "admin", "grant_type": "password"}}, 1},
		{"neither JSON nor form", journal.Filter{API: "platformos", Body: map[string]any{}}, 0},
		{"no body", journal.Filter{Path: "/api/profiles/1", Body: map[string]any{}}, 0},
		{"limit aside", journal.Filter{API: "xcart", Limit: 1}, 4},
	} {
		if got := j.Count(c.f); got != c.want {
			t.Errorf("%s: Count(%+v) = %d, want %d", c.name, c.f, got, c.want)
		}
	}
}
