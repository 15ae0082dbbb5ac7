package xcart

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps profiles and their reference data in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errLoginTaken = apperr.Conflict("login", "unique", `Field "login" must be unique`)

func loginKey(login string) string { return strings.ToLower(login) }

// Create inserts p and sets its ID.
func (s *DBStore) Create(ctx context.Context, p *Profile) error {
	row := toRow(p)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return store.Classify(err, "insert profile", errLoginTaken, nil)
	}
	p.ID = int(row.ID)
	return nil
}

// Get reads the profile with id.
func (s *DBStore) Get(ctx context.Context, id int) (Profile, error) {
	var row profileRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	return fromResult(row, err)
}

// GetByLogin reads the profile whose login is login in any letter case.
func (s *DBStore) GetByLogin(ctx context.Context, login string) (Profile, error) {
	var row profileRow
	err := s.db.WithContext(ctx).Where("login_key = ?", loginKey(login)).Take(&row).Error
	return fromResult(row, err)
}

func fromResult(row profileRow, err error) (Profile, error) {
	if err != nil {
		return Profile{}, store.Classify(err, "read profile", nil, errNotFound)
	}
	return row.profile(), nil
}

// List reads one page of profiles in id order.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]Profile, error) {
	var rows []profileRow
	tx := s.db.WithContext(ctx).Order("id").Offset(q.Offset).Limit(q.Limit)
	if q.Login != "" {
		tx = tx.Where("login_key LIKE ? ESCAPE '!'", "%"+store.EscapeLike(loginKey(q.Login))+"%")
	}
	if err := tx.Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("list profiles: %w", err))
	}
	out := make([]Profile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, nil
}

var errNotFound = apperr.NotFound("Not Found")

// Update changes the profile id in one transaction that locks it first (store.Modify), so that
// no concurrent change is lost: change gets the stored profile and alters it, or returns an error
// that leaves it as it was. A change that takes away the last administrator is refused, as
// deleting it is. Read-modify-write rather than an UPDATE of the sent columns alone, because
// the rules (roles only for administrators, the last administrator) need the stored profile.
func (s *DBStore) Update(ctx context.Context, id int, change func(*Profile) error) (Profile, error) {
	var p Profile
	err := s.adminGuarded(ctx, func(tx *gorm.DB, adminsLocked bool) error {
		return store.Modify(tx, id, func(row *profileRow) error {
			p = row.profile()
			wasAdmin := p.AccessLevel == AccessLevelAdmin
			if err := change(&p); err != nil {
				return err
			}
			if wasAdmin && p.AccessLevel != AccessLevelAdmin {
				if err := lastAdmin(tx, id, adminsLocked); err != nil {
					return err
				}
			}
			*row = toRow(&p)
			return nil
		}, "id", "create_date")
	})
	if err != nil {
		return Profile{}, store.Classify(err, "update profile", errLoginTaken, errNotFound)
	}
	return p, nil
}

// errAdminsFirst ends a transaction that is about to take an administrator away without having
// locked the administrators first; adminGuarded runs it again with them locked.
var errAdminsFirst = errors.New("xcart: the administrators must be locked first")

// adminGuarded runs fn in a transaction, telling it whether every administrator is locked. When fn
// returns errAdminsFirst, because it is taking an administrator away, it runs again in a fresh
// transaction that locks every administrator first, in id order. So every transaction that
// removes an administrator takes those locks before any other profile's: two of them queue
// instead of deadlocking (each holding its own profile and waiting for the other's), and the
// last administrator's count is exact. Only such a change pays a second transaction; any other
// locks its own profile alone.
func (s *DBStore) adminGuarded(ctx context.Context, fn func(tx *gorm.DB, adminsLocked bool) error) error {
	err := store.Transaction(ctx, s.db, func(tx *gorm.DB) error { return fn(tx, false) })
	if !errors.Is(err, errAdminsFirst) {
		return err
	}
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		if _, err := lockAdmins(tx); err != nil {
			return err
		}
		return fn(tx, true)
	})
}

// lockAdmins locks every administrator, in id order, and returns their ids.
func lockAdmins(tx *gorm.DB) ([]int64, error) {
	var ids []int64
	err := store.ForUpdate(tx).Model(&profileRow{}).Where("access_level = ?", AccessLevelAdmin).Order("id").Pluck("id", &ids).Error
	return ids, err
}

// lastAdmin refuses, inside tx, to take the administrator id away when it is the only one. It
// needs every administrator locked (adminGuarded), so that two concurrent changes cannot each
// count the other.
func lastAdmin(tx *gorm.DB, id int, adminsLocked bool) error {
	if !adminsLocked {
		return errAdminsFirst
	}
	// Again: an administrator promoted since adminGuarded locked them counts too.
	admins, err := lockAdmins(tx)
	if err != nil {
		return err
	}
	if len(admins) == 1 && admins[0] == int64(id) {
		return apperr.Conflict("", "last_admin", "Cannot remove the last admin profile")
	}
	return nil
}

// Delete removes the profile with id, unless it is the last administrator.
func (s *DBStore) Delete(ctx context.Context, id int) error {
	err := s.adminGuarded(ctx, func(tx *gorm.DB, adminsLocked bool) error {
		var row profileRow
		if err := store.ForUpdate(tx).Select("id", "access_level").Take(&row, id).Error; err != nil {
			return err
		}
		if row.AccessLevel == AccessLevelAdmin {
			if err := lastAdmin(tx, id, adminsLocked); err != nil {
				return err
			}
		}
		return tx.Delete(&profileRow{}, id).Error
	})
	if err != nil {
		return store.Classify(err, "delete profile", nil, errNotFound)
	}
	return nil
}

// RecordLogin sets the profile's last login time, and its first one when it has none.
func (s *DBStore) RecordLogin(ctx context.Context, id int, at time.Time) error {
	db := s.db.WithContext(ctx).Model(&profileRow{})
	err := db.Where("id = ?", id).Updates(map[string]any{
		"last_login_date":  at,
		"first_login_date": gorm.Expr("COALESCE(first_login_date, ?)", at),
	}).Error
	if err != nil {
		return apperr.Internal(fmt.Errorf("record login: %w", err))
	}
	return nil
}

// MissingMemberships lists the ids among ids that name no membership.
func (s *DBStore) MissingMemberships(ctx context.Context, ids []int) ([]int, error) {
	return s.missing(ctx, &membershipRow{}, ids)
}

// MissingRoles lists the ids among ids that name no role.
func (s *DBStore) MissingRoles(ctx context.Context, ids []int) ([]int, error) {
	return s.missing(ctx, &roleRow{}, ids)
}

func (s *DBStore) missing(ctx context.Context, model any, ids []int) ([]int, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []int
	if err := s.db.WithContext(ctx).Model(model).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("look up reference data: %w", err))
	}
	var out []int
	for _, id := range ids {
		if !slices.Contains(found, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Reference is X-Cart's reference data: memberships and roles, by id.
type Reference struct {
	Memberships map[int]string
	Roles       map[int]string
}

// LoadReference stores ref. With overwrite, an existing id takes the new name; without, existing
// ids are left as they are (how the built-in defaults are applied at every start).
func (s *DBStore) LoadReference(ctx context.Context, ref Reference, overwrite bool) error {
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"name"})}
	}
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		// In the order of the ids, not the maps' random order: transactions that insert the same
		// rows in different orders deadlock.
		for _, id := range slices.Sorted(maps.Keys(ref.Memberships)) {
			if err := tx.Clauses(onConflict).Create(&membershipRow{ID: int64(id), Name: ref.Memberships[id]}).Error; err != nil {
				return fmt.Errorf("membership %d: %w", id, err)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(ref.Roles)) {
			if err := tx.Clauses(onConflict).Create(&roleRow{ID: int64(id), Name: ref.Roles[id]}).Error; err != nil {
				return fmt.Errorf("role %d: %w", id, err)
			}
		}
		return nil
	})
}

func toRow(p *Profile) profileRow {
	var hash *string
	if p.PasswordHash != "" {
		hash = &p.PasswordHash
	}
	return profileRow{
		ID:                  int64(p.ID),
		Login:               p.Login,
		LoginKey:            loginKey(p.Login),
		PasswordHash:        hash,
		AccessLevel:         p.AccessLevel,
		Status:              p.Status,
		StatusComment:       p.StatusComment,
		Referer:             p.Referer,
		GAClientID:          p.GAClientID,
		Language:            p.Language,
		MembershipID:        toInt64(p.MembershipID),
		PendingMembershipID: toInt64(p.PendingMembershipID),
		ForceChangePassword: p.ForceChangePassword,
		RoleIDs:             orEmpty(p.RoleIDs),
		SocialLoginProvider: p.SocialLoginProvider,
		SocialLoginID:       p.SocialLoginID,
		ConciergeUserID:     p.ConciergeUserID,
		StripeCustomerID:    p.StripeCustomerID,
		StoredSelectors:     orEmpty(p.StoredSelectors),
		MailChimpLists:      orEmpty(p.MailChimpLists),
		MailChimpInterests:  orEmpty(p.MailChimpInterests),
		MailChimpSegments:   orEmpty(p.MailChimpSegments),
		CreateDate:          p.CreateDate,
		FirstLoginDate:      p.FirstLoginDate,
		LastLoginDate:       p.LastLoginDate,
	}
}

func (r profileRow) profile() Profile {
	p := Profile{
		ID:                  int(r.ID),
		Login:               r.Login,
		AccessLevel:         r.AccessLevel,
		Status:              r.Status,
		StatusComment:       r.StatusComment,
		Referer:             r.Referer,
		GAClientID:          r.GAClientID,
		Language:            r.Language,
		MembershipID:        toInt(r.MembershipID),
		PendingMembershipID: toInt(r.PendingMembershipID),
		ForceChangePassword: r.ForceChangePassword,
		RoleIDs:             orEmpty(r.RoleIDs),
		SocialLoginProvider: r.SocialLoginProvider,
		SocialLoginID:       r.SocialLoginID,
		ConciergeUserID:     r.ConciergeUserID,
		StripeCustomerID:    r.StripeCustomerID,
		StoredSelectors:     orEmpty(r.StoredSelectors),
		MailChimpLists:      orEmpty(r.MailChimpLists),
		MailChimpInterests:  orEmpty(r.MailChimpInterests),
		MailChimpSegments:   orEmpty(r.MailChimpSegments),
		CreateDate:          r.CreateDate.UTC(),
		FirstLoginDate:      utc(r.FirstLoginDate),
		LastLoginDate:       utc(r.LastLoginDate),
	}
	if r.PasswordHash != nil {
		p.PasswordHash = *r.PasswordHash
	}
	return p
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toInt64(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

func toInt(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
