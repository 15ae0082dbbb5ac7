package occadmin

import (
	"context"
	"errors"
	"fmt"

	gen "github.com/provisiond/provisiond/gen/occadmin"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/optional"
)

// Handler implements the generated strict server over the service.
type Handler struct{ svc *Service }

var _ gen.StrictServerInterface = (*Handler)(nil)

// NewHandler returns a Handler over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// caller is the caller the authentication function recorded.
func caller(ctx context.Context) (Caller, error) {
	c, ok := httpserver.Principal(ctx).(Caller)
	if !ok || c.Subject == "" {
		return Caller{}, apperr.Internal(fmt.Errorf("occadmin: no authenticated caller"))
	}
	return c, nil
}

// Login implements POST /ccadmin/v1/login: grant_type=client_credentials with the application
// key the authenticator checked, or grant_type=password with an admin profile's credentials.
func (h *Handler) Login(ctx context.Context, req gen.LoginRequestObject) (gen.LoginResponseObject, error) {
	b := req.Body
	if b.GrantType == gen.Password {
		var missing []error
		for _, f := range []struct {
			name string
			v    *string
		}{{"username", b.Username}, {"password", b.Password}} {
			if f.v == nil || *f.v == "" {
				missing = append(missing, apperr.Invalid("/"+f.name, CodeInvalidInput, fmt.Sprintf("The value of %s is missing.", f.name)))
			}
		}
		if len(missing) > 0 {
			return nil, errors.Join(missing...)
		}
		t, err := h.svc.PasswordLogin(ctx, *b.Username, *b.Password)
		if err != nil {
			return nil, err
		}
		return gen.Login200JSONResponse(t), nil
	}
	c, _ := httpserver.Principal(ctx).(Caller)
	switch {
	case c.Refused != nil:
		return nil, c.Refused
	case c.Subject == "":
		return nil, apperr.Internal(fmt.Errorf("occadmin: login without a checked application key"))
	}
	t, err := h.svc.Login(c.Subject)
	if err != nil {
		return nil, err
	}
	return gen.Login200JSONResponse(t), nil
}

// Refresh implements POST /ccadmin/v1/refresh.
func (h *Handler) Refresh(ctx context.Context, _ gen.RefreshRequestObject) (gen.RefreshResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.Refresh(c.Subject)
	if err != nil {
		return nil, err
	}
	return gen.Refresh200JSONResponse(t), nil
}

// Logout implements POST /ccadmin/v1/logout.
func (h *Handler) Logout(ctx context.Context, _ gen.LogoutRequestObject) (gen.LogoutResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.Logout(ctx, c.Token); err != nil {
		return nil, err
	}
	return gen.Logout200JSONResponse{Result: true}, nil
}

func (h *Handler) create(ctx context.Context, b *gen.AdminProfileCreate) (gen.AdminProfileCreated, error) {
	p := AdminProfile{Email: string(b.Email), FirstName: b.FirstName, LastName: b.LastName, Active: true, Roles: b.Roles}
	if b.Active != nil {
		p.Active = *b.Active
	}
	created, err := h.svc.Create(ctx, p, b.Password)
	if err != nil {
		return gen.AdminProfileCreated{}, err
	}
	return gen.AdminProfileCreated{Id: formatID(created.ID)}, nil
}

// CreateAdminProfile implements POST /ccadmin/v1/adminProfiles/.
func (h *Handler) CreateAdminProfile(ctx context.Context, req gen.CreateAdminProfileRequestObject) (gen.CreateAdminProfileResponseObject, error) {
	out, err := h.create(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.CreateAdminProfile200JSONResponse{AdminProfileCreatedJSONResponse: gen.AdminProfileCreatedJSONResponse(out)}, nil
}

// CreateAdminProfileWithoutSlash implements POST /ccadmin/v1/adminProfiles.
func (h *Handler) CreateAdminProfileWithoutSlash(ctx context.Context, req gen.CreateAdminProfileWithoutSlashRequestObject) (gen.CreateAdminProfileWithoutSlashResponseObject, error) {
	out, err := h.create(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.CreateAdminProfileWithoutSlash200JSONResponse{AdminProfileCreatedJSONResponse: gen.AdminProfileCreatedJSONResponse(out)}, nil
}

// GetAdminProfile implements GET /ccadmin/v1/adminProfiles/{id}.
func (h *Handler) GetAdminProfile(ctx context.Context, req gen.GetAdminProfileRequestObject) (gen.GetAdminProfileResponseObject, error) {
	p, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetAdminProfile200JSONResponse{AdminProfileJSONResponse: gen.AdminProfileJSONResponse(toAPI(p))}, nil
}

// GetCurrentAdminProfile implements GET /ccadmin/v1/adminProfiles/current.
func (h *Handler) GetCurrentAdminProfile(ctx context.Context, _ gen.GetCurrentAdminProfileRequestObject) (gen.GetCurrentAdminProfileResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.Current(ctx, c.Subject)
	if err != nil {
		return nil, err
	}
	return gen.GetCurrentAdminProfile200JSONResponse{AdminProfileJSONResponse: gen.AdminProfileJSONResponse(toAPI(p))}, nil
}

// UpdateAdminProfile implements PUT /ccadmin/v1/adminProfiles/{id}.
func (h *Handler) UpdateAdminProfile(ctx context.Context, req gen.UpdateAdminProfileRequestObject) (gen.UpdateAdminProfileResponseObject, error) {
	b := req.Body
	p, err := h.svc.Update(ctx, req.Id, func(p *AdminProfile) {
		if b.Email != nil {
			p.Email = string(*b.Email)
		}
		optional.Set(&p.FirstName, b.FirstName)
		optional.Set(&p.LastName, b.LastName)
		optional.Set(&p.Active, b.Active)
		optional.Set(&p.Roles, b.Roles)
	})
	if err != nil {
		return nil, err
	}
	return gen.UpdateAdminProfile200JSONResponse{AdminProfileJSONResponse: gen.AdminProfileJSONResponse(toAPI(p))}, nil
}

// ListAdminProfiles implements GET /ccadmin/v1/adminProfiles.
func (h *Handler) ListAdminProfiles(ctx context.Context, req gen.ListAdminProfilesRequestObject) (gen.ListAdminProfilesResponseObject, error) {
	lp := ListParams{Limit: req.Params.Limit}
	optional.Set(&lp.Offset, req.Params.Offset)
	optional.Set(&lp.Sort, req.Params.Sort)
	optional.Set(&lp.Filter, req.Params.Q)
	page, err := h.svc.List(ctx, lp)
	if err != nil {
		return nil, err
	}
	items := make([]gen.AdminProfile, len(page.Items))
	for i, p := range page.Items {
		items[i] = toAPI(p)
	}
	out := gen.ListAdminProfiles200JSONResponse{Items: items, Limit: page.Limit, Offset: page.Offset, Total: page.Total, TotalResults: page.Total}
	if page.Sort.Property != "" {
		order := gen.Asc
		if page.Sort.Desc {
			order = gen.Desc
		}
		out.Sort = &[]gen.SortOrder{{Property: page.Sort.Property, Order: order}}
	}
	return out, nil
}

// ListAdminRoles implements GET /ccadmin/v1/adminRoles.
func (h *Handler) ListAdminRoles(ctx context.Context, _ gen.ListAdminRolesRequestObject) (gen.ListAdminRolesResponseObject, error) {
	roles, err := h.svc.Roles(ctx)
	if err != nil {
		return nil, err
	}
	out := gen.ListAdminRoles200JSONResponse{Items: make([]gen.AdminRole, len(roles))}
	for i, r := range roles {
		out.Items[i] = gen.AdminRole{RepositoryId: r.ID, Name: r.Name, Description: r.Description, Category: r.Category, Privileges: r.Privileges}
	}
	return out, nil
}

// DateFormat is how the API writes registrationDate: UTC with milliseconds, as OCC does.
const DateFormat = "2006-01-02T15:04:05.000Z"

// toAPI renders a profile with its roles' names.
func toAPI(p ProfileView) gen.AdminProfile {
	refs := make([]gen.RoleRef, len(p.RoleRefs))
	for i, r := range p.RoleRefs {
		refs[i] = gen.RoleRef{RepositoryId: r.ID, Name: r.Name}
	}
	id := formatID(p.ID)
	return gen.AdminProfile{
		Id: id, RepositoryId: id, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName,
		Active: p.Active, Roles: refs, RegistrationDate: p.RegistrationDate.UTC().Format(DateFormat),
	}
}
