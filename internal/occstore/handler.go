package occstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/occstore"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/optional"
)

// Handler implements the generated strict server over the service.
type Handler struct{ svc *Service }

var _ gen.StrictServerInterface = (*Handler)(nil)

// NewHandler returns a Handler over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// loggedIn is the session the authentication function recorded.
func loggedIn(ctx context.Context) (session, error) {
	s, ok := httpserver.Principal(ctx).(session)
	if !ok {
		return session{}, apperr.Internal(fmt.Errorf("occstore: no authenticated caller"))
	}
	return s, nil
}

// caller is the member the request's access token belongs to.
func caller(ctx context.Context) (Member, error) {
	s, err := loggedIn(ctx)
	return s.Member, err
}

// actor is the caller with the organization it names to act in; the service resolves which
// organization that is.
func actor(ctx context.Context, named *string) (Actor, error) {
	c, err := caller(ctx)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Caller: c, Organization: named}, nil
}

// Login implements POST /ccstore/v1/login.
func (h *Handler) Login(ctx context.Context, req gen.LoginRequestObject) (gen.LoginResponseObject, error) {
	var pw string
	if req.Body.Password != nil {
		pw = *req.Body.Password
	}
	t, err := h.svc.Login(ctx, req.Body.Username, pw)
	if err != nil {
		return nil, err
	}
	return gen.Login200JSONResponse(t), nil
}

// Refresh implements POST /ccstore/v1/refresh.
func (h *Handler) Refresh(ctx context.Context, _ gen.RefreshRequestObject) (gen.RefreshResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.Refresh(c)
	if err != nil {
		return nil, err
	}
	return gen.Refresh200JSONResponse(t), nil
}

// Logout implements POST /ccstore/v1/logout.
func (h *Handler) Logout(ctx context.Context, _ gen.LogoutRequestObject) (gen.LogoutResponseObject, error) {
	s, err := loggedIn(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.Logout(ctx, s.Token); err != nil {
		return nil, err
	}
	return gen.Logout200JSONResponse{Result: true}, nil
}

// CreateMember implements POST /ccstore/v1/organizationMembers.
func (h *Handler) CreateMember(ctx context.Context, req gen.CreateMemberRequestObject) (gen.CreateMemberResponseObject, error) {
	a, err := actor(ctx, req.Params.XCCOrganization)
	if err != nil {
		return nil, err
	}
	b := req.Body
	dyn, err := dynamic(b.AdditionalProperties)
	if err != nil {
		return nil, err
	}
	m := Member{
		Email: string(b.Email), FirstName: b.FirstName, LastName: b.LastName, Active: b.Active,
		ReceiveEmail: string(b.ReceiveEmail), Roles: functions(b.Roles), Locale: req.Params.XCCAssetLanguage,
		Dynamic: dyn,
	}
	created, err := h.svc.Create(ctx, a, m)
	if err != nil {
		return nil, err
	}
	return gen.CreateMember200JSONResponse{Id: strconv.FormatInt(created.ID, 10)}, nil
}

// GetMember implements GET /ccstore/v1/organizationMembers/{id}.
func (h *Handler) GetMember(ctx context.Context, req gen.GetMemberRequestObject) (gen.GetMemberResponseObject, error) {
	a, err := actor(ctx, req.Params.XCCOrganization)
	if err != nil {
		return nil, err
	}
	m, err := h.svc.Get(ctx, a, req.Id)
	if err != nil {
		return nil, err
	}
	return jsonReply{toAPI(m)}, nil
}

// UpdateMember implements PUT /ccstore/v1/organizationMembers/{id}.
func (h *Handler) UpdateMember(ctx context.Context, req gen.UpdateMemberRequestObject) (gen.UpdateMemberResponseObject, error) {
	a, err := actor(ctx, req.Params.XCCOrganization)
	if err != nil {
		return nil, err
	}
	b := req.Body
	dyn, err := dynamic(b.AdditionalProperties)
	if err != nil {
		return nil, err
	}
	rolesOnly := b.Email == nil && b.FirstName == nil && b.LastName == nil && b.Active == nil && b.ReceiveEmail == nil && len(dyn) == 0
	m, err := h.svc.Update(ctx, a, req.Id, func(m *Member) {
		if b.Email != nil {
			m.Email = string(*b.Email)
		}
		optional.Set(&m.FirstName, b.FirstName)
		optional.Set(&m.LastName, b.LastName)
		optional.Set(&m.Active, b.Active)
		if b.ReceiveEmail != nil {
			m.ReceiveEmail = string(*b.ReceiveEmail)
		}
		if b.Roles != nil {
			m.Roles = functions(*b.Roles)
		}
		if len(dyn) > 0 && m.Dynamic == nil {
			m.Dynamic = map[string]any{}
		}
		for k, v := range dyn {
			m.Dynamic[k] = v
		}
	}, rolesOnly)
	if err != nil {
		return nil, err
	}
	return jsonReply{toAPI(m)}, nil
}

// ListMembers implements GET /ccstore/v1/organizationMembers.
func (h *Handler) ListMembers(ctx context.Context, req gen.ListMembersRequestObject) (gen.ListMembersResponseObject, error) {
	a, err := actor(ctx, req.Params.XCCOrganization)
	if err != nil {
		return nil, err
	}
	lp := ListParams{Limit: req.Params.Limit}
	optional.Set(&lp.Offset, req.Params.Offset)
	optional.Set(&lp.Sort, req.Params.Sort)
	optional.Set(&lp.Filter, req.Params.Q)
	page, err := h.svc.List(ctx, a, lp)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Member, len(page.Items))
	for i, m := range page.Items {
		items[i] = toAPI(m)
	}
	return gen.ListMembers200JSONResponse{Items: items, Total: page.Total, TotalResults: page.Total, Offset: page.Offset, Limit: page.Limit}, nil
}

// GetCurrentProfile implements GET /ccstore/v1/profiles/current.
func (h *Handler) GetCurrentProfile(ctx context.Context, req gen.GetCurrentProfileRequestObject) (gen.GetCurrentProfileResponseObject, error) {
	a, err := actor(ctx, req.Params.XCCOrganization)
	if err != nil {
		return nil, err
	}
	v, err := h.svc.Current(ctx, a)
	if err != nil {
		return nil, err
	}
	m := toAPI(v.MemberView)
	out := gen.CurrentProfile{
		Id: m.Id, RepositoryId: m.RepositoryId, FirstName: m.FirstName, LastName: m.LastName, Email: m.Email, Active: m.Active,
		ReceiveEmail: gen.CurrentProfileReceiveEmail(m.ReceiveEmail), Roles: m.Roles, ParentOrganization: m.ParentOrganization,
		Locale: m.Locale, SecondaryOrganizations: make([]gen.OrganizationRef, len(v.Secondary)), AdditionalProperties: m.AdditionalProperties,
	}
	if v.Current != nil {
		out.CurrentOrganization = &gen.OrganizationRef{Id: v.Current.ID, Name: v.Current.Name}
	}
	for i, o := range v.Secondary {
		out.SecondaryOrganizations[i] = gen.OrganizationRef{Id: o.ID, Name: o.Name}
	}
	return jsonReply{out}, nil
}

// toAPI renders a member with its parent organization.
func toAPI(m MemberView) gen.Member {
	roles := make([]gen.Role, len(m.Roles))
	for i, f := range m.Roles {
		roles[i] = gen.Role{Function: gen.RoleFunction(f)}
	}
	locale := nullable.NewNullNullable[string]()
	if m.Locale != nil {
		locale = nullable.NewNullableWithValue(*m.Locale)
	}
	id := strconv.FormatInt(m.ID, 10)
	return gen.Member{
		Id: id, RepositoryId: id, FirstName: m.FirstName, LastName: m.LastName, Email: m.Email,
		Active: m.Active, ReceiveEmail: gen.MemberReceiveEmail(m.ReceiveEmail), Roles: roles,
		ParentOrganization: gen.OrganizationRef{Id: m.Parent.ID, Name: m.Parent.Name}, Locale: locale,
		AdditionalProperties: m.Dynamic,
	}
}

// jsonReply writes a member or profile (a value of a generated type with a MarshalJSON) as a 200
// with its dynamic properties. The generated 200 response types are defined types over those types
// and so lose their MarshalJSON, which writes the dynamic properties.
type jsonReply struct{ v json.Marshaler }

func (r jsonReply) VisitGetMemberResponse(w http.ResponseWriter) error         { return r.write(w) }
func (r jsonReply) VisitUpdateMemberResponse(w http.ResponseWriter) error      { return r.write(w) }
func (r jsonReply) VisitGetCurrentProfileResponse(w http.ResponseWriter) error { return r.write(w) }

func (r jsonReply) write(w http.ResponseWriter) error {
	b, err := json.Marshal(r.v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b, '\n'))
	return err
}

// dynamic decodes the dynamic properties of a request body, keeping numbers as json.Number so
// that they are stored exactly as sent (through float64, 12345678901234567890 would come back
// as 12345678901234567000, and 1e-400 as 0).
func dynamic(raw map[string]json.RawMessage) (map[string]any, error) {
	if raw == nil {
		return nil, nil
	}
	out := make(map[string]any, len(raw))
	for name, js := range raw {
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, invalidValue(name)
		}
		out[name] = v
	}
	return out, nil
}

func functions(roles []gen.Role) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, string(r.Function))
	}
	return out
}
