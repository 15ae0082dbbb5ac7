package platformos

import (
	"context"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
)

// Credentials checks API tokens.
type Credentials interface {
	Check(ctx context.Context, api, secret string) (credential.Credential, error)
}

var errBadToken = apperr.Unauthenticated("Invalid Authentication")

// apiToken reads "Token token=abc" or `Token token="abc"`.
func apiToken(header string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Token") {
		return "", false
	}
	key, value, ok := strings.Cut(strings.TrimSpace(rest), "=")
	if !ok || strings.TrimSpace(key) != "token" {
		return "", false
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return value, value != ""
}

// authenticator checks the Token scheme.
func authenticator(creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecuritySchemeName != "Token" {
			return apperr.Internal(fmt.Errorf("platformos: unknown security scheme %q", in.SecuritySchemeName))
		}
		token, ok := apiToken(in.RequestValidationInput.Request.Header.Get("Authorization"))
		if !ok {
			return errBadToken
		}
		if _, err := creds.Check(ctx, Name, token); err != nil {
			if apperr.KindOf(err) == apperr.KindUnauthenticated {
				return errBadToken
			}
			return err
		}
		return nil
	}
}
