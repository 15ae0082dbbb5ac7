package activeplatform_test

// The form-encoding tests that need the whole server live here, in the external test package:
// rack_test.go is white-box (package activeplatform), and a test of that package cannot import
// apitest, which imports the package through internal/app.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/password"
)

const (
	fzForm = "application/x-www-form-urlencoded"
	fzPath = "/api/vendor/v1/users"
)

// fzStamp is a timestamp as ActivePlatform writes it, in any offset.
var fzStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$`)

// fzServer starts the server with cheap password hashing, so that tests and the fuzzer spend
// their time on bodies rather than on argon2id.
func fzServer(t testing.TB) (s *apitest.Server, query string) {
	t.Helper()
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	s = apitest.Start(t, "sqlite", apitest.Options{Deps: app.Deps{Hasher: password.New(cheap, 4)}})
	return s, "?api_token=" + url.QueryEscape(s.Keys["activeplatform"])
}

// fzSeedJSON is the spec's example of createUser (seed 003) with the given email.
func fzSeedJSON(email string) string {
	b, _ := json.Marshal(map[string]any{
		"first_name": "John", "middle_name": "", "last_name": "Doe", "password": "N;T@o;y!4TNqlV", "email": email,
		"custom_attributes": []map[string]string{{"key": "age", "value": "21"}},
	})
	return string(b)
}

// fzSeedForm is the same example form-encoded, with Rack's nested syntax for the attributes.
func fzSeedForm(email string) string {
	return "first_name=John&middle_name=&last_name=Doe&password=" + url.QueryEscape("N;T@o;y!4TNqlV") +
		"&email=" + url.QueryEscape(email) + "&custom_attributes[][key]=age&custom_attributes[][value]=21"
}

// TestFormAndJSONGiveTheSameUser sends the seed example as JSON and form-encoded (brackets raw
// and percent-encoded) and compares every field of the users created but id and email.
func TestFormAndJSONGiveTheSameUser(t *testing.T) {
	s, q := fzServer(t)
	bodies := []struct {
		name, contentType, body string
	}{
		{"json", "application/json", fzSeedJSON("same.json@activeplatfrom.com")},
		{"form", fzForm, fzSeedForm("same.form@activeplatfrom.com")},
		{"form, percent-encoded brackets", fzForm + "; charset=utf-8", strings.NewReplacer("[", "%5B", "]", "%5D").Replace(fzSeedForm("same.form2@activeplatfrom.com"))},
	}
	var users []map[string]any
	for _, b := range bodies {
		res := s.Call(t, http.MethodPost, fzPath+q, b.body, "Content-Type", b.contentType)
		if res.Status != http.StatusCreated {
			t.Fatalf("%s: %d %s", b.name, res.Status, res.Body)
		}
		u := res.Map(t)
		if u["status"] != "inactive" || fmt.Sprint(u["custom_attributes"]) != "[map[name:Age value:21]]" {
			t.Errorf("%s: %s", b.name, res.Body)
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if v, _ := u[k].(string); !fzStamp.MatchString(v) {
				t.Errorf("%s: %s = %q", b.name, k, v)
			}
		}
		// The user reads back as it was answered.
		got := s.Call(t, http.MethodGet, fmt.Sprintf("%s/%v.json%s", fzPath, u["id"], q), nil)
		if got.Status != http.StatusOK || string(got.Body) != string(res.Body) {
			t.Errorf("%s: created %s, read back %d %s", b.name, res.Body, got.Status, got.Body)
		}
		delete(u, "id")
		delete(u, "email")
		users = append(users, u)
	}
	want, _ := json.Marshal(users[0])
	for i, u := range users[1:] {
		if got, _ := json.Marshal(u); string(got) != string(want) {
			t.Errorf("%s gave another user than JSON:\n%s\n%s", bodies[i+1].name, got, want)
		}
	}
}

// TestFormRepeatedAttribute checks that Rack's list-of-hashes syntax starts a new element
// whenever a key repeats: two age attributes make two attributes.
func TestFormRepeatedAttribute(t *testing.T) {
	s, q := fzServer(t)
	body := "first_name=John&last_name=Doe&password=abcdefg1&email=two.ages%40example.com" +
		"&custom_attributes[][key]=age&custom_attributes[][value]=21&custom_attributes[][key]=age&custom_attributes[][value]=22"
	res := s.Call(t, http.MethodPost, fzPath+q, body, "Content-Type", fzForm)
	if res.Status != http.StatusCreated {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	if got := fmt.Sprint(res.Map(t)["custom_attributes"]); got != "[map[name:Age value:21] map[name:Age value:22]]" {
		t.Errorf("custom_attributes %s, want two: Age 21 and Age 22", got)
	}
}

// TestFormErrors checks the answers to form bodies that are not what they should be.
func TestFormErrors(t *testing.T) {
	s, q := fzServer(t)
	for _, c := range []struct {
		name, body string
		status     int
		want       string // a prefix of the error message
	}{
		{"conflicting types", "first_name=A&custom_attributes[]=1&custom_attributes[x]=2", 400, "body is not a valid form"},
		{"bad percent-encoding", "first_name=%zz", 400, "body is not a valid form"},
		{"unclosed bracket", "first_name[=A", 400, "body is not a valid form"},
		{"attribute without value", "first_name=A&last_name=B&password=abcdefg1&email=x%40example.com&custom_attributes[][key]=age", 400, "custom_attributes[0][value] is missing"},
		{"attribute as a hash", "first_name=A&last_name=B&password=abcdefg1&email=x%40example.com&custom_attributes[key]=age", 400, "custom_attributes is invalid"},
		{"NUL in a name", "first_name=A%00B&last_name=B&password=abcdefg1&email=nul%40example.com", 400, "first_name is invalid"},
		{"empty body", "", 400, ""},
	} {
		res := s.Call(t, http.MethodPost, fzPath+q, c.body, "Content-Type", fzForm)
		var e struct{ Error string }
		res.JSON(t, &e)
		if res.Status != c.status || !strings.HasPrefix(e.Error, c.want) {
			t.Errorf("%s: %d %q, want %d %q…", c.name, res.Status, e.Error, c.status, c.want)
		}
	}
}

// fzSeeds are bodies for both targets: each is sent as is by one target and, as a body of the
// other encoding, exercises the error paths of the other.
func fzSeeds() []string {
	brackets := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	return []string{
		// the seed example, in both encodings
		fzSeedJSON("john.doe8@activeplatfrom.com"),
		fzSeedForm("john.doe9@activeplatfrom.com"),
		strings.NewReplacer("[", "%5B", "]", "%5D").Replace(fzSeedForm("john.doe10@activeplatfrom.com")),
		// missing fields
		`{}`,
		`{"first_name":"A","email":"missing@example.com"}`,
		"first_name=A&email=missing%40example.com",
		"",
		// weak passwords
		`{"first_name":"A","last_name":"B","password":"password","email":"weak@example.com"}`,
		"first_name=A&last_name=B&password=ab1&email=weak%40example.com",
		"first_name=A&last_name=B&password=&email=weak2%40example.com",
		// unknown and invalid attributes
		`{"first_name":"A","last_name":"B","password":"abcdefg1","email":"attr@example.com","custom_attributes":[{"key":"shoe","value":"9"},{"key":"age","value":"old"},{"key":"age"}]}`,
		"first_name=A&last_name=B&password=abcdefg1&email=attr%40example.com&custom_attributes[][key]=shoe&custom_attributes[][value]=9&custom_attributes[][key]=age",
		"first_name=A&last_name=B&password=abcdefg1&email=attr2%40example.com&custom_attributes[][key]=age&custom_attributes[][value]=21&custom_attributes[][key]=age&custom_attributes[][value]=22",
		"first_name=A&last_name=B&password=abcdefg1&email=attr3%40example.com&custom_attributes[key]=age&custom_attributes[value]=1",
		"first_name=A&last_name=B&password=abcdefg1&email=attr4%40example.com&custom_attributes=age",
		"first_name=A&last_name=B&password=abcdefg1&email=attr5%40example.com&custom_attributes[][key][]=age&custom_attributes[][value][x]=1",
		// nested where a string belongs, and unknown parameters
		"first_name[]=A&last_name[x]=B&password[][]=abcdefg1&email=nested%40example.com",
		"first_name=A&last_name=B&password=abcdefg1&email=unknown%40example.com&id=7&status=inactive&created_at=2020-01-01&x[y][][z]=1",
		`{"first_name":["A"],"last_name":{"x":"B"},"password":1,"email":null,"custom_attributes":"age"}`,
		// malformed JSON and forms
		`{"first_name":`,
		`[]`,
		`null`,
		`{"first_name":"A","last_name":"B","password":"abcdefg1","email":"trailing@example.com"} {}`,
		"[a]=1",
		"a[b=1",
		"a[]=1&a[x]=2",
		"a=%zz&b=%",
		"a&b&=&==&&",
		"first_name&last_name&password&email",
		// huge bodies of brackets
		"a" + strings.Repeat("[b]", 30000) + "=1",
		"a" + strings.Repeat("[]", 30000) + "=1",
		"custom_attributes" + strings.Repeat("[]", 1000) + "[key]=age",
		strings.Repeat("a[][k]=x&", 20000),
		brackets(50000),
		strings.Repeat("[", 100000),
		strings.Repeat("%5B", 30000) + "=1",
		// unicode and NUL
		`{"first_name":"Jöhn 🙂","middle_name":"Ä","last_name":"Dœ","password":"pässwört1","email":"unicode@example.com"}`,
		"first_name=J%C3%B6hn+%F0%9F%99%82&last_name=D%C5%93&password=p%C3%A4ssw%C3%B6rt1&email=unicode2%40example.com",
		"first_name=%FF%FE&last_name=B&password=abcdefg1&email=badutf8%40example.com",
		"first_name=A%00&last_name=B&password=abcdefg1&email=nul%40example.com",
		"first_name=A&last_name=B&password=abcdefg1&email=nulkey%40example.com&x%00y=1&custom_attributes[][key]=a%00ge&custom_attributes[][value]=1",
		`{"first_name":"A\u0000","last_name":"B","password":"abcdefg1","email":"nul2@example.com"}`,
		"first_name=A&last_name=B&password=abcd%00efg1&email=nul3%40example.com",
		`{"last_name":"B\u0000","password":"short","email":"a\u0000b","custom_attributes":[{"key":"a\u0000","value":"\u0000"}],"x\u0000":"\u0000"}`,
		"first_name=A&last_name=B&password=12345678&email=nul4%40example.com&custom_attributes[][key]=age&custom_attributes[][value]=9223372036854775808",
		// the password policy's classes: ASCII letters and digits
		`{"first_name":"A","last_name":"B","password":"пароль١٢٣","email":"ascii@example.com"}`,
		"first_name=A&last_name=B&password=1234567a&email=digitfirst%40example.com",
		// emails
		"first_name=A&last_name=B&password=abcdefg1&email=nope",
		"first_name=A&last_name=B&password=abcdefg1&email=JOHN.DOE9%40ACTIVEPLATFROM.COM",
	}
}

// FuzzCreateUserJSON sends arbitrary JSON bodies to POST /api/vendor/v1/users.
func FuzzCreateUserJSON(f *testing.F) { fuzzCreateUser(f, "application/json") }

// FuzzCreateUserForm sends arbitrary form-encoded bodies to POST /api/vendor/v1/users.
func FuzzCreateUserForm(f *testing.F) { fuzzCreateUser(f, fzForm) }

// fuzzCreateUser: whatever the body, the server answers without a server error and with a
// response that conforms to the spec (Call validates it); a user it creates is active and has
// timestamps in ActivePlatform's format, and reads back as it was answered.
func fuzzCreateUser(f *testing.F, contentType string) {
	for _, seed := range fzSeeds() {
		f.Add([]byte(seed))
	}
	s, q := fzServer(f)
	paths := []string{fzPath + q, fzPath + ".json" + q}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		res := s.Call(t, http.MethodPost, paths[n%2], body, "Content-Type", contentType)
		if res.Status >= 500 {
			t.Fatalf("body %.300q: status %d: %s\nlogs:\n%s", body, res.Status, res.Body, fzLastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusCreated {
			return
		}
		var u map[string]any
		res.JSON(t, &u)
		if u["status"] != "inactive" {
			t.Errorf("body %.300q: created with status %v", body, u["status"])
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if v, _ := u[k].(string); !fzStamp.MatchString(v) {
				t.Errorf("body %.300q: %s = %q, want ISO 8601 with milliseconds and an offset", body, k, v)
			}
		}
		got := s.Call(t, http.MethodGet, fmt.Sprintf("%s/%v%s", fzPath, u["id"], q), nil)
		if got.Status != http.StatusOK || string(got.Body) != string(res.Body) {
			t.Errorf("body %.300q: created %s, read back %d %s", body, res.Body, got.Status, got.Body)
		}
	})
}

func fzLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
