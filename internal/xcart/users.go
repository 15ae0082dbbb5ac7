package xcart

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
)

// users reads the stored profiles back for the control API (module.API.Users).
var users = &module.Users{
	List: func(ctx context.Context, db *gorm.DB, offset, limit int) ([]module.User, int64, error) {
		st := NewStore(db)
		total, err := st.Count(ctx, ListQuery{})
		if err != nil {
			return nil, 0, err
		}
		profiles, err := st.List(ctx, ListQuery{Offset: offset, Limit: limit})
		if err != nil {
			return nil, 0, err
		}
		ids := make([]int, len(profiles))
		for i, p := range profiles {
			ids[i] = p.ID
		}
		named, err := st.NamedAddresses(ctx, ids)
		if err != nil {
			return nil, 0, err
		}
		out := make([]module.User, len(profiles))
		for i, p := range profiles {
			if out[i], err = neutral(p, named[p.ID]); err != nil {
				return nil, 0, err
			}
		}
		return out, total, nil
	},
	Get: func(ctx context.Context, db *gorm.DB, id string) (module.User, error) {
		n, err := strconv.Atoi(id)
		// Only the id as the API writes it names a profile: not "+1", "01" or "-1".
		if err != nil || n < 0 || strconv.Itoa(n) != id {
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
		named, err := st.NamedAddresses(ctx, []int{n})
		if err != nil {
			return module.User{}, err
		}
		return neutral(p, named[n])
	},
}

// neutral is p in the control API's shape: the id, login (X-Cart's login is the email), status
// (E or D) and create date in their own fields, the first and last name of named (the address
// X-Cart reads the profile's name from, NamedAddresses; none when it has no address), and every
// other field the API shows for a profile (GET /api/profiles/{id}, by the same names and in the
// same JSON types) in Extra. X-Cart keeps no update date. The API never shows the password or its
// hash, so neither is here.
func neutral(p Profile, named Address) (module.User, error) {
	b, err := json.Marshal(toAPI(p))
	if err != nil {
		return module.User{}, apperr.Internal(fmt.Errorf("profile %d: %w", p.ID, err))
	}
	var extra map[string]any
	if err := json.Unmarshal(b, &extra); err != nil {
		return module.User{}, apperr.Internal(fmt.Errorf("profile %d: %w", p.ID, err))
	}
	for _, shown := range []string{"id", "login", "status", "create_date"} {
		delete(extra, shown)
	}
	return module.User{
		ID:        strconv.Itoa(p.ID),
		Email:     p.Login,
		Login:     p.Login,
		FirstName: named.Firstname,
		LastName:  named.Lastname,
		Status:    p.Status,
		CreatedAt: p.CreateDate,
		Extra:     extra,
	}, nil
}
