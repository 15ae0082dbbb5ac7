package occadmin_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/password"
)

// FuzzCreateAdminProfile sends arbitrary bodies to POST /ccadmin/v1/adminProfiles/. Whatever the
// body, the server must answer without a server error and with a response that conforms to the
// spec (Call validates every response); a body it accepts (200) must have been one JSON object,
// and the profile it created must read back with the email and names that were sent.
func FuzzCreateAdminProfile(f *testing.F) {
	long := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
	for _, seed := range []string{
		// the vendor example (seed 002), and the same with every optional member
		`{"firstName":"Amber","lastName":"Admin","roles":["adminRole"],"active":true,"email":"amber@example.com"}`,
		`{"firstName":"Full","lastName":"Admin","roles":["adminRole","catalogRole"],"active":false,"email":"seed-full@example.com","password":"correct horse"}`,
		// malformed JSON
		`{"email":`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-open@example.com"`,
		`[]`,
		`"email"`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-trailing@example.com"} {}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-trailing2@example.com"} trailing`,
		// wrong types
		`{"firstName":1,"lastName":true,"roles":"adminRole","active":"yes","email":42}`,
		`{"firstName":"A","lastName":"B","roles":[1,{"id":"adminRole"}],"email":"seed-roletypes@example.com"}`,
		// nulls
		`null`,
		`{"firstName":null,"lastName":null,"roles":null,"active":null,"email":null,"password":null}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"active":null,"email":"seed-nullactive@example.com","password":null}`,
		`{"firstName":"A","lastName":"B","roles":[null],"email":"seed-nullrole@example.com"}`,
		// huge and odd numbers, nested objects and arrays in unknown members
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-huge@example.com","Age":1e400,"n":99999999999999999999999999,"m":-0.0e-999}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-nested@example.com","extra":{"a":[1,{"b":[[]]}]},"list":[[1],[2,[3]]]}`,
		`{"firstName":{"x":1},"lastName":["B"],"roles":[["adminRole"]],"email":{"email":"a@example.com"}}`,
		// reserved and read-only names
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-id@example.com","id":"iuser1","repositoryId":"x","registrationDate":"2020-01-01T00:00:00Z"}`,
		// unicode, letter case, duplicates, NUL
		`{"firstName":"Ãmbér 🙂","lastName":"Ådmïn","roles":["adminRole"],"email":"seed-unicode@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"ÜNÏCØDÉ@example.com"}`,
		`{"FIRSTNAME":"A","LastName":"B","Roles":["adminRole"],"EMAIL":"seed-case@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-dup@example.com","email":"seed-dup2@example.com"}`,
		`{"firstName":"A\u0000B","lastName":"\ud800","roles":["adminRole"],"email":"seed-nul@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["admin\u0000Role"],"email":"seed-nul\u0000@example.com","password":"\u0000"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-nulkey@example.com","\u0000":"\u0000","x":{"k\u0000":["\u0000"]}}`,
		"{\"firstName\":\"\xff\xfe\",\"lastName\":\"B\",\"roles\":[\"adminRole\"],\"email\":\"seed-badutf8@example.com\"}",
		// empty
		``,
		`{}`,
		`{"firstName":"","lastName":"","roles":[],"email":""}`,
		// roles: unknown, without privileges, repeated
		`{"firstName":"A","lastName":"B","roles":["bogusRole","adminRole",""],"email":"seed-bogus@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["noPrivilegesRole"],"email":"seed-nopriv@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole","adminRole"],"email":"seed-tworoles@example.com"}`,
		// boundary lengths: email ≤ 254, names ≤ 255, password 1..128
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"` + long(254) + `"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"` + long(255) + `"}`,
		`{"firstName":"` + strings.Repeat("f", 256) + `","lastName":"` + strings.Repeat("l", 255) + `","roles":["adminRole"],"email":"seed-names@example.com"}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-pw0@example.com","password":""}`,
		`{"firstName":"A","lastName":"B","roles":["adminRole"],"email":"seed-pw129@example.com","password":"` + strings.Repeat("p", 129) + `"}`,
	} {
		f.Add([]byte(seed))
	}

	// One server for the whole target (per fuzzing worker), logged in once, with cheap password
	// hashing so that the fuzzer explores bodies rather than argon2id.
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	s := apitest.Start(f, "sqlite", apitest.Options{Deps: app.Deps{Hasher: password.New(cheap, 4)}})
	res := s.Call(f, http.MethodPost, "/ccadmin/v1/login", "grant_type=client_credentials",
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Bearer "+s.Keys["occadmin"])
	if res.Status != http.StatusOK {
		f.Fatalf("login: %d %s", res.Status, res.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(f, &tok)
	auth := "Bearer " + tok.AccessToken

	f.Fuzz(func(t *testing.T, body []byte) {
		res := s.Call(t, http.MethodPost, "/ccadmin/v1/adminProfiles/", body, "Authorization", auth)
		if res.Status >= 500 {
			t.Fatalf("body %q: status %d: %s\nlogs:\n%s", body, res.Status, res.Body, adminLastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusOK {
			return
		}
		sent, err := adminOneObject(body)
		if err != nil {
			t.Fatalf("body %q was accepted (200) but is not one JSON object: %v", body, err)
		}
		var created struct{ ID string }
		res.JSON(t, &created)
		got := s.Call(t, http.MethodGet, "/ccadmin/v1/adminProfiles/"+created.ID, nil, "Authorization", auth)
		if got.Status != http.StatusOK {
			t.Fatalf("body %q: created %s, but GET answers %d %s", body, created.ID, got.Status, got.Body)
		}
		read := got.Map(t)
		for _, name := range []string{"email", "firstName", "lastName"} {
			if read[name] != sent[name] {
				t.Errorf("body %q: created %s with %s %q, want %q", body, created.ID, name, read[name], sent[name])
			}
		}
	})
}

// adminOneObject decodes body as exactly one JSON object, with nothing but white space after it.
func adminOneObject(body []byte) (map[string]any, error) {
	if !json.Valid(body) {
		return nil, errors.New("not one JSON value")
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers beyond float64, such as 1e400, are valid JSON
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null, not an object")
	}
	return m, nil
}

func adminLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
