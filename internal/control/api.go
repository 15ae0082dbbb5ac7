// Package control is provisiond's own API (openapi/control.yaml, /_provisiond/v1): reset the
// vendor APIs' state, seed it from a fixtures document, and read back the users they stored. It
// is a module like the five vendor APIs; it works on their data through the registered modules
// (module.Deps.Modules): their tables (module.API.Tables), their fixtures sections and their
// users (module.API.Users).
package control

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/control"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
)

// Name is the control API's name: its spec, its gen folder, its credentials' scope.
const Name = "control"

// Module is the control API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  func() []store.Migration { return nil },
	Credentials: module.Credentials{Keys: true},
	New: func(d module.Deps) (httpserver.API, error) {
		svc := NewService(d.DB, d.Modules, module.Env{Config: d.Config, Hasher: d.Hasher, Now: d.Now}).OnChange(d.Credentials.Invalidate).WithJournal(d.Journal).WithFaults(d.Faults)
		api := Routes(svc, d.Credentials)
		api.BodyLimit = d.Config.ControlBodyLimit
		return api, nil
	},
	Off: func(c config.Config) bool { return !c.Control },
}

// Routes is the control API over svc, without its name and spec (module.Mount adds them).
func Routes(svc *Service, creds Credentials) httpserver.API {
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return httpserver.API{
		Prefixes:     []string{"/_provisiond/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(creds),
		Prepare:      keepBody,
		Render:       Render,
	}
}

type bodyKey struct{}

// keepBody keeps the request body as sent in the request's context: a fixtures document is parsed
// from its own text (YAML or JSON), so that its problems name the lines the client wrote.
func keepBody(req *http.Request) (*http.Request, error) {
	if req.GetBody == nil {
		return req, nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return req.WithContext(context.WithValue(req.Context(), bodyKey{}, b)), nil
}

// body is the request body keepBody kept.
func body(ctx context.Context) io.Reader {
	b, _ := ctx.Value(bodyKey{}).([]byte)
	return bytes.NewReader(b)
}
