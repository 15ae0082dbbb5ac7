package occadmin

import (
	"context"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
)

// users reads the admin profiles back for the control API (module.API.Users).
var users = &module.Users{List: listUsers, Get: getUser}

func listUsers(ctx context.Context, db *gorm.DB, offset, limit int) ([]module.User, int64, error) {
	st := NewStore(db)
	ps, total, _, err := st.List(ctx, ListQuery{Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	roles, err := st.Roles(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]module.User, len(ps))
	for i, v := range view(roles, ps...) {
		out[i] = neutral(v)
	}
	return out, total, nil
}

func getUser(ctx context.Context, db *gorm.DB, id string) (module.User, error) {
	n, ok := parseID(id)
	if !ok {
		return module.User{}, module.ErrNoUser
	}
	st := NewStore(db)
	p, err := st.Get(ctx, n)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return module.User{}, module.ErrNoUser
	}
	if err != nil {
		return module.User{}, err
	}
	roles, err := st.Roles(ctx)
	if err != nil {
		return module.User{}, err
	}
	return neutral(view(roles, p)[0]), nil
}

// neutral is a profile in the control API's shape: its "iuser…" id, its email (which is also
// its login), its names, "active" or "inactive", its registration date; Extra holds active and
// the roles as the API shows them ({repositoryId, name}). The password hash stays out.
func neutral(v ProfileView) module.User {
	status := "inactive"
	if v.Active {
		status = "active"
	}
	roles := make([]map[string]any, len(v.RoleRefs))
	for i, r := range v.RoleRefs {
		roles[i] = map[string]any{"repositoryId": r.ID, "name": r.Name}
	}
	return module.User{
		ID: formatID(v.ID), Email: v.Email, Login: v.Email, FirstName: v.FirstName, LastName: v.LastName,
		Status: status, CreatedAt: v.RegistrationDate,
		Extra: map[string]any{"active": v.Active, "roles": roles},
	}
}
