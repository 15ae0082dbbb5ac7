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

// Caller is who makes a request: the subject of its application key or access token ("key:<id>",
// with readOnlySuffix for a read-only key, or "profile:<id>" for an admin profile that logged in
// with its password), and the access token's claims (zero at login). At login, Refused is why an
// application key sent was refused (the login may not need one).
type Caller struct {
	Subject string
	Token   credential.Claims
	Refused error
}

// readOnlySuffix marks the token subject of a read-only application key.
const readOnlySuffix = ":read-only"

func readOnlyMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// authenticator checks the two bearer schemes: an application key (login only) and an access token.
//
// The login also takes no credential in the header (grant_type=password carries it in the body),
// so its security has an empty alternative that always passes: a refused application key is
// recorded as the Caller's Refused for the handler, which answers it for client_credentials.
func authenticator(svc *Service, creds Credentials) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
		bearer, ok := httpserver.Bearer(in.RequestValidationInput.Request)
		switch in.SecuritySchemeName {
		case "ApplicationKey":
			if !ok {
				err := &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "missing", Message: "This request requires an application key."}
				httpserver.SetPrincipal(ctx, Caller{Refused: err})
				return err
			}
			c, err := creds.Check(ctx, Name, bearer)
			if apperr.KindOf(err) == apperr.KindUnauthenticated {
				err = apperr.Unauthenticated("The application key is not valid.")
			}
			if err != nil {
				httpserver.SetPrincipal(ctx, Caller{Refused: err})
				return err
			}
			sub := "key:" + strconv.FormatUint(c.ID, 10)
			if c.ReadOnly {
				sub += readOnlySuffix
			}
			httpserver.SetPrincipal(ctx, Caller{Subject: sub})
			return nil
		case "AccessToken":
			if !ok {
				return occ.ErrNoToken()
			}
			c, err := svc.Authorize(ctx, bearer)
			if err != nil {
				return err
			}
			// A token obtained with a read-only application key may only read (and renew or end
			// itself, which changes no data).
			op := in.RequestValidationInput.Route.Operation.OperationID
			if strings.HasSuffix(c.Subject, readOnlySuffix) && !readOnlyMethod(in.RequestValidationInput.Request.Method) && op != "refresh" && op != "logout" {
				return apperr.Forbidden("The application key of this token is read-only.")
			}
			httpserver.SetPrincipal(ctx, Caller{Subject: c.Subject, Token: c})
			return nil
		}
		return apperr.Internal(fmt.Errorf("occadmin: unknown security scheme %q", in.SecuritySchemeName))
	}
}
