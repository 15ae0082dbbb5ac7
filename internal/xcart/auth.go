package xcart

import (
	"context"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// Credentials checks API keys.
type Credentials interface {
	Check(ctx context.Context, api, secret string) (credential.Credential, error)
}

const msgNoCredential = "Full authentication is required to access this resource."

func missing() error {
	return &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "missing", Message: msgNoCredential}
}

// authenticator checks X-Cart's two security schemes: an API key in X-Auth-Token (a read-only
// key may only read) and a JWT from POST /api-login/check as a bearer token.
func authenticator(svc *Service, creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		req := in.RequestValidationInput.Request
		switch in.SecuritySchemeName {
		case "Token":
			key := req.Header.Get("X-Auth-Token")
			if key == "" {
				return missing()
			}
			c, err := creds.Check(ctx, Name, key)
			if apperr.KindOf(err) == apperr.KindUnauthenticated {
				return apperr.Unauthenticated("Invalid API key.")
			}
			if err != nil {
				return err
			}
			if c.ReadOnly && req.Method != http.MethodGet && req.Method != http.MethodHead {
				return apperr.Forbidden("Access Denied.")
			}
			return nil
		case "JWT":
			token, ok := httpserver.Bearer(req)
			if !ok {
				return missing()
			}
			return svc.Authorize(ctx, token)
		}
		return apperr.Internal(fmt.Errorf("xcart: unknown security scheme %q", in.SecuritySchemeName))
	}
}
