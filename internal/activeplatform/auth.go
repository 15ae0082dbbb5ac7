package activeplatform

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
)

// Credentials checks API tokens.
type Credentials interface {
	Check(ctx context.Context, api, secret string) (credential.Credential, error)
}

var errUnauthorized = apperr.Unauthenticated("401 Unauthorized")

// authenticator checks the api_token query parameter.
func authenticator(creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecuritySchemeName != "ApiToken" {
			return apperr.Internal(fmt.Errorf("activeplatform: unknown security scheme %q", in.SecuritySchemeName))
		}
		token := in.RequestValidationInput.Request.URL.Query().Get("api_token")
		if token == "" {
			return errUnauthorized
		}
		if _, err := creds.Check(ctx, Name, token); err != nil {
			if apperr.KindOf(err) == apperr.KindUnauthenticated {
				return errUnauthorized
			}
			return err
		}
		return nil
	}
}
