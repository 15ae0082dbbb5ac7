package xcart_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/password"
)

// FuzzCreateProfile sends arbitrary bodies to POST /api/profiles. Whatever the body, the
// server must answer without a server error, with a response that conforms to the spec (Do
// validates every response), and a profile it creates must carry the login it was sent.
func FuzzCreateProfile(f *testing.F) {
	long := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
	for _, seed := range []string{
		// valid
		`{"login":"seed-valid@example.com"}`,
		`{"login":"seed-full@example.com","password":"correct horse","access_level":100,"status":"D","status_comment":"x","referer":"https://example.com","language":"fr","membership_id":1,"pending_membership_id":2,"role_ids":[1,2,3],"force_change_password":true,"social_login_provider":null,"stored_selectors":["a"],"mail_chimp_lists":[1],"mail_chimp_interests":[],"mail_chimp_segments":[2]}`,
		// malformed JSON
		`{"login":"a@example.com"`,
		`{"login":}`,
		`[]`,
		`"login"`,
		`{"login":"a@example.com"} trailing`,
		// wrong types
		`{"login":42}`,
		`{"login":"seed-types@example.com","access_level":"100","role_ids":"1","force_change_password":"yes","membership_id":1.5}`,
		// nulls
		`null`,
		`{"login":null}`,
		`{"login":"seed-nulls@example.com","password":null,"membership_id":null,"role_ids":null,"status":null}`,
		// huge and odd numbers
		`{"login":"seed-huge@example.com","membership_id":99999999999999999999999999,"role_ids":[1e400]}`,
		`{"login":"seed-neg@example.com","membership_id":-1,"pending_membership_id":9223372036854775807,"access_level":1e2}`,
		`{"login":"seed-2p63@example.com","access_level":100,"role_ids":[9223372036854775808],"membership_id":9223372036854775807}`,
		`{"login":"seed-min@example.com","mail_chimp_lists":[-9223372036854775808,-9223372036854775809],"mail_chimp_segments":[1.0]}`,
		`{"login":"seed-float@example.com","access_level":100.0,"pending_membership_id":-1e20}`,
		// nested arrays and objects
		`{"login":"seed-nested@example.com","role_ids":[[1],[2,[3]]],"stored_selectors":[{"a":[]}]}`,
		`{"login":{"login":"a@example.com"}}`,
		// unicode and letter case
		`{"login":"ÜNÏCØDÉ@example.com"}`,
		`{"login":"seed-case@example.com","LOGIN":"other@example.com","Login":"x"}`,
		`{"login":"seed\u0000nul@example.com"}`,
		`{"login":"seed-nulvalues@example.com","status_comment":"\u0000","stored_selectors":["\u0000"],"password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}`,
		`{"login":"seed-nulkey@example.com","\u0000":"\u0000","x\u0000y":{"\u0000":[1e400]}}`,
		`{"login":"seed-dup@example.com","login":"seed-dup2@example.com"}`,
		// empty
		``,
		`{}`,
		// boundary lengths: login 5..128, password 8..128, language ≤ 2, referer ≤ 255
		`{"login":"a@b.c"}`,
		`{"login":"a@bc"}`,
		`{"login":"` + long(128) + `"}`,
		`{"login":"` + long(129) + `"}`,
		`{"login":"seed-pw7@example.com","password":"1234567"}`,
		`{"login":"seed-pw128@example.com","password":"` + strings.Repeat("p", 128) + `"}`,
		`{"login":"seed-pw129@example.com","password":"` + strings.Repeat("p", 129) + `"}`,
		`{"login":"seed-lang@example.com","language":"eng","referer":"` + strings.Repeat("r", 256) + `"}`,
	} {
		f.Add([]byte(seed))
	}

	// One server for the whole target (per fuzzing worker), with cheap password hashing so that
	// the fuzzer explores bodies rather than argon2id; the OWASP cost is the benchmarks' business.
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	s := apitest.Start(f, "sqlite", apitest.Options{Deps: app.Deps{Hasher: password.New(cheap, 4)}})
	token := s.Keys["xcart"]

	f.Fuzz(func(t *testing.T, body []byte) {
		res := s.Call(t, http.MethodPost, "/api/profiles", body, "X-Auth-Token", token)
		if res.Status >= 500 {
			t.Fatalf("body %q: status %d: %s\nlogs:\n%s", body, res.Status, res.Body, apitest.LastLines(s.Logs.String(), 5))
		}
		if res.Status != http.StatusCreated {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("body %q is not one JSON value but was created (201)", body)
		}
		var sent map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber() // numbers beyond float64, such as 1e400, are valid JSON
		if err := dec.Decode(&sent); err != nil {
			t.Fatalf("body %q was created (201) but is not a JSON object: %v", body, err)
		}
		var got struct{ Login string }
		res.JSON(t, &got)
		if want, _ := sent["login"].(string); got.Login != want {
			t.Errorf("body %q: created login %q, want %q", body, got.Login, want)
		}
	})
}
