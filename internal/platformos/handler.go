package platformos

import (
	"context"
	"net/http"
	"slices"
	"time"

	gen "github.com/provisiond/provisiond/gen/platformos"
)

// CookieName is the session cookie.
const CookieName = "_platformos_session"

// Handler implements the generated strict server over the service.
type Handler struct{ svc *Service }

var _ gen.StrictServerInterface = (*Handler)(nil)

// NewHandler returns a Handler over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

func formName(byOldName, byNewName *string) string {
	switch {
	case byOldName != nil && *byOldName != "":
		return *byOldName
	case byNewName != nil:
		return *byNewName
	}
	return ""
}

// form maps the generated form to the service's, noting every field sent.
func form(f gen.UserForm) Form {
	out := Form{
		Email: f.Email, Password: f.Password, ExternalID: f.ExternalId, FirstName: f.FirstName,
		MiddleName: f.MiddleName, LastName: f.LastName, Name: f.Name, Featured: f.Featured, PublicProfile: f.PublicProfile,
	}
	present := map[string]bool{
		"email": f.Email != nil, "password": f.Password != nil, "external_id": f.ExternalId != nil,
		"first_name": f.FirstName != nil, "middle_name": f.MiddleName != nil, "last_name": f.LastName != nil,
		"name": f.Name != nil, "featured": f.Featured != nil, "public_profile": f.PublicProfile != nil,
		"profiles": f.Profiles != nil, "relationship_users": f.RelationshipUsers != nil, "transactables": f.Transactables != nil,
	}
	if f.Profiles != nil {
		out.Profiles = *f.Profiles
	}
	if f.RelationshipUsers != nil {
		out.RelationshipUsers = *f.RelationshipUsers
	}
	if f.Transactables != nil {
		out.Transactables = *f.Transactables
	}
	for _, name := range Fields {
		if present[name] {
			out.Sent = append(out.Sent, name)
		}
	}
	var extra []string
	for name := range f.AdditionalProperties {
		extra = append(extra, name)
	}
	slices.Sort(extra)
	out.Sent = append(out.Sent, extra...)
	return out
}

// CreateUser implements POST /api/users.
func (h *Handler) CreateUser(ctx context.Context, req gen.CreateUserRequestObject) (gen.CreateUserResponseObject, error) {
	id, err := h.svc.Create(ctx, formName(req.Body.FormConfigurationName, req.Body.FormName), form(req.Body.Form))
	if err != nil {
		return nil, err
	}
	return gen.CreateUser201ApplicationVndAPIPlusJSONResponse{Id: id, Errors: map[string]any{}}, nil
}

// UpdateUser implements PUT /api/users/{user_id}.
func (h *Handler) UpdateUser(ctx context.Context, req gen.UpdateUserRequestObject) (gen.UpdateUserResponseObject, error) {
	if err := h.svc.Update(ctx, req.UserId, formName(req.Body.FormConfigurationName, req.Body.FormName), form(req.Body.Form)); err != nil {
		return nil, err
	}
	return gen.UpdateUser204Response{}, nil
}

// CreateSession implements POST /api/sessions.
func (h *Handler) CreateSession(ctx context.Context, req gen.CreateSessionRequestObject) (gen.CreateSessionResponseObject, error) {
	secret, err := h.svc.Login(ctx, formName(req.Body.FormConfigurationName, req.Body.FormName), req.Body.Form.Email, req.Body.Form.Password)
	if err != nil {
		return nil, err
	}
	cookie := (&http.Cookie{Name: CookieName, Value: secret, Path: "/", MaxAge: int(SessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode}).String()
	return gen.CreateSession200ApplicationVndAPIPlusJSONResponse{Body: gen.Empty{}, Headers: gen.CreateSession200ResponseHeaders{SetCookie: &cookie}}, nil
}

// DeleteSession implements DELETE /api/sessions.
func (h *Handler) DeleteSession(ctx context.Context, req gen.DeleteSessionRequestObject) (gen.DeleteSessionResponseObject, error) {
	var secret string
	if req.Params.UnderscorePlatformosSession != nil {
		secret = *req.Params.UnderscorePlatformosSession
	}
	// The body names the configuration as platformOS's example does; the query string may, as
	// Rails merges both into the parameters. A name in the body wins.
	name := formName(req.Params.FormConfigurationName, req.Params.FormName)
	if req.Body != nil {
		if inBody := formName(req.Body.FormConfigurationName, req.Body.FormName); inBody != "" {
			name = inBody
		}
	}
	if err := h.svc.Logout(ctx, name, secret); err != nil {
		return nil, err
	}
	cookie := (&http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode}).String()
	return gen.DeleteSession204Response{Headers: gen.DeleteSession204ResponseHeaders{SetCookie: &cookie}}, nil
}
