package control

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// Credentials finds credentials of any API.
type Credentials interface {
	Lookup(ctx context.Context, secret string) (credential.Credential, error)
}

// authenticator checks the ControlKey scheme: a bearer credential of the control API. A
// credential of a vendor API is known but refused (403); none or an unknown one is a 401.
func authenticator(creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecuritySchemeName != "ControlKey" {
			return apperr.Internal(fmt.Errorf("control: unknown security scheme %q", in.SecuritySchemeName))
		}
		secret, ok := httpserver.Bearer(in.RequestValidationInput.Request)
		if !ok {
			return &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "missing", Message: "A control credential is required, as Authorization: Bearer followed by its secret."}
		}
		c, err := creds.Lookup(ctx, secret)
		if apperr.KindOf(err) == apperr.KindUnauthenticated {
			return apperr.Unauthenticated("The credential is not known.")
		}
		if err != nil {
			return err
		}
		if c.API != Name {
			return apperr.Forbidden(fmt.Sprintf("The credential is a %s credential, not a control credential.", c.API))
		}
		return nil
	}
}
