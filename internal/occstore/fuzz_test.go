package occstore_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/password"
)

// fuzzMemberFields are the members of a create body that are not dynamic properties.
var fuzzMemberFields = map[string]bool{"firstName": true, "lastName": true, "email": true, "active": true, "receiveEmail": true, "roles": true}

// FuzzCreateMember sends arbitrary bodies to POST /ccstore/v1/organizationMembers as Ada, a
// delegated administrator. Whatever the body, the server must answer without a server error and
// with a response that conforms to the spec (Call validates every response); a body it accepts
// (200) must have been one JSON object, and the member it created must read back with every
// dynamic property of the body, equal in value: numbers stay numbers, and a number may change
// its spelling (1.0 → 1, 1E2 → 100) but not its value.
func FuzzCreateMember(f *testing.F) {
	for _, seed := range []string{
		// the vendor examples (seed 004)
		`{"firstName":"Leota","lastName":"Dilliard","roles":[{"function":"admin"},{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"leota@example.com","Age":30,"Nickname":"Leota"}`,
		`{"firstName":"bcd","lastName":"K","roles":[{"function":"buyer"}],"receiveEmail":"yes","active":true,"email":"bcd@abc.com"}`,
		// malformed JSON, and data after the object
		`{"email":`,
		`{"firstName":"A","lastName":"B","roles":[],"active":true,"receiveEmail":"no","email":"seed-open@example.com","x":[1,2}`,
		`{"firstName":"A","lastName":"B","roles":[],"active":true,"receiveEmail":"no","email":"seed-trailing@example.com"} {}`,
		`[]`,
		// wrong types
		`{"firstName":5,"lastName":["B"],"roles":"buyer","active":"true","receiveEmail":true,"email":{}}`,
		`{"firstName":"A","lastName":"B","roles":[{"function":1},{"function":"owner"},"buyer"],"active":true,"receiveEmail":"maybe","email":"seed-types@example.com"}`,
		// nulls
		`null`,
		`{"firstName":null,"lastName":null,"roles":null,"active":null,"receiveEmail":null,"email":null}`,
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":false,"receiveEmail":"no","email":"seed-nulls@example.com","Nickname":null,"Prefs":{"a":null},"List":[null]}`,
		// numbers: huge, tiny, integral floats, exponents, negative zero
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-huge@example.com","Age":1e400}`,
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-numbers@example.com","One":1.0,"Hundred":1E2,"NegZero":-0,"Half":0.5,"Max":1.7976931348623157e308,"Small":5e-324,"Int53":9007199254740991,"Nested":[1.50,{"e":-2.5e-3}]}`,
		// nested dynamic objects and arrays
		`{"firstName":"A","lastName":"B","roles":[{"function":"admin"}],"active":true,"receiveEmail":"no","email":"seed-nested@example.com","Prefs":{"colors":["red",{"shade":[0.5,[true,false]]}],"empty":{},"none":[]},"Matrix":[[1,2],[3,[4,[5]]]]}`,
		// unicode names and values, escapes, a NUL, invalid UTF-8
		`{"firstName":"Ãmbér 🙂","lastName":"Ådmïn","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-unicode@example.com","Ñame 🙂":"välue ✓","\u00e9t\u00e9":"\ud83d\ude00","":"empty name","nul":"a\u0000b"}`,
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-nulname@example.com","Ni\u0000ck":1,"Deep":{"k\u0000":[1]},"Arr":[{"\u0000":null}]}`,
		`{"firstName":"A\u0000","lastName":"B","roles":[{"function":"buy\u0000er"}],"active":true,"receiveEmail":"yes","email":"seed-nul\u0000@example.com"}`,
		"{\"firstName\":\"A\",\"lastName\":\"B\",\"roles\":[{\"function\":\"buyer\"}],\"active\":true,\"receiveEmail\":\"yes\",\"email\":\"seed-utf8@example.com\",\"bad\xff\":\"\xfe\xfd\",\"lone\":\"\\ud800\"}",
		// empty
		``,
		`{}`,
		// reserved dynamic names, and names differing from fixed ones only in letter case
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-reserved@example.com","id":"1","repositoryId":"2","parentOrganization":{"id":"or-globex"},"locale":"fr"}`,
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-case@example.com","ID":"1","Email":"other@example.com","FIRSTNAME":"C","Locale":"fr"}`,
		// duplicate members: the last one counts
		`{"firstName":"A","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"seed-dup@example.com","Age":1,"Age":"two"}`,
		// boundary lengths: email ≤ 254, names ≤ 255
		`{"firstName":"` + strings.Repeat("f", 256) + `","lastName":"B","roles":[{"function":"buyer"}],"active":true,"receiveEmail":"yes","email":"` + strings.Repeat("e", 243) + `@example.com"}`,
	} {
		f.Add([]byte(seed))
	}

	// One server for the whole target (per fuzzing worker), with the test fixtures, logged in once
	// as Ada; the cheap hasher keeps that login (and the fixtures' password checks) fast.
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	s := apitest.Start(f, "sqlite", apitest.Options{
		Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" },
		Deps:      app.Deps{Hasher: password.New(cheap, 4)},
	})
	auth := "Bearer " + fuzzLogin(f, s)

	f.Fuzz(func(t *testing.T, body []byte) {
		res := s.Call(t, http.MethodPost, "/ccstore/v1/organizationMembers", body, "Authorization", auth)
		if res.Status >= 500 {
			t.Fatalf("body %q: status %d: %s\nlogs:\n%s", body, res.Status, res.Body, apitest.LastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusOK {
			return
		}
		sent, err := apitest.DecodeObject(body)
		if err != nil {
			t.Fatalf("body %q was accepted (200) but is not one JSON object: %v", body, err)
		}
		var created struct{ ID string }
		res.JSON(t, &created)
		got := s.Call(t, http.MethodGet, "/ccstore/v1/organizationMembers/"+created.ID, nil, "Authorization", auth)
		if got.Status != http.StatusOK {
			t.Fatalf("body %q: created %s, but GET answers %d %s", body, created.ID, got.Status, got.Body)
		}
		read, err := apitest.DecodeObject(got.Body)
		if err != nil {
			t.Fatalf("GET %s: %v: %s", created.ID, err, got.Body)
		}
		for name, want := range sent {
			if fuzzMemberFields[name] {
				continue
			}
			have, ok := read[name]
			switch {
			case !ok:
				t.Errorf("body %q: dynamic property %q is missing from the member read back: %s", body, name, got.Body)
			case reflect.DeepEqual(have, want):
			case reflect.DeepEqual(apitest.Canonical(have), apitest.Canonical(want)):
				// The same value, spelt otherwise (1.0 → 1): a legitimate normalization.
			default:
				t.Errorf("body %q: dynamic property %q sent as %s, read back as %s", body, name, apitest.JSONText(want), apitest.JSONText(have))
			}
		}
	})
}

// fuzzLogin logs in as Ada and returns her access token.
func fuzzLogin(tb testing.TB, s *apitest.Server) string {
	tb.Helper()
	res := s.Call(tb, http.MethodPost, "/ccstore/v1/login", "grant_type=password&username=ada@acme.example&password=ada-password",
		"Content-Type", "application/x-www-form-urlencoded")
	if res.Status != http.StatusOK {
		tb.Fatalf("login: %d %s", res.Status, res.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(tb, &tok)
	return tok.AccessToken
}
