package activeplatform

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps users and custom attribute definitions in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errEmailTaken = apperr.Conflict("email", "taken", "Email has already been taken")

func notFound(id int64) error {
	return apperr.NotFound(fmt.Sprintf("Couldn't find User with 'id'=%d", id))
}

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
	if err := s.db.WithContext(ctx).Take(&row, id).Error; err != nil {
		return User{}, store.Classify(err, "read user", nil, notFound(id))
	}
	return row.user(), nil
}

// EmailFree is errEmailTaken when a user other than self holds email in any letter case.
func (s *DBStore) EmailFree(ctx context.Context, email string, self int64) error {
	return store.Free(ctx, s.db, &userRow{}, "email_key", strings.ToLower(email), self, errEmailTaken)
}

// Update changes the user id in one transaction that locks it first (store.Update), so that no
// concurrent change is lost: change gets the stored user and alters it, or returns an error that
// leaves it as it was. Read-modify-write rather than an UPDATE of the sent columns with a JSON
// merge in the database: custom attributes are a list of {key, value} in the order they were
// first set, merged by key, which neither jsonb || nor json_patch does (both merge objects).
func (s *DBStore) Update(ctx context.Context, id int64, change func(*User) error) (User, error) {
	u, err := store.Update(ctx, s.db, id, store.Lift(userRow.user), store.Lift(toRow), change, "id", "created_at", "email", "email_key")
	if err != nil {
		return User{}, store.Classify(err, "update user", nil, notFound(id))
	}
	return u, nil
}

// List reads the users q selects.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]User, error) {
	tx := s.db.WithContext(ctx).Model(&userRow{})
	if q.Email != "" {
		tx = tx.Where("email_key LIKE ? ESCAPE '!'", "%"+store.EscapeLike(strings.ToLower(q.Email))+"%")
	}
	if q.Status != "" {
		tx = tx.Where("status = ?", q.Status)
	}
	if q.CreatedFrom != nil {
		tx = tx.Where("created_at >= ? AND created_at < ?", *q.CreatedFrom, q.CreatedFrom.AddDate(0, 0, 1))
	}
	if q.UpdatedFrom != nil {
		tx = tx.Where("updated_at >= ? AND updated_at < ?", *q.UpdatedFrom, q.UpdatedFrom.AddDate(0, 0, 1))
	}
	dir := " ASC"
	if q.Reversed {
		dir = " DESC"
	}
	var rows []userRow
	if err := tx.Order(q.Sort + dir).Order("id" + dir).Offset(q.Offset).Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("list users: %w", err))
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// Definitions reads the custom attribute definitions, by key.
func (s *DBStore) Definitions(ctx context.Context) (map[string]Definition, error) {
	var rows []attributeRow
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("read attribute definitions: %w", err))
	}
	out := make(map[string]Definition, len(rows))
	for _, r := range rows {
		out[r.Key] = Definition(r)
	}
	return out, nil
}

// LoadDefinitions stores definitions; with overwrite an existing key takes the new name and type.
func (s *DBStore) LoadDefinitions(ctx context.Context, defs []Definition, overwrite bool) error {
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: "attr_key"}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: "attr_key"}}, DoUpdates: clause.AssignmentColumns([]string{"name", "type"})}
	}
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		for _, d := range defs {
			row := attributeRow(d)
			if err := tx.Clauses(onConflict).Create(&row).Error; err != nil {
				return fmt.Errorf("attribute %s: %w", d.Key, err)
			}
		}
		return nil
	})
}

func toRow(u *User) userRow {
	attrs := u.Attributes
	if attrs == nil {
		attrs = []Attribute{}
	}
	return userRow{
		ID: u.ID, Email: u.Email, EmailKey: strings.ToLower(u.Email), FirstName: u.FirstName, MiddleName: u.MiddleName,
		LastName: u.LastName, PasswordHash: u.PasswordHash, Status: u.Status, Attributes: attrs,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func (r userRow) user() User {
	return User{
		ID: r.ID, Email: r.Email, FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName,
		PasswordHash: r.PasswordHash, Status: r.Status, Attributes: r.Attributes,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
