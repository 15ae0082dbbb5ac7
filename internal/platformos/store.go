package platformos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps users, form configurations and sessions in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errEmailTaken = apperr.Conflict("email", "taken", "has already been taken")

var errUserNotFound = apperr.NotFound("User not found")

// Create inserts u and sets its ID.
func (s *DBStore) Create(ctx context.Context, u *User) error {
	row := toRow(u)
	if err := store.Insert(ctx, s.db, &row); err != nil {
		return store.Classify(err, "insert user", errEmailTaken, nil)
	}
	u.ID = row.ID
	return nil
}

// Get reads the user with id.
func (s *DBStore) Get(ctx context.Context, id int64) (User, error) {
	var row userRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	return fromResult(row, err)
}

// EmailFree is errEmailTaken when a user other than self holds email in any letter case.
func (s *DBStore) EmailFree(ctx context.Context, email string, self int64) error {
	return store.Free(ctx, s.db, &userRow{}, "email_key", strings.ToLower(email), self, errEmailTaken)
}

// GetByEmail reads the user whose email is email in any letter case.
func (s *DBStore) GetByEmail(ctx context.Context, email string) (User, error) {
	var row userRow
	err := s.db.WithContext(ctx).Where("email_key = ?", strings.ToLower(email)).Take(&row).Error
	return fromResult(row, err)
}

// Rehash sets the password hash of user id to hash where it is still old: one UPDATE of that
// column alone, so that no concurrent change of the user is lost, and a password changed since
// old was read is kept.
func (s *DBStore) Rehash(ctx context.Context, id int64, old, hash string) error {
	err := store.Write(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Model(&userRow{}).Where("id = ? AND password_hash = ?", id, old).UpdateColumn("password_hash", hash).Error
	})
	if err != nil {
		return store.Classify(err, "rehash password", nil, nil)
	}
	return nil
}

func fromResult(row userRow, err error) (User, error) {
	if err != nil {
		return User{}, store.Classify(err, "read user", nil, errUserNotFound)
	}
	return row.user(), nil
}

// Update changes the user id in one transaction that locks it first (store.Update), so that no
// concurrent change is lost: change gets the stored user and alters it, or returns an error that
// leaves it as it was. Read-modify-write rather than an UPDATE of the sent columns with a JSON
// merge in the database (jsonb || on PostgreSQL, json_patch on SQLite): json_patch merges nested
// objects and deletes keys sent as null, where a profile type sent replaces the stored one whole,
// and the merge in Go keeps every number exactly as sent on both databases.
func (s *DBStore) Update(ctx context.Context, id int64, change func(*User) error) (User, error) {
	u, err := store.Update(ctx, s.db, id, store.Lift(userRow.user), store.Lift(toRow), change, "id", "created_at")
	if err != nil {
		return User{}, store.Classify(err, "update user", errEmailTaken, errUserNotFound)
	}
	return u, nil
}

// Form reads the form configuration name.
func (s *DBStore) Form(ctx context.Context, name string) (FormConfiguration, bool, error) {
	var row formRow
	err := s.db.WithContext(ctx).Take(&row, "name = ?", name).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return FormConfiguration{}, false, nil
	}
	if err != nil {
		return FormConfiguration{}, false, apperr.Internal(fmt.Errorf("read form configuration: %w", err))
	}
	return FormConfiguration(row), true, nil
}

// LoadForms stores form configurations; with overwrite an existing name takes the new definition.
// It returns how many it created and how many existing ones it overwrote.
func (s *DBStore) LoadForms(ctx context.Context, forms []FormConfiguration, overwrite bool) (created, updated int, err error) {
	if len(forms) == 0 {
		return 0, 0, nil
	}
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"kind", "fields", "required", "password_min_length"})}
	}
	names := make([]string, len(forms))
	for i, f := range forms {
		names[i] = f.Name
	}
	err = store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		var existing []string
		if err := tx.Model(&formRow{}).Where("name IN ?", names).Pluck("name", &existing).Error; err != nil {
			return fmt.Errorf("read form configurations: %w", err)
		}
		for _, f := range forms {
			row := formRow(f)
			if err := tx.Clauses(onConflict).Create(&row).Error; err != nil {
				return fmt.Errorf("form configuration %s: %w", f.Name, err)
			}
		}
		created = len(forms) - len(existing)
		if overwrite {
			updated = len(existing)
		}
		return nil
	})
	return created, updated, err
}

// seedColumns are the columns Seed writes; all but created_at are overwritten.
var seedColumns = []string{"email", "email_key", "password_hash", "external_id", "first_name", "middle_name", "last_name",
	"name", "featured", "public_profile", "profiles", "relationship_users", "transactables", "created_at", "updated_at"}

// seedBatch is how many users one statement of Seed writes on PostgreSQL (15 values each: within
// its 65535 parameters), and seedBatchSQLite on SQLite: sized for the previous driver, which bound
// parameters in a time that grew with the square of their number per statement; with
// modernc.org/sqlite, 50 and 500 measure the same (BenchmarkSeed10k).
const (
	seedBatch       = 1000
	seedBatchSQLite = 50
)

// Seed stores users by email in any letter case (email_key), in batches of multi-row upserts:
// a new email is inserted; an existing one, with overwrite, takes every column of the row but its
// id and created_at, and without it is left alone. It returns how many rows it created and how
// many it overwrote. The upsert is one statement per batch, so that a user created concurrently
// through the API is either overwritten or finds its email taken, never duplicated. On
// PostgreSQL the statement says itself which rows it inserted (xmax = 0 of a row a statement
// inserted); on SQLite the rows that exist are read first, which nothing can change before the
// upsert: the transaction holds the database's write lock.
func (s *DBStore) Seed(ctx context.Context, rows []userRow, overwrite bool) (created, updated int, err error) {
	db := s.db.WithContext(ctx)
	postgres := db.Name() == "postgres"
	conflict := " ON CONFLICT (email_key) DO NOTHING"
	if overwrite {
		var set []string
		for _, c := range seedColumns {
			if c != "created_at" && c != "email_key" {
				set = append(set, fmt.Sprintf("%q = excluded.%q", c, c))
			}
		}
		conflict = " ON CONFLICT (email_key) DO UPDATE SET " + strings.Join(set, ", ")
	}
	quoted := make([]string, len(seedColumns))
	for i, c := range seedColumns {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	head := "INSERT INTO platformos_users (" + strings.Join(quoted, ", ") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(seedColumns)), ", ") + ")"
	size := seedBatch
	if !postgres {
		size = seedBatchSQLite
	}
	for batch := range slices.Chunk(rows, size) {
		args := make([]any, 0, len(batch)*len(seedColumns))
		keys := make([]string, len(batch))
		for i, r := range batch {
			keys[i] = r.EmailKey
			args = append(args, r.Email, r.EmailKey, text(r.PasswordHash), text(r.ExternalID), text(r.FirstName), text(r.MiddleName),
				text(r.LastName), text(r.Name), r.Featured, r.PublicProfile, r.Profiles, r.RelationshipUsers, r.Transactables,
				r.CreatedAt, r.UpdatedAt)
		}
		q := head + strings.TrimSuffix(strings.Repeat(tuple+", ", len(batch)), ", ") + conflict
		if postgres {
			c, u, err := returning(db.Raw(q+" RETURNING (xmax = 0)", args...))
			if err != nil {
				return 0, 0, store.Classify(err, "seed users", nil, nil)
			}
			created, updated = created+c, updated+u
			continue
		}
		var existing int64
		if err := db.Model(&userRow{}).Where("email_key IN ?", keys).Count(&existing).Error; err != nil {
			return 0, 0, store.Classify(err, "read users", nil, nil)
		}
		if err := db.Exec(q, args...).Error; err != nil {
			return 0, 0, store.Classify(err, "seed users", nil, nil)
		}
		created += len(batch) - int(existing)
		if overwrite {
			updated += int(existing)
		}
	}
	return created, updated, nil
}

// returning runs an upsert that returns, for each row it wrote, whether it inserted it.
func returning(q *gorm.DB) (inserted, updated int, err error) {
	rows, err := q.Rows()
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var ins bool
		if err := rows.Scan(&ins); err != nil {
			return 0, 0, err
		}
		if ins {
			inserted++
		} else {
			updated++
		}
	}
	return inserted, updated, rows.Err()
}

// text is a nullable text column's value: nil for NULL.
func text(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateSession stores a session of user, known by the hash of its secret.
func (s *DBStore) CreateSession(ctx context.Context, hash string, user int64, expires time.Time) error {
	if err := store.Insert(ctx, s.db, &sessionRow{Hash: hash, UserID: user, ExpiresAt: expires}); err != nil {
		return store.Classify(err, "insert session", nil, nil)
	}
	return nil
}

// DeleteSession ends the session with hash, if there is one.
func (s *DBStore) DeleteSession(ctx context.Context, hash string) error {
	err := store.Write(ctx, s.db, func(tx *gorm.DB) error { return tx.Delete(&sessionRow{}, "hash = ?", hash).Error })
	if err != nil {
		return store.Classify(err, "delete session", nil, nil)
	}
	return nil
}

func toRow(u *User) userRow {
	var hash *string
	if u.PasswordHash != "" {
		hash = &u.PasswordHash
	}
	return userRow{
		ID: u.ID, Email: u.Email, EmailKey: strings.ToLower(u.Email), PasswordHash: hash,
		ExternalID: u.ExternalID, FirstName: u.FirstName, MiddleName: u.MiddleName, LastName: u.LastName, Name: u.Name,
		Featured: u.Featured, PublicProfile: u.PublicProfile,
		Profiles: orObject(u.Profiles), RelationshipUsers: orObject(u.RelationshipUsers), Transactables: orObject(u.Transactables),
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func (r userRow) user() User {
	u := User{
		ID: r.ID, Email: r.Email, ExternalID: r.ExternalID, FirstName: r.FirstName, MiddleName: r.MiddleName,
		LastName: r.LastName, Name: r.Name, Featured: r.Featured, PublicProfile: r.PublicProfile,
		Profiles: r.Profiles, RelationshipUsers: r.RelationshipUsers, Transactables: r.Transactables,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.PasswordHash != nil {
		u.PasswordHash = *r.PasswordHash
	}
	return u
}

func orObject(js string) string {
	if js == "" {
		return "{}"
	}
	return js
}
