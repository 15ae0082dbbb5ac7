package occ

import (
	"time"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
)

// DefaultTokenTTL is how long an OCC access token lives unless configured otherwise.
const DefaultTokenTTL = 5 * time.Minute

// Token is the body of a successful login or refresh. Its fields are those of both OCC specs'
// AccessToken schema, in the generated structs' order, so that each API's handler converts it
// to its generated type.
type Token struct {
	AccessToken string
	ExpiresIn   int // seconds
	TokenType   string
}

// Tokens issues and checks the access tokens of one OCC API: JWTs whose audience is the API,
// so that a token of one API is refused by the other.
type Tokens struct {
	api    string
	signer *credential.Signer
}

// NewTokens returns the token issuer of api.
func NewTokens(api string, signer *credential.Signer) *Tokens {
	return &Tokens{api: api, signer: signer}
}

// Issue returns a fresh access token for subject.
func (t *Tokens) Issue(subject string) (Token, error) {
	s, err := t.signer.Issue(t.api, subject)
	if err != nil {
		return Token{}, apperr.Internal(err)
	}
	return Token{AccessToken: s, TokenType: "bearer", ExpiresIn: int(t.signer.TTL() / time.Second)}, nil
}

// Check returns the subject of a valid, unexpired access token of this API. Anything else is
// an apperr.KindUnauthenticated error.
func (t *Tokens) Check(token string) (string, error) {
	sub, err := t.signer.Verify(t.api, token)
	if err != nil {
		return "", apperr.Unauthenticated("The access token is invalid or has expired.")
	}
	return sub, nil
}

// ErrNoToken is the error of a request without a bearer token.
func ErrNoToken() error {
	return &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "missing", Message: "This request requires an access token."}
}
