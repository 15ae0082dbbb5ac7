package activeplatform

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
)

// users reads the stored users back in the control API's neutral shape (module.Users).
var users = &module.Users{List: listUsers, Get: getUser}

// listUsers reads the users ordered by id, from offset, at most limit, and how many there are.
func listUsers(ctx context.Context, db *gorm.DB, offset, limit int) ([]module.User, int64, error) {
	var total int64
	if err := db.WithContext(ctx).Model(&userRow{}).Count(&total).Error; err != nil {
		return nil, 0, store.Classify(err, "count users", nil, nil)
	}
	if limit <= 0 || int64(offset) >= total {
		return []module.User{}, total, nil
	}
	st := NewStore(db)
	us, err := st.List(ctx, ListQuery{Sort: "id", Offset: max(offset, 0), Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	defs, err := st.Definitions(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]module.User, len(us))
	for i, u := range us {
		out[i] = neutral(defs, u)
	}
	return out, total, nil
}

// getUser reads the user whose id, as the API writes it (decimal digits, no sign nor leading
// zero), is id.
func getUser(ctx context.Context, db *gorm.DB, id string) (module.User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != id {
		return module.User{}, module.ErrNoUser
	}
	st := NewStore(db)
	u, err := st.Get(ctx, n)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return module.User{}, module.ErrNoUser
	}
	if err != nil {
		return module.User{}, err
	}
	defs, err := st.Definitions(ctx)
	if err != nil {
		return module.User{}, err
	}
	return neutral(defs, u), nil
}

// neutral is u in the neutral shape: id, email, names, status and times as the API answers them;
// Extra holds the API's other fields by their JSON names, middle_name and custom_attributes (as
// responses show them: [{name, value}], by the definition's display name). ActivePlatform has
// no login operation here, so Login is "" (the vendor documents the email as the user's login to
// its own portal). Never the password's hash.
func neutral(defs map[string]Definition, u User) module.User {
	updated := u.UpdatedAt
	return module.User{
		ID: strconv.FormatInt(u.ID, 10), Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Status: u.Status, CreatedAt: u.CreatedAt, UpdatedAt: &updated,
		Extra: map[string]any{"middle_name": u.MiddleName, "custom_attributes": shown(defs, u.Attributes)},
	}
}
