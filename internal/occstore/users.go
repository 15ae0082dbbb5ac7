package occstore

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
)

// users reads the members back in the control API's neutral shape.
var users = &module.Users{List: listUsers, Get: getUser}

func listUsers(ctx context.Context, db *gorm.DB, offset, limit int) ([]module.User, int64, error) {
	st := NewStore(db)
	ms, total, err := st.Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	orgs, err := st.MembershipsOf(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]module.User, len(ms))
	for i, m := range ms {
		out[i] = neutral(m, orgs[m.ID])
	}
	return out, total, nil
}

func getUser(ctx context.Context, db *gorm.DB, id string) (module.User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return module.User{}, module.ErrNoUser
	}
	st := NewStore(db)
	m, err := st.Get(ctx, n)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return module.User{}, module.ErrNoUser
	}
	if err != nil {
		return module.User{}, err
	}
	orgs, err := st.MembershipsOf(ctx, []int64{n})
	if err != nil {
		return module.User{}, err
	}
	return neutral(m, orgs[n]), nil
}

// neutral is m, a member of orgs, in the neutral shape: the id as the API shows it (id and
// repositoryId), the email as the login (members log in with it), the status "active" or
// "inactive" from its active flag, and in Extra the member as the API's get member shows it
// in its parent organization (active, receiveEmail, roles, locale, parentOrganization and the
// dynamic properties), with the organizations it belongs to: secondaryOrganizations (the others
// than its parent, as OCC's profile names them), organizations, the ids of all of them, its
// parent's among them, and organizationRoles, its roles in each by organization id. A dynamic
// property never takes one of these names from the member's own fields.
func neutral(m Member, orgs []Membership) module.User {
	id := strconv.FormatInt(m.ID, 10)
	status := "inactive"
	if m.Active {
		status = "active"
	}
	extra := make(map[string]any, len(m.Dynamic)+10)
	for k, v := range m.Dynamic {
		extra[k] = v
	}
	functions := func(fs []string) []map[string]any {
		out := make([]map[string]any, len(fs))
		for i, f := range fs {
			out[i] = map[string]any{"function": f}
		}
		return out
	}
	roles := functions(nil)
	byOrg := make(map[string]any, len(orgs))
	var locale any
	if m.Locale != nil {
		locale = *m.Locale
	}
	parent := map[string]any{"id": m.ParentOrganization, "name": ""}
	secondary := []map[string]any{}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
		byOrg[o.ID] = functions(o.Roles)
		if o.ID == m.ParentOrganization {
			parent["name"] = o.Name
			roles = functions(o.Roles)
		} else {
			secondary = append(secondary, map[string]any{"id": o.ID, "name": o.Name})
		}
	}
	extra["repositoryId"] = id
	extra["active"] = m.Active
	extra["receiveEmail"] = m.ReceiveEmail
	extra["roles"] = roles
	extra["locale"] = locale
	extra["parentOrganization"] = parent
	extra["secondaryOrganizations"] = secondary
	extra["organizations"] = ids
	extra["organizationRoles"] = byOrg
	return module.User{
		ID: id, Email: m.Email, Login: m.Email, FirstName: m.FirstName, LastName: m.LastName,
		Status: status, CreatedAt: m.CreatedAt, Extra: extra,
	}
}
