package occadmin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
)

// Credentials checks application keys.
type Credentials interface {
	Check(ctx context.Context, api, secret string) (credential.Credential, error)
}

// readOnlySuffix marks the token subject of a read-only application key.
const readOnlySuffix = ":read-only"

func readOnlyMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// authenticator checks the two bearer schemes: an application key (login only) and an access token.
func authenticator(svc *Service, creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		bearer, ok := httpserver.Bearer(in.RequestValidationInput.Request)
		if !ok {
			return occ.ErrNoToken()
		}
		switch in.SecuritySchemeName {
		case "ApplicationKey":
			c, err := creds.Check(ctx, Name, bearer)
			if apperr.KindOf(err) == apperr.KindUnauthenticated {
				return apperr.Unauthenticated("The application key is not valid.")
			}
			if err != nil {
				return err
			}
			sub := "key:" + strconv.FormatUint(c.ID, 10)
			if c.ReadOnly {
				sub += readOnlySuffix
			}
			httpserver.SetPrincipal(ctx, sub)
			return nil
		case "AccessToken":
			sub, err := svc.Authorize(bearer)
			if err != nil {
				return err
			}
			// A token obtained with a read-only application key may only read.
			if strings.HasSuffix(sub, readOnlySuffix) && !readOnlyMethod(in.RequestValidationInput.Request.Method) && in.RequestValidationInput.Route.Operation.OperationID != "refresh" {
				return apperr.Forbidden("The application key of this token is read-only.")
			}
			httpserver.SetPrincipal(ctx, sub)
			return nil
		}
		return apperr.Internal(fmt.Errorf("occadmin: unknown security scheme %q", in.SecuritySchemeName))
	}
}
