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
	if err := store.Insert(ctx, s.db, &row); err != nil {
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
	db := s.db.WithContext(ctx)
	if err := store.PageByID(db.Model(&profileRow{}), filter(db, q), "id", q.Offset, q.Limit).Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("list profiles: %w", err))
	}
	out := make([]Profile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, nil
}

// filter is the query of the profiles q selects, without its offset and limit.
func filter(db *gorm.DB, q ListQuery) *gorm.DB {
	filtered := db.Model(&profileRow{})
	// searchFakeField is the login while profiles have no addresses, so both search login_key.
	for _, part := range []string{q.Login, q.Search} {
		if part != "" {
			filtered = filtered.Where("login_key LIKE ? ESCAPE '!'", "%"+store.EscapeLike(loginKey(part))+"%")
		}
	}
	for _, b := range q.Added {
		filtered = filtered.Where("create_date "+b.Op+" ?", b.At)
	}
	for _, b := range q.FirstLogin {
		if b.Holds(neverLoggedIn) {
			// X-Cart's first_login of a profile that never logged in is 0, which this bound keeps.
			filtered = filtered.Where("(first_login_date "+b.Op+" ? OR first_login_date IS NULL)", b.At)
		} else {
			filtered = filtered.Where("first_login_date "+b.Op+" ?", b.At)
		}
	}
	return filtered
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
	err := store.Commit(ctx, s.db, func(tx *gorm.DB) error { return fn(tx, false) })
	if !errors.Is(err, errAdminsFirst) {
		return err
	}
	return store.Commit(ctx, s.db, func(tx *gorm.DB) error {
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
	err := store.Write(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Model(&profileRow{}).Where("id = ?", id).Updates(map[string]any{
			"last_login_date":  at,
			"first_login_date": gorm.Expr("COALESCE(first_login_date, ?)", at),
		}).Error
	})
	if err != nil {
		return store.Classify(err, "record login", nil, nil)
	}
	return nil
}

// MissingReferences lists the ids among refs that name no membership or no role, with one
// statement for both kinds: a create that names both costs one round trip, not two.
func (s *DBStore) MissingReferences(ctx context.Context, refs References) (References, error) {
	var parts []string
	var args []any
	for _, k := range []struct {
		table string
		ids   []int
	}{{membershipRow{}.TableName(), refs.Memberships}, {roleRow{}.TableName(), refs.Roles}} {
		if len(k.ids) > 0 {
			parts = append(parts, "SELECT '"+k.table+"' AS kind, id FROM "+k.table+" WHERE id IN ?")
			args = append(args, k.ids)
		}
	}
	if len(parts) == 0 {
		return References{}, nil
	}
	var rows []struct {
		Kind string
		ID   int
	}
	if err := s.db.WithContext(ctx).Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&rows).Error; err != nil {
		return References{}, apperr.Internal(fmt.Errorf("look up reference data: %w", err))
	}
	found := make(map[string]map[int]bool, 2)
	for _, r := range rows {
		if found[r.Kind] == nil {
			found[r.Kind] = map[int]bool{}
		}
		found[r.Kind][r.ID] = true
	}
	missing := func(table string, ids []int) []int {
		var out []int
		for _, id := range ids {
			if !found[table][id] {
				out = append(out, id)
			}
		}
		return out
	}
	return References{
		Memberships: missing(membershipRow{}.TableName(), refs.Memberships),
		Roles:       missing(roleRow{}.TableName(), refs.Roles),
	}, nil
}

// Reference is X-Cart's reference data: memberships and roles, by id.
type Reference struct {
	Memberships map[int]string
	Roles       map[int]string
}

// LoadReference stores ref. With overwrite, an existing id takes the new name; without, existing
// ids are left as they are (how the built-in defaults are applied at every start). count is told
// of every row created or updated, by kind ("memberships", "roles").
func (s *DBStore) LoadReference(ctx context.Context, ref Reference, overwrite bool, count func(kind string, created bool)) error {
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		err := loadNamed(tx, "memberships", ref.Memberships, overwrite, count, func(id int64, name string) any {
			return &membershipRow{ID: id, Name: name}
		})
		if err != nil {
			return err
		}
		return loadNamed(tx, "roles", ref.Roles, overwrite, count, func(id int64, name string) any {
			return &roleRow{ID: id, Name: name}
		})
	})
}

// loadNamed stores the reference rows of one kind that row makes, in the order of their ids, not
// the map's random order: transactions that insert the same rows in different orders deadlock.
// The ids that exist are read first to tell created rows from updated ones; only fixtures write
// reference data, under the start-up lock, so none appears meanwhile.
func loadNamed(tx *gorm.DB, kind string, names map[int]string, overwrite bool, count func(string, bool), row func(id int64, name string) any) error {
	if len(names) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(names))
	var existing []int
	if err := tx.Model(row(0, "")).Where("id IN ?", ids).Pluck("id", &existing).Error; err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"name"})}
	}
	for _, id := range ids {
		if err := tx.Clauses(onConflict).Create(row(int64(id), names[id])).Error; err != nil {
			return fmt.Errorf("%s: id %d: %w", kind, id, err)
		}
		switch {
		case !slices.Contains(existing, id):
			count(kind, true)
		case overwrite:
			count(kind, false)
		}
	}
	return nil
}

// RehashPassword replaces the profile's password hash old with hash: one UPDATE that matches only
// while the stored hash is still old, so that a password changed since it was read stays changed.
func (s *DBStore) RehashPassword(ctx context.Context, id int, old, hash string) error {
	err := store.Write(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Model(&profileRow{}).Where("id = ? AND password_hash = ?", id, old).Update("password_hash", hash).Error
	})
	if err != nil {
		return store.Classify(err, "rehash password", nil, nil)
	}
	return nil
}

// seedBatch is how many profiles one statement of Seed writes. Larger batches gain nothing on
// PostgreSQL; on SQLite they cost with the previous driver, which bound a statement's parameters in
// a time that grew faster than their number (BenchmarkSeed10k: 500 rows of 25 columns took five
// times as long as 50), and gain nothing measurable with modernc.org/sqlite.
const seedBatch = 50

// seedColumns are the columns a seeded profile sets in a stored one: all but its id, its create
// date and its login dates, which stay the stored profile's own.
var seedColumns = []string{
	"login", "password_hash", "access_level", "status", "status_comment", "referer",
	"ga_client_id", "language", "membership_id", "pending_membership_id", "force_change_password",
	"role_ids", "social_login_provider", "social_login_id", "concierge_user_id",
	"stripe_customer_id", "stored_selectors", "mail_chimp_lists", "mail_chimp_interests",
	"mail_chimp_segments",
}

var loginKeyColumn = []clause.Column{{Name: "login_key"}}

// SeedProblem is why Seed refused the profile at Index of the profiles it was given.
type SeedProblem struct {
	Index int
	Err   *apperr.Error
}

func (p *SeedProblem) Error() string {
	return fmt.Sprintf("profile %d: %s: %s", p.Index, p.Err.Field, p.Err.Message)
}

// Seed stores profiles, whose logins differ from each other in any letter case, found by login
// in any letter case: a profile whose login is new is created; one whose login is stored takes
// the given fields (seedColumns) with overwrite and is left alone without. count is told of every
// profile created or updated.
//
// The rows are written in batches of seedBatch, whatever their number: INSERT … ON CONFLICT DO
// NOTHING for the logins that were not stored, whose affected rows are exactly those created, so
// that a profile the API creates meanwhile with the same login is then updated (or, without
// overwrite, left alone), never doubled and never an error; INSERT … ON CONFLICT DO UPDATE for
// the stored logins. Taking the last administrator away is refused, as the API's update refuses it
// (*SeedProblem): when a stored administrator is written, every administrator is locked first, in
// id order, as the API's update and delete lock them (adminGuarded), so that neither waits for
// the other in a cycle.
func (s *DBStore) Seed(ctx context.Context, profiles []Profile, overwrite bool, count func(created bool)) error {
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		rows := make([]profileRow, len(profiles))
		keys := make([]string, len(profiles))
		for i := range profiles {
			rows[i] = toRow(&profiles[i])
			keys[i] = rows[i].LoginKey
		}
		stored, err := storedLevels(tx, keys)
		if err != nil {
			return err
		}
		var fresh, known []profileRow
		demoted, guard := -1, false
		for i, r := range rows {
			level, ok := stored[r.LoginKey]
			switch {
			case !ok:
				fresh = append(fresh, r)
			case overwrite:
				known = append(known, r)
				if level == AccessLevelAdmin {
					guard = true
					if r.AccessLevel != AccessLevelAdmin && demoted < 0 {
						demoted = i
					}
				}
			}
		}
		if guard {
			if _, err := lockAdmins(tx); err != nil {
				return fmt.Errorf("lock administrators: %w", err)
			}
		}
		update := clause.OnConflict{Columns: loginKeyColumn, DoUpdates: clause.AssignmentColumns(seedColumns)}
		for batch := range slices.Chunk(fresh, seedBatch) {
			// GORM writes the ids it reads back into the rows; a second statement over the same
			// rows must not send them.
			res := tx.Clauses(clause.OnConflict{Columns: loginKeyColumn, DoNothing: true}).Create(slices.Clone(batch))
			if res.Error != nil {
				return fmt.Errorf("insert profiles: %w", res.Error)
			}
			created := int(res.RowsAffected)
			if created < len(batch) && overwrite {
				// Created by the API since they were looked up: they take the seeded fields.
				if err := tx.Clauses(update).Create(slices.Clone(batch)).Error; err != nil {
					return fmt.Errorf("update profiles: %w", err)
				}
			}
			for i := range batch {
				if i < created {
					count(true)
				} else if overwrite {
					count(false)
				}
			}
		}
		for batch := range slices.Chunk(known, seedBatch) {
			if err := tx.Clauses(update).Create(slices.Clone(batch)).Error; err != nil {
				return fmt.Errorf("update profiles: %w", err)
			}
			for range batch {
				count(false)
			}
		}
		if demoted >= 0 {
			admins, err := lockAdmins(tx)
			if err != nil {
				return fmt.Errorf("lock administrators: %w", err)
			}
			if len(admins) == 0 {
				return &SeedProblem{Index: demoted, Err: apperr.Conflict("access_level", "last_admin", "Cannot remove the last admin profile")}
			}
		}
		return nil
	})
}

// storedLevels returns the access level of every stored profile whose login key is among keys.
func storedLevels(tx *gorm.DB, keys []string) (map[string]int, error) {
	out := map[string]int{}
	for chunk := range slices.Chunk(keys, 1000) {
		var rows []profileRow
		if err := tx.Select("login_key", "access_level").Where("login_key IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("look up profiles: %w", err)
		}
		for _, r := range rows {
			out[r.LoginKey] = r.AccessLevel
		}
	}
	return out, nil
}

// Count is how many profiles q selects, whatever its offset and limit (all of them for the zero
// ListQuery).
func (s *DBStore) Count(ctx context.Context, q ListQuery) (int64, error) {
	var n int64
	if err := filter(s.db.WithContext(ctx), q).Count(&n).Error; err != nil {
		return 0, store.Classify(err, "count profiles", nil, nil)
	}
	return n, nil
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
