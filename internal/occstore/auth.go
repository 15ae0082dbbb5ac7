package occstore

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
)

// authenticator checks the access token and records the member it belongs to.
func authenticator(svc *Service) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecuritySchemeName != "AccessToken" {
			return apperr.Internal(fmt.Errorf("occstore: unknown security scheme %q", in.SecuritySchemeName))
		}
		bearer, ok := httpserver.Bearer(in.RequestValidationInput.Request)
		if !ok {
			return occ.ErrNoToken()
		}
		m, c, err := svc.Authorize(ctx, bearer)
		if err != nil {
			return err
		}
		httpserver.SetPrincipal(ctx, session{Member: m, Token: c})
		return nil
	}
}

// session is the member a request's access token belongs to, with the token's claims.
type session struct {
	Member Member
	Token  credential.Claims
}
