package control

import (
	"context"

	gen "github.com/provisiond/provisiond/gen/control"
	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/internal/module"
)

// Handler implements gen.StrictServerInterface over a Service.
type Handler struct{ svc *Service }

// NewHandler returns the control API's handler over svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

var _ gen.StrictServerInterface = (*Handler)(nil)

// Reset implements POST /_provisiond/v1/reset.
func (h *Handler) Reset(ctx context.Context, req gen.ResetRequestObject) (gen.ResetResponseObject, error) {
	var apis []string
	if req.Params.Api != nil {
		for _, a := range *req.Params.Api {
			apis = append(apis, string(a))
		}
	}
	drop := req.Params.Credentials != nil && *req.Params.Credentials == gen.ResetParamsCredentialsDrop
	done, err := h.svc.Reset(ctx, apis, drop)
	if err != nil {
		return nil, err
	}
	res := gen.Reset200JSONResponse{Credentials: gen.Kept, Apis: make([]gen.ApiName, len(done))}
	if drop {
		res.Credentials = gen.Dropped
	}
	for i, a := range done {
		res.Apis[i] = gen.ApiName(a)
	}
	return res, nil
}

// ApplyFixtures implements POST /_provisiond/v1/fixtures.
func (h *Handler) ApplyFixtures(ctx context.Context, _ gen.ApplyFixturesRequestObject) (gen.ApplyFixturesResponseObject, error) {
	applied, err := h.svc.Apply(ctx, body(ctx))
	if err != nil {
		return nil, err
	}
	res := gen.ApplyFixtures200JSONResponse{Applied: map[string]map[string]gen.Count{}}
	for api, kinds := range applied {
		res.Applied[api] = map[string]gen.Count{}
		for kind, c := range kinds {
			res.Applied[api][kind] = gen.Count{Created: int32(c.Created), Updated: int32(c.Updated)}
		}
	}
	return res, nil
}

// ListUsers implements GET /_provisiond/v1/{api}/users.
func (h *Handler) ListUsers(ctx context.Context, req gen.ListUsersRequestObject) (gen.ListUsersResponseObject, error) {
	offset, limit := int32(0), int32(100)
	if req.Params.Offset != nil {
		offset = *req.Params.Offset
	}
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	users, total, err := h.svc.List(ctx, string(req.Api), int(offset), int(limit))
	if err != nil {
		return nil, err
	}
	res := gen.ListUsers200JSONResponse{Items: make([]gen.User, len(users)), Total: total, Offset: offset, Limit: limit}
	for i, u := range users {
		res.Items[i] = user(req.Api, u)
	}
	return res, nil
}

// GetUser implements GET /_provisiond/v1/{api}/users/{id}.
func (h *Handler) GetUser(ctx context.Context, req gen.GetUserRequestObject) (gen.GetUserResponseObject, error) {
	u, err := h.svc.Get(ctx, string(req.Api), req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetUser200JSONResponse(user(req.Api, u)), nil
}

// ListRequests implements GET /_provisiond/v1/requests.
func (h *Handler) ListRequests(_ context.Context, req gen.ListRequestsRequestObject) (gen.ListRequestsResponseObject, error) {
	p := req.Params
	f := journal.Filter{Limit: 100}
	if p.Api != nil {
		f.API = string(*p.Api)
	}
	if p.Operation != nil {
		f.Operation = *p.Operation
	}
	if p.Method != nil {
		f.Method = string(*p.Method)
	}
	if p.Status != nil {
		f.Status = ptr(int(*p.Status))
	}
	f.Faulted = p.Faulted
	if p.Since != nil {
		f.Since = *p.Since
	}
	if p.Limit != nil {
		f.Limit = int(*p.Limit)
	}
	entries := h.svc.Requests(f)
	res := gen.ListRequests200JSONResponse{Items: make([]gen.JournalEntry, len(entries))}
	for i, e := range entries {
		res.Items[i] = entry(e)
	}
	return res, nil
}

// GetRequest implements GET /_provisiond/v1/requests/{id}.
func (h *Handler) GetRequest(_ context.Context, req gen.GetRequestRequestObject) (gen.GetRequestResponseObject, error) {
	e, err := h.svc.Request(req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetRequest200JSONResponse(entry(e)), nil
}

// ClearRequests implements DELETE /_provisiond/v1/requests.
func (h *Handler) ClearRequests(context.Context, gen.ClearRequestsRequestObject) (gen.ClearRequestsResponseObject, error) {
	h.svc.ClearRequests()
	return gen.ClearRequests204Response{}, nil
}

func entry(e journal.Entry) gen.JournalEntry {
	return gen.JournalEntry{
		Id: e.ID, Time: e.Time, Api: gen.ApiName(e.API), Operation: e.Operation, Method: e.Method, Path: e.Path, Query: e.Query,
		Request:    gen.JournalMessage{Headers: e.RequestHeaders, Body: e.RequestBody},
		Response:   gen.JournalResponse{Status: int32(e.Status), Headers: e.ResponseHeaders, Body: e.ResponseBody},
		DurationMs: float64(e.Duration.Microseconds()) / 1000, RequestId: e.RequestID, Truncated: e.Truncated,
		Fault: journalFault(e.Fault),
	}
}

func journalFault(f *journal.Fault) *gen.JournalFault {
	if f == nil {
		return nil
	}
	return &gen.JournalFault{Rule: f.Rule, Action: gen.JournalFaultAction(f.Action)}
}

func user(api gen.ApiName, u module.User) gen.User {
	attrs := u.Extra
	if attrs == nil {
		attrs = map[string]any{}
	}
	out := gen.User{
		Api: api, Id: u.ID, Email: u.Email, Login: u.Login, FirstName: u.FirstName, LastName: u.LastName,
		Status: u.Status, CreatedAt: u.CreatedAt.UTC(), Attributes: attrs,
	}
	if u.UpdatedAt != nil {
		out.UpdatedAt.Set(u.UpdatedAt.UTC())
	} else {
		out.UpdatedAt.SetNull()
	}
	return out
}
