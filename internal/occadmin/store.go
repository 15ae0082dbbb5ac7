package occadmin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/occ/scimsql"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps admin profiles and admin roles in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errEmailTaken = apperr.Conflict("/email", CodeProfileExists, "A profile with this email already exists.")

func notFound(id int64) error {
	return apperr.NotFound(fmt.Sprintf("No admin profile has the id %s.", formatID(id)))
}

// Create inserts p and sets its ID.
func (s *DBStore) Create(ctx context.Context, p *AdminProfile) error {
	row := toRow(p)
	if err := store.Insert(ctx, s.db, &row); err != nil {
		return store.Classify(err, "insert admin profile", errEmailTaken, nil)
	}
	p.ID = row.ID
	return nil
}

// Get reads the profile with id.
func (s *DBStore) Get(ctx context.Context, id int64) (AdminProfile, error) {
	var row profileRow
	if err := s.db.WithContext(ctx).Take(&row, id).Error; err != nil {
		return AdminProfile{}, store.Classify(err, "read admin profile", nil, notFound(id))
	}
	return row.profile(), nil
}

// GetByEmail reads the profile whose email is email in any letter case.
func (s *DBStore) GetByEmail(ctx context.Context, email string) (AdminProfile, error) {
	var row profileRow
	if err := s.db.WithContext(ctx).Where("email_key = ?", strings.ToLower(email)).Take(&row).Error; err != nil {
		return AdminProfile{}, store.Classify(err, "read admin profile", nil, apperr.NotFound("no admin profile has this email"))
	}
	return row.profile(), nil
}

// ReplacePasswordHash stores hash as the password hash of the profile id if its hash is still
// old (store.ReplaceHash).
func (s *DBStore) ReplacePasswordHash(ctx context.Context, id int64, old, hash string) error {
	return store.ReplaceHash(ctx, s.db, &profileRow{}, id, old, hash)
}

// EmailFree is errEmailTaken when a profile other than self holds email in any letter case.
func (s *DBStore) EmailFree(ctx context.Context, email string, self int64) error {
	return store.Free(ctx, s.db, &profileRow{}, "email_key", strings.ToLower(email), self, errEmailTaken)
}

// Update changes the profile id in one transaction that locks it first (store.Update), so that
// no concurrent change is lost: change gets the stored profile and alters it, or returns an error
// that leaves it as it was. Read-modify-write rather than an UPDATE of the sent columns alone,
// because the roles rule applies to the roles the profile ends up with.
func (s *DBStore) Update(ctx context.Context, id int64, change func(*AdminProfile) error) (AdminProfile, error) {
	p, err := store.Update(ctx, s.db, id, store.Lift(profileRow.profile), store.Lift(toRow), change, "id", "registration_date")
	if err != nil {
		return AdminProfile{}, store.Classify(err, "update admin profile", errEmailTaken, notFound(id))
	}
	return p, nil
}

// listColumns are the columns behind the attributes a list filters and sorts by.
var listColumns = occ.Columns{
	Filter: map[string]scimsql.Column{
		"email":     scimsql.KeyColumn("email_key"),
		"firstName": scimsql.StringColumn("first_name"),
		"lastName":  scimsql.StringColumn("last_name"),
		"active":    scimsql.BoolColumn("active"),
	},
	Sort: map[string]string{
		"id": "id", "email": "email_key", "firstName": "first_name", "lastName": "last_name",
		"active": "active", "registrationDate": "registration_date",
	},
}

// List reads the profiles q selects, one page, and how many it selects in all.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]AdminProfile, int64, scim.Sort, error) {
	c, err := listColumns.SQL(q.Filter, q.Sort)
	if err != nil {
		return nil, 0, scim.Sort{}, err
	}
	tx := s.db.WithContext(ctx).Model(&profileRow{})
	if c.Where != "" {
		tx = tx.Where(c.Where, c.Args...)
	}
	var total int64
	if err := tx.Count(&total).Error; err != nil {
		return nil, 0, scim.Sort{}, apperr.Internal(fmt.Errorf("count admin profiles: %w", err))
	}
	var rows []profileRow
	order := "id"
	if c.Order != "" {
		order = c.Order + ", id"
	}
	if err := store.PageByID(s.db.WithContext(ctx).Model(&profileRow{}), tx, order, q.Offset, q.Limit).Find(&rows).Error; err != nil {
		return nil, 0, scim.Sort{}, apperr.Internal(fmt.Errorf("list admin profiles: %w", err))
	}
	out := make([]AdminProfile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, total, c.Sort, nil
}

// Roles reads every admin role, by id.
func (s *DBStore) Roles(ctx context.Context) ([]Role, error) {
	var rows []roleRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("list admin roles: %w", err))
	}
	out := make([]Role, len(rows))
	for i, r := range rows {
		out[i] = Role{ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category, Privileges: orEmpty(r.Privileges)}
	}
	return out, nil
}

// LoadRoles stores roles; with overwrite an existing id takes the new name, description, category
// and privileges, and
// without it is left alone. count is called for each role created (true) or updated (false).
func (s *DBStore) LoadRoles(ctx context.Context, roles []Role, overwrite bool, count func(created bool)) error {
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		for _, r := range roles {
			row := roleRow{ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category, Privileges: orEmpty(r.Privileges)}
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}).Create(&row)
			if res.Error != nil {
				return fmt.Errorf("admin role %s: %w", r.ID, res.Error)
			}
			if res.RowsAffected == 1 {
				count(true)
				continue
			}
			if !overwrite {
				continue
			}
			if err := tx.Model(&row).Select("name", "description", "category", "privileges").Updates(&row).Error; err != nil {
				return fmt.Errorf("admin role %s: %w", r.ID, err)
			}
			count(false)
		}
		return nil
	})
}

// loadBatch is how many profiles one statement of LoadProfiles writes (8 parameters each: within
// both databases' limits on a statement's parameters).
const loadBatch = 1000

// profileColumns are the columns LoadProfiles writes, in the order of profileArgs.
const profileColumns = "email, email_key, first_name, last_name, active, roles, password_hash, registration_date"

// LoadProfiles stores profiles (a fixtures file's) by email, whatever its letter case, in
// batches. Each batch is first inserted with ON CONFLICT DO NOTHING, whose RETURNING says exactly
// which emails it created, whatever concurrent creates of the API committed meanwhile; with
// overwrite, the rest then take the batch's values (their id and registration date stay, and a
// profile given no password is left without one), and without, they are left alone. count is
// called for each profile created (true) or updated (false). An email a concurrent create holds
// but has not committed yet waits for it (PostgreSQL's unique index), so that exactly one profile
// has it afterwards.
func (s *DBStore) LoadProfiles(ctx context.Context, ps []AdminProfile, overwrite bool, count func(created bool)) error {
	db := s.db.WithContext(ctx)
	for start := 0; start < len(ps); start += loadBatch {
		batch := ps[start:min(start+loadBatch, len(ps))]
		var created []string
		if err := db.Raw(insertProfiles(len(batch), "DO NOTHING RETURNING email_key"), profileArgs(batch)...).Scan(&created).Error; err != nil {
			return store.Classify(err, "insert admin profiles", nil, nil)
		}
		isNew := make(map[string]bool, len(created))
		for _, k := range created {
			isNew[k] = true
			count(true)
		}
		if !overwrite || len(created) == len(batch) {
			continue
		}
		rest := make([]AdminProfile, 0, len(batch)-len(created))
		for _, p := range batch {
			if !isNew[strings.ToLower(p.Email)] {
				rest = append(rest, p)
			}
		}
		set := "DO UPDATE SET email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name, " +
			"active = excluded.active, roles = excluded.roles, password_hash = excluded.password_hash"
		if err := db.Exec(insertProfiles(len(rest), set), profileArgs(rest)...).Error; err != nil {
			return store.Classify(err, "update admin profiles", nil, nil)
		}
		for range rest {
			count(false)
		}
	}
	return nil
}

// insertProfiles is the INSERT of n profiles (profileArgs) with onConflict on the email's key.
func insertProfiles(n int, onConflict string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO occadmin_profiles (" + profileColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (email_key) " + onConflict)
	return b.String()
}

// profileArgs are the values of ps in the order of profileColumns, as toRow stores them.
func profileArgs(ps []AdminProfile) []any {
	args := make([]any, 0, len(ps)*8)
	for i := range ps {
		r := toRow(&ps[i])
		roles, _ := json.Marshal(r.Roles) // a []string always marshals
		args = append(args, r.Email, r.EmailKey, r.FirstName, r.LastName, r.Active, string(roles), r.PasswordHash, r.RegistrationDate)
	}
	return args
}

func toRow(p *AdminProfile) profileRow {
	var hash *string
	if p.PasswordHash != "" {
		hash = &p.PasswordHash
	}
	return profileRow{
		ID: p.ID, Email: p.Email, EmailKey: strings.ToLower(p.Email), FirstName: p.FirstName, LastName: p.LastName,
		Active: p.Active, Roles: orEmpty(p.Roles), PasswordHash: hash, RegistrationDate: p.RegistrationDate,
	}
}

func (r profileRow) profile() AdminProfile {
	p := AdminProfile{
		ID: r.ID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Active: r.Active,
		Roles: orEmpty(r.Roles), RegistrationDate: r.RegistrationDate.UTC(),
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
