package platformos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
)

// users reads the stored users back for the control API (module.API.Users): platformOS's REST
// API has no read of its own, so this is the only way a test sees a user after its create.
var users = &module.Users{List: listUsers, Get: getUser}

func listUsers(ctx context.Context, db *gorm.DB, offset, limit int) ([]module.User, int64, error) {
	db = db.WithContext(ctx)
	var total int64
	if err := db.Model(&userRow{}).Count(&total).Error; err != nil {
		return nil, 0, store.Classify(err, "count users", nil, nil)
	}
	out := []module.User{}
	if limit <= 0 {
		return out, total, nil
	}
	var rows []userRow
	if err := db.Order("id").Offset(max(offset, 0)).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, store.Classify(err, "list users", nil, nil)
	}
	for _, r := range rows {
		u, err := neutral(r)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, nil
}

// getUser reads the user whose id, as POST /api/users answered it, is id: a positive integer;
// any other id names no user.
func getUser(ctx context.Context, db *gorm.DB, id string) (module.User, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return module.User{}, module.ErrNoUser
	}
	var rows []userRow
	if err := db.WithContext(ctx).Where("id = ?", n).Limit(1).Find(&rows).Error; err != nil {
		return module.User{}, store.Classify(err, "read user", nil, nil)
	}
	if len(rows) == 0 {
		return module.User{}, module.ErrNoUser
	}
	return neutral(rows[0])
}

// neutral is a stored user in the control API's shape. ID is the id POST /api/users answers;
// platformOS logs users in by email (POST /api/sessions), so Login is the email; users have no
// status. Extra holds every other field of the form, by its form name: external_id, middle_name
// and name (null when never set), featured and public_profile, and the hashes profiles,
// relationship_users and transactables as stored (objects; numbers exactly as sent). Never the
// password's hash.
func neutral(r userRow) (module.User, error) {
	u := r.user()
	updated := u.UpdatedAt
	extra := map[string]any{
		"external_id": text(u.ExternalID), "middle_name": text(u.MiddleName), "name": text(u.Name),
		"featured": u.Featured, "public_profile": u.PublicProfile,
	}
	for name, js := range map[string]string{"profiles": u.Profiles, "relationship_users": u.RelationshipUsers, "transactables": u.Transactables} {
		var v map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(orObject(js))))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return module.User{}, apperr.Internal(fmt.Errorf("user %d: stored %s: %w", u.ID, name, err))
		}
		extra[name] = v
	}
	return module.User{
		ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Login: u.Email,
		FirstName: deref(u.FirstName), LastName: deref(u.LastName),
		CreatedAt: u.CreatedAt, UpdatedAt: &updated, Extra: extra,
	}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
