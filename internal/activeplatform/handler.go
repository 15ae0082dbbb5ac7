package activeplatform

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	gen "github.com/provisiond/provisiond/gen/activeplatform"
	"github.com/provisiond/provisiond/internal/apperr"
)

// TimeLayout is ActivePlatform's timestamp: ISO 8601 with milliseconds and the offset.
const TimeLayout = "2006-01-02T15:04:05.000-07:00"

// Handler implements the generated strict server over the service. Timestamps are written by
// reply (below), since the generated time.Time fields would drop trailing zero milliseconds.
type Handler struct {
	svc *Service
	loc *time.Location
}

var _ gen.StrictServerInterface = (*Handler)(nil)

// NewHandler returns a Handler writing timestamps in loc.
func NewHandler(svc *Service, loc *time.Location) *Handler { return &Handler{svc: svc, loc: loc} }

type attributeJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type userJSON struct {
	ID               int64           `json:"id"`
	FirstName        string          `json:"first_name"`
	MiddleName       string          `json:"middle_name"`
	LastName         string          `json:"last_name"`
	Email            string          `json:"email"`
	Status           string          `json:"status"`
	CustomAttributes []attributeJSON `json:"custom_attributes"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
}

// reply is a JSON response of any of the operations.
type reply struct {
	status int
	body   any
}

func (r reply) write(w http.ResponseWriter) error {
	b, err := json.Marshal(r.body)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (r reply) VisitCreateUserResponse(w http.ResponseWriter) error { return r.write(w) }
func (r reply) VisitListUsersResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r reply) VisitGetUserResponse(w http.ResponseWriter) error    { return r.write(w) }
func (r reply) VisitUpdateUserResponse(w http.ResponseWriter) error { return r.write(w) }
func (r reply) VisitListAccountUsersResponse(w http.ResponseWriter) error {
	return r.write(w)
}

// users is us as the API shows them, their custom attributes named after defs; when defs is nil,
// after the definitions read only if a user has custom attributes to show (a create answers
// after its insert alone: without attributes, it needs none; with them, it passes those it was
// checked against).
func (h *Handler) users(ctx context.Context, us []User, defs map[string]Definition) ([]userJSON, error) {
	if defs == nil && slices.ContainsFunc(us, func(u User) bool { return len(u.Attributes) > 0 }) {
		var err error
		if defs, err = h.svc.Definitions(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = userJSON{
			ID: u.ID, FirstName: u.FirstName, MiddleName: u.MiddleName, LastName: u.LastName, Email: u.Email,
			Status: u.Status, CustomAttributes: shown(defs, u.Attributes),
			CreatedAt: u.CreatedAt.In(h.loc).Format(TimeLayout), UpdatedAt: u.UpdatedAt.In(h.loc).Format(TimeLayout),
		}
	}
	return out, nil
}

// shown is how responses show custom attributes: by the definition's display name (the key, for
// a definition since removed) with the value.
func shown(defs map[string]Definition, attrs []Attribute) []attributeJSON {
	out := make([]attributeJSON, len(attrs))
	for i, a := range attrs {
		name := a.Key
		if d, ok := defs[a.Key]; ok {
			name = d.Name
		}
		out[i] = attributeJSON{Name: name, Value: a.Value}
	}
	return out
}

func (h *Handler) one(ctx context.Context, status int, u User, defs map[string]Definition) (reply, error) {
	out, err := h.users(ctx, []User{u}, defs)
	if err != nil {
		return reply{}, err
	}
	return reply{status: status, body: out[0]}, nil
}

func attributes(in *[]gen.CustomAttributeInput) []Attribute {
	if in == nil {
		return nil
	}
	out := make([]Attribute, len(*in))
	for i, a := range *in {
		out[i] = Attribute{Key: a.Key, Value: a.Value}
	}
	return out
}

func (h *Handler) create(ctx context.Context, json, form *gen.UserCreate) (reply, error) {
	b := json
	if b == nil {
		b = form
	}
	if b == nil {
		return reply{}, apperr.Invalid("", "missing", "body is missing")
	}
	u := User{FirstName: b.FirstName, LastName: b.LastName, Email: string(b.Email), Attributes: attributes(b.CustomAttributes)}
	if b.MiddleName != nil {
		u.MiddleName = *b.MiddleName
	}
	var pw string
	if b.Password != nil {
		pw = *b.Password
	}
	created, defs, err := h.svc.Create(ctx, u, pw)
	if err != nil {
		return reply{}, err
	}
	return h.one(ctx, http.StatusCreated, created, defs)
}

func (h *Handler) update(ctx context.Context, id int64, json, form *gen.UserUpdate) (reply, error) {
	b := json
	if b == nil {
		b = form
	}
	if b == nil {
		return reply{}, apperr.Invalid("", "missing", "body is missing")
	}
	u, err := h.svc.Update(ctx, id, Change{
		FirstName: b.FirstName, MiddleName: b.MiddleName, LastName: b.LastName, Password: b.Password,
		Attributes: attributes(b.CustomAttributes),
	})
	if err != nil {
		return reply{}, err
	}
	return h.one(ctx, http.StatusOK, u, nil)
}

func (h *Handler) get(ctx context.Context, id int64) (reply, error) {
	u, err := h.svc.Get(ctx, id)
	if err != nil {
		return reply{}, err
	}
	return h.one(ctx, http.StatusOK, u, nil)
}

// listParams are the list parameters of both list operations.
type listParams struct {
	page, perPage    *int
	field, status    *string
	reversed         *bool
	email            *string
	created, updated *time.Time
}

func (h *Handler) list(ctx context.Context, p listParams) (reply, error) {
	q := ListQuery{Sort: "id"}
	if p.field != nil {
		q.Sort = *p.field
	}
	if p.reversed != nil {
		q.Reversed = *p.reversed
	}
	if p.email != nil {
		q.Email = *p.email
	}
	if p.status != nil {
		q.Status = *p.status
	}
	day := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc).UTC()
		return &d
	}
	q.CreatedFrom, q.UpdatedFrom = day(p.created), day(p.updated)
	us, err := h.svc.List(ctx, q, p.page, p.perPage)
	if err != nil {
		return reply{}, err
	}
	out, err := h.users(ctx, us, nil)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, body: out}, nil
}

func dateOf(d *gen.FilterCreatedAt) *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}

// wide is an int32 parameter as the service counts it.
func wide(p *int32) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

func str[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

// CreateUser implements POST /api/vendor/v1/users.
func (h *Handler) CreateUser(ctx context.Context, req gen.CreateUserRequestObject) (gen.CreateUserResponseObject, error) {
	return h.create(ctx, req.JSONBody, req.FormdataBody)
}

// GetUser implements GET /api/vendor/v1/users/{id}.
func (h *Handler) GetUser(ctx context.Context, req gen.GetUserRequestObject) (gen.GetUserResponseObject, error) {
	return h.get(ctx, req.Id)
}

// UpdateUser implements PUT /api/vendor/v1/users/{id}.
func (h *Handler) UpdateUser(ctx context.Context, req gen.UpdateUserRequestObject) (gen.UpdateUserResponseObject, error) {
	return h.update(ctx, req.Id, req.JSONBody, req.FormdataBody)
}

// ListUsers implements GET /api/vendor/v1/users.
func (h *Handler) ListUsers(ctx context.Context, req gen.ListUsersRequestObject) (gen.ListUsersResponseObject, error) {
	p := req.Params
	return h.list(ctx, listParams{page: wide(p.Page), perPage: wide(p.PerPage), field: str(p.SortingField), reversed: p.SortingReversed,
		email: p.FiltersEmail, status: str(p.FiltersStatus), created: dateOf(p.FiltersCreatedAt), updated: dateOf(p.FiltersUpdatedAt)})
}

// CreateAccountAccess implements POST /api/v2/vendor/account_accesses.
func (h *Handler) CreateAccountAccess(ctx context.Context, req gen.CreateAccountAccessRequestObject) (gen.CreateAccountAccessResponseObject, error) {
	p := req.Params
	a := Access{AccountID: p.AccountId, UserID: p.UserId}
	if p.Role != nil {
		a.Role = string(*p.Role)
	}
	if err := h.svc.Attach(ctx, a); err != nil {
		return nil, err
	}
	return gen.CreateAccountAccess201Response{}, nil
}

// ListAccountUsers implements GET /api/vendor/v1/accounts/{id}/users.
func (h *Handler) ListAccountUsers(ctx context.Context, req gen.ListAccountUsersRequestObject) (gen.ListAccountUsersResponseObject, error) {
	us, err := h.svc.AccountUsers(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	out, err := h.users(ctx, us, nil)
	if err != nil {
		return nil, err
	}
	return reply{status: http.StatusOK, body: out}, nil
}
