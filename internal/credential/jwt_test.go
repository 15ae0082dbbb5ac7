package credential_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
)

func TestSigner(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	s := credential.NewSigner(key, time.Hour, clock)
	token, err := s.Issue("xcart", "42")
	if err != nil {
		t.Fatal(err)
	}
	if sub, err := s.Verify("xcart", token); err != nil || sub != "42" {
		t.Fatalf("Verify = %q, %v; want 42", sub, err)
	}
	other := credential.NewSigner([]byte("another-key-another-key-another!!"), time.Hour, clock)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.RegisteredClaims{Subject: "42", Audience: jwt.ClaimStrings{"xcart"}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(key)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "42", Audience: jwt.ClaimStrings{"xcart"}}).SignedString(key)
	for _, c := range []struct {
		name, api, token string
		signer           *credential.Signer
	}{
		{"another API", "occadmin", token, s},
		{"another key", "xcart", token, other},
		{"another algorithm", "xcart", hs512, s},
		{"no expiry", "xcart", noExp, s},
		{"garbage", "xcart", "a.b.c", s},
	} {
		if _, err := c.signer.Verify(c.api, c.token); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Errorf("%s: Verify error %v, want unauthenticated", c.name, err)
		}
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := s.Verify("xcart", token); err == nil || err.Error() != "unauthenticated: Expired JWT Token" {
		t.Errorf("expired token: %v, want Expired JWT Token", err)
	}
}
