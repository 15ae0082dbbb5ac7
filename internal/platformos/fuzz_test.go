package platformos_test

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/password"
)

// fuzzHashes are the form fields kept as JSON objects, merged by top-level entry.
var fuzzHashes = []string{"profiles", "relationship_users", "transactables"}

// fuzzCreateBody wraps a form, given as JSON text, in a create request of configuration name.
func fuzzCreateBody(name, form string) string {
	return `{"form_configuration_name":"` + name + `","form":` + form + `}`
}

// FuzzCreateUser sends arbitrary bodies to POST /api/users. Whatever the body, the server must
// answer without a server error and with a response that conforms to the spec (Call validates
// every response); a body it accepts (201) must have been one JSON object, the answer must be
// {id, errors: {}} in the API's media type, and the stored user must hold the email that was sent
// and every profile type (and relationship user and transactable) of the form, equal in value:
// a number may change its spelling but never its value.
func FuzzCreateUser(f *testing.F) {
	const ref = "reference_rest_api_create_user"
	for _, seed := range []string{
		// the vendor example (seed 001), and the same under the newer key form_name
		`{"form_configuration_name":"reference_rest_api_create_user","form":{"first_name":"Example","email":"example1@example.com","password":"somepassword"}}`,
		`{"form_name":"reference_rest_api_create_user","form":{"first_name":"Example","email":"example2@example.com","password":"somepassword"}}`,
		// every configuration: the built-in one with every field, the fixtures' two, and the
		// built-in ones of other kinds (406 on create)
		fuzzCreateBody(ref, `{"email":"seed-full@example.com","password":"somepassword","external_id":"ext-1","first_name":"F","middle_name":"M","last_name":"L","name":"F M L","featured":true,"public_profile":false,"profiles":{"buyer":{"properties":{"age":30}}},"relationship_users":{"friend":{"id":1}},"transactables":{"car":{"name":"Car"}}}`),
		fuzzCreateBody("signup_strict", `{"email":"seed-strict@example.com","password":"ten-chars-pw","last_name":"Strict"}`),
		fuzzCreateBody("signup_strict", `{"email":"seed-strict-short@example.com","password":"nine-char","last_name":"Strict","first_name":"No"}`),
		fuzzCreateBody("signup_open", `{"email":"seed-open@example.com","profiles":{"seller":{"properties":{"shop":"A","rating":4.5}}}}`),
		fuzzCreateBody("reference_rest_api_update_user", `{"email":"seed-update-kind@example.com"}`),
		fuzzCreateBody("reference_rest_api_create_session", `{"email":"seed-session-kind@example.com","password":"somepassword"}`),
		`{"form_configuration_name":"","form_name":"signup_open","form":{"email":"seed-both-names@example.com"}}`,
		// malformed JSON, trailing data, not an object, empty
		`{"form_configuration_name":"reference_rest_api_create_user","form":{"email":`,
		fuzzCreateBody("signup_open", `{"email":"seed-trailing@example.com"}`) + ` {}`,
		fuzzCreateBody("signup_open", `{"email":"seed-trailing2@example.com"}`) + `x`,
		`[]`,
		`"form"`,
		``,
		`{}`,
		// wrong types
		`{"form_configuration_name":1,"form":[]}`,
		fuzzCreateBody(ref, `{"email":5,"first_name":["A"],"password":true,"featured":"yes","public_profile":1,"profiles":[],"relationship_users":"x","transactables":1}`),
		fuzzCreateBody("signup_open", `{"email":"seed-profile-types@example.com","profiles":{"buyer":1,"seller":{"properties":[1]}}}`),
		// nulls
		`null`,
		`{"form_configuration_name":null,"form":null}`,
		fuzzCreateBody(ref, `{"email":null,"password":null,"first_name":null,"featured":null,"profiles":null,"relationship_users":null,"transactables":null}`),
		fuzzCreateBody("signup_open", `{"email":"seed-null-profile@example.com","profiles":{"buyer":null,"seller":{"properties":null}}}`),
		// unknown members, and names that differ from known ones only in letter case
		`{"form_configuration_name":"signup_open","form":{"email":"seed-extra@example.com"},"extra":{"a":[1]}}`,
		fuzzCreateBody(ref, `{"email":"seed-unknown@example.com","first_name":"A","password":"somepassword","shoe_size":42,"Email":"other@example.com"}`),
		`{"form_configuration_name":"signup_open","form":{"email":"seed-case@example.com"},"Form":{"email":"seed-case-other@example.com","profiles":[1]},"FORM_CONFIGURATION_NAME":"nope"}`,
		// numbers inside profiles: huge, tiny, beyond 2^53, integral floats, exponents, negative zero
		fuzzCreateBody("signup_open", `{"email":"seed-numbers@example.com","profiles":{"buyer":{"properties":{"big":12345678901234567890123,"huge":1e400,"tiny":5e-324,"int53":9007199254740993,"negzero":-0,"one":1.0,"hundred":1E2,"half":0.50,"list":[1.50,-2.5e-3]}},"n":{"properties":{"x":-1e-400}}}}`),
		// deeply nested profiles, relationship users and transactables
		fuzzCreateBody(ref, `{"email":"seed-nested@example.com","first_name":"N","password":"somepassword","profiles":{"buyer":{"properties":{"a":{"b":[{"c":[[1],[2,[3,{"d":null}]]]}]}},"extra":{"x":[true,false]}},"empty":{}},"relationship_users":{"r":[{"id":1,"tags":["a",{"b":{}}]}],"s":{"t":{"u":{"v":1e400}}}},"transactables":{"t":{"properties":{"price":"1.00","qty":10}},"list":[[],{}]}}`),
		// unicode: emails (refused: the format is ASCII), profile names and values, escapes, NUL, invalid UTF-8
		fuzzCreateBody(ref, `{"email":"émile@exämple.com","first_name":"Émile","password":"somepassword"}`),
		fuzzCreateBody(ref, `{"email":"ÜNÏCØDÉ@example.com","first_name":"U","password":"somepassword"}`),
		fuzzCreateBody("signup_open", `{"email":"Seed-Unicode@Example.COM","first_name":"Ãmbér 🙂","profiles":{"Ñame 🙂":{"properties":{"välue":"✓ <b>&amp;</b> \u2028","emoji":"\ud83d\ude00","lone":"\ud800","nul":"a\u0000b"}},"":{"properties":{"":""}}}}`),
		"{\"form_configuration_name\":\"signup_open\",\"form\":{\"email\":\"seed-utf8@example.com\",\"first_name\":\"bad\xff\",\"profiles\":{\"bad\xfe\":{\"properties\":{\"v\":\"\xfd\"}}}}}",
		fuzzCreateBody("signup_open", `{"email":"seed-nul@example.com","first_name":"A\u0000B"}`),
		// U+0000 in the hashes stored as sent (keys and values, at any depth), in the configuration's
		// name, and no name at all (the body's anyOf: 406)
		fuzzCreateBody("signup_open", `{"email":"seed-nul-key@example.com","profiles":{"bu\u0000yer":{"properties":{"k\u0000":1}}}}`),
		fuzzCreateBody(ref, `{"email":"seed-nul-hash@example.com","first_name":"A","password":"somepassword","relationship_users":{"r":["\u0000"]},"transactables":{"\u0000":{}}}`),
		`{"form_name":"signup_open\u0000","form":{"email":"seed-nul-name@example.com"}}`,
		`{"form":{"email":"seed-no-name@example.com"}}`,
		// blank strings
		fuzzCreateBody(ref, `{"email":" ","first_name":"","password":"      "}`),
		fuzzCreateBody("signup_open", `{"email":"seed-blank@example.com","password":"","first_name":"  ","profiles":{}}`),
		// duplicate members: the last one counts
		fuzzCreateBody("signup_open", `{"email":"seed-dup1@example.com","email":"seed-dup2@example.com","profiles":{"buyer":{"properties":{"a":1}},"buyer":{"properties":{"a":2}}}}`),
		// taken email, in another letter case
		fuzzCreateBody(ref, `{"email":"EXAMPLE1@example.com","first_name":"Again","password":"somepassword"}`),
	} {
		f.Add([]byte(seed))
	}

	s, auth := fuzzServer(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		res := s.Call(t, http.MethodPost, "/api/users", body, "Authorization", auth)
		if res.Status >= 500 || res.Status < 400 && res.Status != http.StatusCreated {
			t.Fatalf("body %q: status %d: %s\nlogs:\n%s", body, res.Status, res.Body, apitest.LastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusCreated {
			return
		}
		sent, err := apitest.DecodeObject(body)
		if err != nil {
			t.Fatalf("body %q was created (201) but is not one JSON object: %v", body, err)
		}
		id := fuzzCreated(t, body, res)
		form, ok := sent["form"].(map[string]any)
		if !ok {
			t.Fatalf("body %q was created (201) without a form object", body)
		}
		if _, ok := form["email"].(string); !ok {
			t.Fatalf("body %q was created (201) without an email", body)
		}
		fuzzCheckStored(t, s, body, id, form)
	})
}

// FuzzUpdateUser sends arbitrary bodies to PUT /api/users/{id} for one user created beforehand.
// Whatever the body, the server must answer 204 or a client error, with a response that conforms
// to the spec; a body it accepts must have been one JSON object, and the stored user must then
// hold the email sent, if any, and every profile type (and relationship user and transactable) of
// the form, equal in value.
func FuzzUpdateUser(f *testing.F) {
	// update_any (testdata/fixtures.yaml) requires nothing, so that the seeds below reach the
	// rules of each field; the reference configuration requires first_name.
	const ref = "update_any"
	for _, seed := range []string{
		// the vendor's examples, under both keys, and the reference configuration without first_name
		`{"form_configuration_name":"reference_rest_api_update_user","form":{"first_name":"Example"}}`,
		`{"form_name":"reference_rest_api_update_user","form":{"first_name":"Example"}}`,
		`{"form_name":"reference_rest_api_update_user","form":{"last_name":"Example"}}`,
		// every field
		fuzzCreateBody(ref, `{"email":"fuzz-update-2@example.com","password":"new-password","external_id":"ext-2","first_name":"F","middle_name":"M","last_name":"L","name":"F M L","featured":true,"public_profile":true,"profiles":{"seller":{"properties":{"shop":"A"}}},"relationship_users":{"friend":{"id":2}},"transactables":{"boat":{"name":"Boat"}}}`),
		// a profile type replaced, and one added, with numbers that float64 cannot hold
		fuzzCreateBody(ref, `{"profiles":{"buyer":{"properties":{"age":31,"big":12345678901234567890123,"huge":1e400,"tiny":5e-324,"int53":9007199254740993,"negzero":-0,"one":1.0,"hundred":1E2}},"new":{"properties":{"list":[1.50,-2.5e-3,{"x":-1e-400}]}}}}`),
		// email: the same in another case, taken by another user, invalid, blank, unicode
		fuzzCreateBody(ref, `{"email":"FUZZ-UPDATE@example.com"}`),
		fuzzCreateBody(ref, `{"email":"other@example.com"}`),
		fuzzCreateBody(ref, `{"email":"not-an-email"}`),
		fuzzCreateBody(ref, `{"email":"  "}`),
		fuzzCreateBody(ref, `{"email":"émile@exämple.com"}`),
		// password too short, and blank
		fuzzCreateBody(ref, `{"password":"abc"}`),
		fuzzCreateBody(ref, `{"password":""}`),
		// configurations of other kinds (406), unknown, none
		fuzzCreateBody("reference_rest_api_create_user", `{"last_name":"X"}`),
		fuzzCreateBody("signup_open", `{"last_name":"X"}`),
		fuzzCreateBody("nope", `{"last_name":"X"}`),
		`{"form":{"last_name":"X"}}`,
		// malformed JSON, trailing data, not an object, empty
		`{"form_configuration_name":"reference_rest_api_update_user","form":{"last_name":`,
		fuzzCreateBody(ref, `{"last_name":"T"}`) + ` {}`,
		`[]`,
		`null`,
		``,
		`{}`,
		fuzzCreateBody(ref, `{}`),
		// wrong types and nulls
		fuzzCreateBody(ref, `{"email":5,"featured":"yes","profiles":[],"relationship_users":"x","transactables":1}`),
		fuzzCreateBody(ref, `{"profiles":{"buyer":1,"seller":{"properties":[1]}}}`),
		fuzzCreateBody(ref, `{"email":null,"last_name":null,"profiles":null,"relationship_users":null}`),
		fuzzCreateBody(ref, `{"profiles":{"buyer":null}}`),
		// unknown members, and names that differ from known ones only in letter case
		fuzzCreateBody(ref, `{"last_name":"U","shoe_size":42}`),
		`{"form_configuration_name":"reference_rest_api_update_user","form":{"last_name":"C"},"Form":{"email":"case@example.com","profiles":[1]}}`,
		// nested hashes, unicode, NUL, invalid UTF-8, duplicates
		fuzzCreateBody(ref, `{"relationship_users":{"r":[{"id":1,"tags":["a",{"b":{}}]}]},"transactables":{"t":{"properties":{"price":"1.00"}},"list":[[],{}]}}`),
		fuzzCreateBody(ref, `{"first_name":"Ãmbér 🙂","profiles":{"Ñame 🙂":{"properties":{"v":"✓ <b>&amp;</b> \u2028","lone":"\ud800","nul":"a\u0000b"}},"":{}}}`),
		"{\"form_configuration_name\":\"reference_rest_api_update_user\",\"form\":{\"last_name\":\"bad\xff\",\"profiles\":{\"bad\xfe\":{\"properties\":{\"v\":\"\xfd\"}}}}}",
		fuzzCreateBody(ref, `{"last_name":"A\u0000B"}`),
		fuzzCreateBody(ref, `{"profiles":{"bu\u0000yer":{}},"relationship_users":{"r":{"\u0000":1}},"transactables":{"t":["\u0000"]}}`),
		`{"form_name":"update_any\u0000","form":{"last_name":"N"}}`,
		fuzzCreateBody(ref, `{"profiles":{"buyer":{"properties":{"a":1}},"buyer":{"properties":{"a":2}}}}`),
	} {
		f.Add([]byte(seed))
	}

	s, auth := fuzzServer(f)
	for _, form := range []string{
		`{"email":"fuzz-update@example.com","first_name":"Up","password":"somepassword","profiles":{"buyer":{"properties":{"age":30}}},"relationship_users":{"friend":{"id":1}},"transactables":{"car":{"name":"Car"}}}`,
		`{"email":"other@example.com","first_name":"Other","password":"somepassword"}`,
	} {
		res := s.Call(f, http.MethodPost, "/api/users", fuzzCreateBody("reference_rest_api_create_user", form), "Authorization", auth)
		if res.Status != http.StatusCreated {
			f.Fatalf("create %s: %d %s", form, res.Status, res.Body)
		}
	}
	var id int64
	if err := s.DB.Table("platformos_users").Where("email_key = ?", "fuzz-update@example.com").Select("id").Row().Scan(&id); err != nil {
		f.Fatalf("read the user to update: %v", err)
	}
	path := fmt.Sprintf("/api/users/%d", id)

	f.Fuzz(func(t *testing.T, body []byte) {
		res := s.Call(t, http.MethodPut, path, body, "Authorization", auth)
		if res.Status != http.StatusNoContent && (res.Status < 400 || res.Status >= 500) {
			t.Fatalf("body %q: status %d, want 204 or a client error: %s\nlogs:\n%s", body, res.Status, res.Body, apitest.LastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusNoContent {
			return
		}
		if len(res.Body) != 0 {
			t.Errorf("body %q: 204 with a body %q", body, res.Body)
		}
		sent, err := apitest.DecodeObject(body)
		if err != nil {
			t.Fatalf("body %q was accepted (204) but is not one JSON object: %v", body, err)
		}
		form, ok := sent["form"].(map[string]any)
		if !ok {
			t.Fatalf("body %q was accepted (204) without a form object", body)
		}
		fuzzCheckStored(t, s, body, id, form)
	})
}

// fuzzServer starts one server for a whole target (per fuzzing worker), with the test fixtures and
// cheap password hashing, so that the fuzzer explores bodies rather than argon2id; it returns the
// server and the Authorization header of its platformOS key. The server runs on PostgreSQL when
// PROVISIOND_TEST_DATABASE_URL names one, since it refuses text that SQLite stores (U+0000), and
// on SQLite otherwise.
func fuzzServer(f *testing.F) (*apitest.Server, string) {
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	dialects := apitest.Dialects()
	s := apitest.Start(f, dialects[len(dialects)-1], apitest.Options{
		Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" },
		Deps:      app.Deps{Hasher: password.New(cheap, 4)},
	})
	return s, "Token token=" + s.Keys["platformos"]
}

// fuzzCreated checks a 201 answer, {id: <positive integer>, errors: {}} in the API's media type,
// and returns the id.
func fuzzCreated(t *testing.T, body []byte, res *apitest.Response) int64 {
	t.Helper()
	if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "application/vnd.api+json" {
		t.Errorf("body %q: 201 with Content-Type %q, want application/vnd.api+json", body, res.Header.Get("Content-Type"))
	}
	got, err := apitest.DecodeObject(res.Body)
	if err != nil {
		t.Fatalf("body %q: 201 answer %q: %v", body, res.Body, err)
	}
	num, _ := got["id"].(json.Number)
	id, err := num.Int64()
	if err != nil || id < 1 {
		t.Fatalf("body %q: 201 answer %s, want a positive integer id", body, res.Body)
	}
	if errs, ok := got["errors"].(map[string]any); !ok || len(errs) != 0 || len(got) != 2 {
		t.Errorf("body %q: 201 answer %s, want exactly {id, errors: {}}", body, res.Body)
	}
	return id
}

// fuzzCheckStored checks that the accepted form held no U+0000 (every form field is a string
// refusing it, a hash stored as sent refusing it, or refused as not allowed), and that user id, as
// stored, holds the email of form (when it has one) and every top-level entry of each JSON-object
// field of form, equal in value.
func fuzzCheckStored(t *testing.T, s *apitest.Server, body []byte, id int64, form map[string]any) {
	t.Helper()
	if nul := httpserver.CharacterIssues(form); len(nul) > 0 {
		t.Errorf("body %q was accepted with U+0000 in its form, at %q", body, nul[0].Field)
	}
	var email string
	stored := make([]string, len(fuzzHashes))
	row := s.DB.Table("platformos_users").Where("id = ?", id).Select("email, profiles, relationship_users, transactables").Row()
	if err := row.Scan(&email, &stored[0], &stored[1], &stored[2]); err != nil {
		t.Fatalf("body %q: read user %d: %v", body, id, err)
	}
	if want, ok := form["email"].(string); ok && email != want {
		t.Errorf("body %q: stored email %q, want %q", body, email, want)
	}
	for i, field := range fuzzHashes {
		want, ok := form[field].(map[string]any)
		if !ok {
			continue
		}
		have, err := apitest.DecodeObject([]byte(stored[i]))
		if err != nil {
			t.Fatalf("body %q: stored %s %q is not a JSON object: %v", body, field, stored[i], err)
		}
		for name, w := range want {
			h, ok := have[name]
			switch {
			case !ok:
				t.Errorf("body %q: %s entry %q is missing from the stored %s", body, field, name, stored[i])
			case reflect.DeepEqual(apitest.Canonical(h), apitest.Canonical(w)):
			default:
				t.Errorf("body %q: %s entry %q sent as %s, stored as %s", body, field, name, apitest.JSONText(w), apitest.JSONText(h))
			}
		}
	}
}
