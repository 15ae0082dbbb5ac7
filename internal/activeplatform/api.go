package activeplatform

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/activeplatform"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
)

// defaults is the built-in reference data (module.API.Defaults).
//
//go:embed default.yaml
var defaults []byte

// The paths of the operations: users, an account's users, accesses.
const (
	base     = "/api/vendor/v1/users"
	accounts = "/api/vendor/v1/accounts"
	accesses = "/api/v2/vendor/account_accesses"
)

// prefixes are the paths the API owns: any request under them, an operation's or not, answers
// in Grape's dialect. Only ActivePlatform's own: "/api/" is shared with X-Cart and platformOS.
var prefixes = []string{"/api/vendor/", "/api/v2/vendor/"}

// Module is the ActivePlatform API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  Migrations,
	Credentials: module.Credentials{Keys: true},
	New: func(d module.Deps) (httpserver.API, error) {
		policy, err := ParsePolicy(d.Config.PasswordPolicy)
		if err != nil {
			return httpserver.API{}, err
		}
		loc, err := config.Location(d.Config.Timezone)
		if err != nil {
			return httpserver.API{}, err
		}
		return Routes(NewService(NewStore(d.DB), d.Hasher, policy, d.Now), d.Credentials, loc), nil
	},
	Spec:     spec,
	Fixtures: fixtures,
	Defaults: defaults,
	Users:    users,
}

// Routes is the ActivePlatform API over svc, without its name and spec (module.Mount adds
// them); timestamps are written in loc.
func Routes(svc *Service, creds Credentials, loc *time.Location) httpserver.API {
	w := &gen.ServerInterfaceWrapper{Handler: gen.NewStrictHandler(NewHandler(svc, loc), nil)}
	return httpserver.API{
		Prefixes: prefixes,
		// The ".json" routes are the same operations: RewritePath maps them onto the routes
		// without the suffix, since Echo cannot tell "/users/:id" from "/users/:id.json".
		Register: func(e *echo.Echo) {
			e.POST(base, w.CreateUser)
			e.GET(base, w.ListUsers)
			e.GET(base+"/:id", w.GetUser)
			e.PUT(base+"/:id", w.UpdateUser)
			e.POST(accesses, w.CreateAccountAccess)
			e.GET(accounts+"/:id/users", w.ListAccountUsers)
		},
		RewritePath:  rewritePath,
		Prepare:      formToJSON,
		Authenticate: authenticator(creds),
		Render:       Renderer(svc.policy),
	}
}

// rewritePath drops the ".json" suffix of ActivePlatform's paths: of the users and of one user,
// of an account's users, of the accesses.
func rewritePath(p string) string {
	trimmed, ok := strings.CutSuffix(p, ".json")
	if !ok {
		return p
	}
	if rest, ok := strings.CutPrefix(trimmed, base); ok && strings.Count(rest, "/") <= 1 {
		return trimmed
	}
	if rest, ok := strings.CutPrefix(trimmed, accounts+"/"); ok && strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/users") {
		return trimmed
	}
	if trimmed == accesses {
		return trimmed
	}
	return p
}

// formToJSON turns a form-encoded body, in Rack's nested syntax, into the JSON body it stands for,
// so that both encodings are one request to the validator and the handler.
func formToJSON(r *http.Request) (*http.Request, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationForm || r.Body == nil {
		return r, nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	v, err := decodeRack(string(raw))
	if err != nil {
		return nil, apperr.Invalid("", "syntax", "body is not a valid form: "+err.Error())
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(js))
	out.ContentLength = int64(len(js))
	out.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	return out, nil
}
