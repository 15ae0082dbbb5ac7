package xcart

import (
	"context"

	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/httpserver"
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

// ListProfiles implements GET /api/profiles: a JSON array, or a JSON-LD collection.
func (h *Handler) ListProfiles(ctx context.Context, req gen.ListProfilesRequestObject) (gen.ListProfilesResponseObject, error) {
	rep := representationOf(ctx)
	q := req.Params
	params := ListParams{
		Page: q.Page, PerPage: q.ItemsPerPage,
		Added: dateBounds(q.Added), FirstLogin: dateBounds(q.FirstLogin),
		Total: rep.jsonld,
	}
	optional.Set(&params.Login, q.Login)
	optional.Set(&params.Search, q.SearchFakeField)
	page, err := h.svc.List(ctx, params)
	if err != nil {
		return nil, err
	}
	if rep.jsonld {
		c, err := collection(page, rep)
		if err != nil {
			return nil, err
		}
		return gen.ListProfiles200ApplicationLdPlusJSONResponse(c), nil
	}
	out := make(gen.ListProfiles200JSONResponse, len(page.Profiles))
	for i, p := range page.Profiles {
		out[i] = toAPI(p)
	}
	return out, nil
}

// dateBounds are the bounds of a date filter as sent, by DateFilter key.
func dateBounds(b *gen.DateBounds) map[string]string {
	if b == nil {
		return nil
	}
	out := map[string]string{}
	for key, v := range map[string]*string{"before": b.Before, "strictly_before": b.StrictlyBefore, "after": b.After, "strictly_after": b.StrictlyAfter} {
		if v != nil {
			out[key] = *v
		}
	}
	return out
}

// CreateProfile implements POST /api/profiles.
func (h *Handler) CreateProfile(ctx context.Context, req gen.CreateProfileRequestObject) (gen.CreateProfileResponseObject, error) {
	b, err := body(req.JSONBody, req.ApplicationLdPlusJSONBody)
	if err != nil {
		return nil, err
	}
	p, pw := fromCreate(*b)
	created, err := h.svc.Create(ctx, p, pw)
	if err != nil {
		return nil, err
	}
	location := profileIRI(created.ID)
	headers := gen.ProfileCreatedResponseHeaders{Location: &location}
	return answer(ctx, created, toAPI, toJSONLD,
		func(ld gen.ProfileJsonld) gen.CreateProfileResponseObject {
			return gen.CreateProfile201ApplicationLdPlusJSONResponse{ProfileCreatedApplicationLdPlusJSONResponse: gen.ProfileCreatedApplicationLdPlusJSONResponse{Body: ld, Headers: headers}}
		},
		func(p gen.Profile) gen.CreateProfileResponseObject {
			return gen.CreateProfile201JSONResponse{ProfileCreatedJSONResponse: gen.ProfileCreatedJSONResponse{Body: p, Headers: headers}}
		})
}

// answer is the response of one item (a profile, an address) in the representation the request
// of ctx asks for: ld's of the item in JSON-LD (ldOf), plain's of the item in JSON (plainOf).
func answer[T, A, J, R any](ctx context.Context, item T, plainOf func(T) A, ldOf func(T, bool) (J, error), ld func(J) R, plain func(A) R) (R, error) {
	if !representationOf(ctx).jsonld {
		return plain(plainOf(item)), nil
	}
	out, err := ldOf(item, true)
	if err != nil {
		var none R
		return none, err
	}
	return ld(out), nil
}

// body is the request's body in whichever of its media types it came (the validator admits a
// request with exactly one of them).
func body[T any](json, jsonld *T) (*T, error) {
	switch {
	case json != nil:
		return json, nil
	case jsonld != nil:
		return jsonld, nil
	}
	return nil, &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "missing"}}}
}

// fromCreate is the profile a create body asks for, with X-Cart's defaults for what it leaves
// out, and its password (nil for none). The fixtures' profiles are create bodies too.
func fromCreate(b gen.ProfileCreate) (Profile, *string) {
	p := Profile{
		Login:               b.Login,
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
	return answer(ctx, p, toAPI, toJSONLD,
		func(ld gen.ProfileJsonld) gen.GetProfileResponseObject {
			return gen.GetProfile200ApplicationLdPlusJSONResponse{ProfileOKApplicationLdPlusJSONResponse: gen.ProfileOKApplicationLdPlusJSONResponse(ld)}
		},
		func(p gen.Profile) gen.GetProfileResponseObject {
			return gen.GetProfile200JSONResponse{ProfileOKJSONResponse: gen.ProfileOKJSONResponse(p)}
		})
}

// UpdateProfile implements PUT /api/profiles/{profile_id}.
func (h *Handler) UpdateProfile(ctx context.Context, req gen.UpdateProfileRequestObject) (gen.UpdateProfileResponseObject, error) {
	b, err := body(req.JSONBody, req.ApplicationLdPlusJSONBody)
	if err != nil {
		return nil, err
	}
	change := func(p *Profile) {
		optional.Set(&p.Login, b.Login)
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
	return answer(ctx, p, toAPI, toJSONLD,
		func(ld gen.ProfileJsonld) gen.UpdateProfileResponseObject {
			return gen.UpdateProfile200ApplicationLdPlusJSONResponse{ProfileUpdatedApplicationLdPlusJSONResponse: gen.ProfileUpdatedApplicationLdPlusJSONResponse(ld)}
		},
		func(p gen.Profile) gen.UpdateProfileResponseObject {
			return gen.UpdateProfile200JSONResponse{ProfileUpdatedJSONResponse: gen.ProfileUpdatedJSONResponse(p)}
		})
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
