package xcart

import (
	"context"
	"strconv"

	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/optional"
)

// Handler implements the generated strict server: it maps requests to service calls and
// results to responses. Errors go back unchanged to the renderer.
type Handler struct{ svc *Service }

var _ gen.StrictServerInterface = (*Handler)(nil)

// NewHandler returns a Handler over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Login implements POST /api-login/check.
func (h *Handler) Login(ctx context.Context, req gen.LoginRequestObject) (gen.LoginResponseObject, error) {
	var pw string
	if req.Body.Password != nil {
		pw = *req.Body.Password
	}
	token, err := h.svc.Login(ctx, req.Body.Username, pw)
	if err != nil {
		return nil, err
	}
	return gen.Login200JSONResponse{Token: token}, nil
}

// ListProfiles implements GET /api/profiles.
func (h *Handler) ListProfiles(ctx context.Context, req gen.ListProfilesRequestObject) (gen.ListProfilesResponseObject, error) {
	var login string
	optional.Set(&login, req.Params.Login)
	profiles, err := h.svc.List(ctx, req.Params.Page, req.Params.ItemsPerPage, login)
	if err != nil {
		return nil, err
	}
	out := make(gen.ListProfiles200JSONResponse, len(profiles))
	for i, p := range profiles {
		out[i] = toAPI(p)
	}
	return out, nil
}

// CreateProfile implements POST /api/profiles.
func (h *Handler) CreateProfile(ctx context.Context, req gen.CreateProfileRequestObject) (gen.CreateProfileResponseObject, error) {
	p, pw := fromCreate(*req.Body)
	created, err := h.svc.Create(ctx, p, pw)
	if err != nil {
		return nil, err
	}
	location := "/api/profiles/" + strconv.Itoa(created.ID)
	return gen.CreateProfile201JSONResponse{Body: toAPI(created), Headers: gen.CreateProfile201ResponseHeaders{Location: &location}}, nil
}

// fromCreate is the profile a create body asks for, with X-Cart's defaults for what it leaves
// out, and its password (nil for none). The fixtures' profiles are create bodies too.
func fromCreate(b gen.ProfileCreate) (Profile, *string) {
	p := Profile{
		Login:               string(b.Login),
		AccessLevel:         AccessLevelCustomer,
		Status:              StatusEnabled,
		MembershipID:        nullableValue(b.MembershipId),
		PendingMembershipID: nullableValue(b.PendingMembershipId),
		SocialLoginProvider: nullableValue(b.SocialLoginProvider),
		SocialLoginID:       nullableValue(b.SocialLoginId),
		ConciergeUserID:     nullableValue(b.ConciergeUserId),
		StripeCustomerID:    nullableValue(b.StripeCustomerId),
	}
	optional.Set(&p.AccessLevel, (*int)(b.AccessLevel))
	optional.Set(&p.Status, (*string)(b.Status))
	optional.Set(&p.StatusComment, b.StatusComment)
	optional.Set(&p.Referer, b.Referer)
	optional.Set(&p.GAClientID, b.GaClientId)
	optional.Set(&p.Language, b.Language)
	optional.Set(&p.ForceChangePassword, b.ForceChangePassword)
	optional.Set(&p.RoleIDs, b.RoleIds)
	optional.Set(&p.StoredSelectors, b.StoredSelectors)
	optional.Set(&p.MailChimpLists, b.MailChimpLists)
	optional.Set(&p.MailChimpInterests, b.MailChimpInterests)
	optional.Set(&p.MailChimpSegments, b.MailChimpSegments)
	return p, nullableValue(b.Password)
}

// GetProfile implements GET /api/profiles/{profile_id}.
func (h *Handler) GetProfile(ctx context.Context, req gen.GetProfileRequestObject) (gen.GetProfileResponseObject, error) {
	p, err := h.svc.Get(ctx, req.ProfileId)
	if err != nil {
		return nil, err
	}
	return gen.GetProfile200JSONResponse(toAPI(p)), nil
}

// UpdateProfile implements PUT /api/profiles/{profile_id}.
func (h *Handler) UpdateProfile(ctx context.Context, req gen.UpdateProfileRequestObject) (gen.UpdateProfileResponseObject, error) {
	b := req.Body
	change := func(p *Profile) {
		if b.Login != nil {
			p.Login = string(*b.Login)
		}
		optional.Set(&p.AccessLevel, (*int)(b.AccessLevel))
		optional.Set(&p.Status, (*string)(b.Status))
		optional.Set(&p.StatusComment, b.StatusComment)
		optional.Set(&p.Referer, b.Referer)
		optional.Set(&p.GAClientID, b.GaClientId)
		optional.Set(&p.Language, b.Language)
		optional.Set(&p.ForceChangePassword, b.ForceChangePassword)
		optional.Set(&p.RoleIDs, b.RoleIds)
		optional.Set(&p.StoredSelectors, b.StoredSelectors)
		optional.Set(&p.MailChimpLists, b.MailChimpLists)
		optional.Set(&p.MailChimpInterests, b.MailChimpInterests)
		optional.Set(&p.MailChimpSegments, b.MailChimpSegments)
		setNullable(&p.MembershipID, b.MembershipId)
		setNullable(&p.PendingMembershipID, b.PendingMembershipId)
		setNullable(&p.SocialLoginProvider, b.SocialLoginProvider)
		setNullable(&p.SocialLoginID, b.SocialLoginId)
		setNullable(&p.ConciergeUserID, b.ConciergeUserId)
		setNullable(&p.StripeCustomerID, b.StripeCustomerId)
	}
	pw := PasswordChange{Set: b.Password.IsSpecified(), Value: nullableValue(b.Password)}
	p, err := h.svc.Update(ctx, req.ProfileId, change, pw)
	if err != nil {
		return nil, err
	}
	return gen.UpdateProfile200JSONResponse(toAPI(p)), nil
}

// DeleteProfile implements DELETE /api/profiles/{profile_id}.
func (h *Handler) DeleteProfile(ctx context.Context, req gen.DeleteProfileRequestObject) (gen.DeleteProfileResponseObject, error) {
	if err := h.svc.Delete(ctx, req.ProfileId); err != nil {
		return nil, err
	}
	return gen.DeleteProfile204Response{}, nil
}

func toAPI(p Profile) gen.Profile {
	return gen.Profile{
		Id:                  p.ID,
		Login:               p.Login,
		AccessLevel:         gen.ProfileAccessLevel(p.AccessLevel),
		Status:              gen.ProfileStatus(p.Status),
		StatusComment:       p.StatusComment,
		Referer:             p.Referer,
		GaClientId:          p.GAClientID,
		Language:            p.Language,
		MembershipId:        toNullable(p.MembershipID),
		PendingMembershipId: toNullable(p.PendingMembershipID),
		ForceChangePassword: p.ForceChangePassword,
		RoleIds:             p.RoleIDs,
		SocialLoginProvider: toNullable(p.SocialLoginProvider),
		SocialLoginId:       toNullable(p.SocialLoginID),
		ConciergeUserId:     toNullable(p.ConciergeUserID),
		StripeCustomerId:    toNullable(p.StripeCustomerID),
		StoredSelectors:     p.StoredSelectors,
		MailChimpLists:      p.MailChimpLists,
		MailChimpInterests:  p.MailChimpInterests,
		MailChimpSegments:   p.MailChimpSegments,
		CreateDate:          p.CreateDate,
		FirstLoginDate:      toNullable(p.FirstLoginDate),
		LastLoginDate:       toNullable(p.LastLoginDate),
	}
}

// setNullable sets *dst from v when the request carried v: to nil for an explicit null.
func setNullable[T any](dst **T, v nullable.Nullable[T]) {
	if v.IsSpecified() {
		*dst = nullableValue(v)
	}
}

// nullableValue is v's value, or nil when v is absent or null.
func nullableValue[T any](v nullable.Nullable[T]) *T {
	if !v.IsSpecified() || v.IsNull() {
		return nil
	}
	x := v.MustGet()
	return &x
}

func toNullable[T any](p *T) nullable.Nullable[T] {
	if p == nil {
		return nullable.NewNullNullable[T]()
	}
	return nullable.NewNullableWithValue(*p)
}
