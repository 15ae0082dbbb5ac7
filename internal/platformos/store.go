package platformos

import (
	"context"
	"errors"
	"fmt"
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
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
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
func (s *DBStore) LoadForms(ctx context.Context, forms []FormConfiguration, overwrite bool) error {
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"kind", "fields", "required", "password_min_length"})}
	}
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		for _, f := range forms {
			row := formRow(f)
			if err := tx.Clauses(onConflict).Create(&row).Error; err != nil {
				return fmt.Errorf("form configuration %s: %w", f.Name, err)
			}
		}
		return nil
	})
}

// CreateSession stores a session of user, known by the hash of its secret.
func (s *DBStore) CreateSession(ctx context.Context, hash string, user int64, expires time.Time) error {
	if err := s.db.WithContext(ctx).Create(&sessionRow{Hash: hash, UserID: user, ExpiresAt: expires}).Error; err != nil {
		return apperr.Internal(fmt.Errorf("insert session: %w", err))
	}
	return nil
}

// DeleteSession ends the session with hash, if there is one.
func (s *DBStore) DeleteSession(ctx context.Context, hash string) error {
	if err := s.db.WithContext(ctx).Delete(&sessionRow{}, "hash = ?", hash).Error; err != nil {
		return apperr.Internal(fmt.Errorf("delete session: %w", err))
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
