package occstore

import (
	"fmt"

	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/occstore"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the OCC store API for the HTTP server.
func NewAPI(svc *Service) (*httpserver.API, error) {
	yaml, spec, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return &httpserver.API{
		Name:         Name,
		Spec:         spec,
		SpecYAML:     yaml,
		Prefixes:     []string{"/ccstore/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc),
		Render:       dialect.Render,
	}, nil
}

var dialect = occ.Dialect{Classify: classify}

// classify gives a schema problem its OCC error code.
func classify(is httpserver.Issue) occ.Issue {
	path := occ.Pointer(is.Field)
	switch {
	case is.In == "query" || is.In == "header":
		return occ.Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of the parameter %s is invalid.", is.Field), Path: "/" + is.Field}
	case is.Rule == "syntax" || is.Rule == "missing":
		return occ.Issue{Code: CodeInvalidInput, Message: "The request body is not a valid JSON object."}
	case is.Field == "email" && (is.Rule == "required" || is.Value == "" || is.Value == nil):
		return occ.Issue{Code: CodeEmailMissing, Message: "The email is missing or empty.", Path: path}
	case is.Field == "email" && is.Rule == "format":
		return occ.Issue{Code: CodeEmailInvalid, Message: "The email is not a valid email address.", Path: path}
	case is.Rule == "required":
		return occ.Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of %s is missing.", is.Field), Path: path}
	}
	return occ.Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of %s is invalid.", is.Field), Path: path}
}
