package activeplatform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps users and custom attribute definitions in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errEmailTaken = apperr.Conflict("email", "taken", "Email has already been taken")

// errAccessTaken is the same user attached to the same account twice: ActiveRecord's uniqueness
// message, as for a taken email (the vendor documents none).
var errAccessTaken = apperr.Conflict("user_id", "taken", "User has already been taken")

// errOwnerTaken is a second owner of an account (vendor: "An Account can have only one user with
// Owner access level"; the wording is provisiond's).
var errOwnerTaken = apperr.Conflict("role", "taken", "Account already has an owner")

func notFound(id int64) error {
	return apperr.NotFound(fmt.Sprintf("Couldn't find User with 'id'=%d", id))
}

func accountNotFound(id int64) error {
	return apperr.NotFound(fmt.Sprintf("Couldn't find Account with 'id'=%d", id))
}

// linkedSQL is true for a user (a row of activeplatform_users) attached to an active account.
const linkedSQL = `EXISTS (SELECT 1 FROM activeplatform_account_accesses a JOIN activeplatform_accounts c ON c.id = a.account_id
	WHERE a.user_id = activeplatform_users.id AND c.status = 'active')`

// activeSQL is true for a user whose status (statusOf) is active.
const activeSQL = "(activeplatform_users.status = 'active' AND " + linkedSQL + ")"

// withLinked reads users with userRow.Linked, which their status needs.
func withLinked(db *gorm.DB) *gorm.DB {
	return db.Model(&userRow{}).Select("activeplatform_users.*, " + linkedSQL + " AS linked")
}

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
	if err := withLinked(s.db.WithContext(ctx)).Take(&row, id).Error; err != nil {
		return User{}, store.Classify(err, "read user", nil, notFound(id))
	}
	return row.user(), nil
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
	// The status, which no update changes, as of now: the accounts are not locked.
	var linked []int64
	if err := s.db.WithContext(ctx).Model(&userRow{}).Where("id = ? AND "+linkedSQL, id).Pluck("id", &linked).Error; err != nil {
		return User{}, store.Classify(err, "read user status", nil, nil)
	}
	u.Status = statusOf(u.Global, len(linked) > 0)
	return u, nil
}

// List reads the users q selects.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]User, error) {
	tx := s.db.WithContext(ctx).Model(&userRow{})
	if q.Email != "" {
		tx = tx.Where("email_key LIKE ? ESCAPE '!'", "%"+store.EscapeLike(strings.ToLower(q.Email))+"%")
	}
	switch q.Status {
	case StatusActive:
		tx = tx.Where(activeSQL)
	case StatusInactive:
		tx = tx.Where("NOT " + activeSQL)
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
	order := q.Sort + dir + ", id" + dir
	if err := store.PageByID(withLinked(s.db.WithContext(ctx)), tx, order, q.Offset, q.Limit).Find(&rows).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("list users: %w", err))
	}
	return usersOf(rows), nil
}

func usersOf(rows []userRow) []User {
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out
}

// Attach stores a: the user and the account are looked up first (an unknown one is not found,
// the user's before the account's), then the access is inserted; its primary key (the pair) and
// the index of an account's owner decide between concurrent requests, and a violation is told
// apart by looking the pair up. A user or account deleted between the look-up and the insert (a
// reset of the control API) fails the insert's foreign key: then it is looked up again, once, and
// answered as unknown.
func (s *DBStore) Attach(ctx context.Context, a Access) error {
	err := s.attach(ctx, a)
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		err = s.attach(ctx, a)
	}
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return store.Classify(err, "insert access", nil, nil)
	}
	return err
}

// attach is one try of Attach; a violated foreign key is returned as it is.
func (s *DBStore) attach(ctx context.Context, a Access) error {
	var found struct{ Users, Accounts int64 }
	err := s.db.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM activeplatform_users WHERE id = ?) AS users,
		(SELECT COUNT(*) FROM activeplatform_accounts WHERE id = ?) AS accounts`, a.UserID, a.AccountID).Scan(&found).Error
	switch {
	case err != nil:
		return store.Classify(err, "look up user and account", nil, nil)
	case found.Users == 0:
		return notFound(a.UserID)
	case found.Accounts == 0:
		return accountNotFound(a.AccountID)
	}
	row := accessRow{UserID: a.UserID, AccountID: a.AccountID, Role: a.Role}
	err = store.Insert(ctx, s.db, &row)
	switch {
	case err == nil, errors.Is(err, gorm.ErrForeignKeyViolated):
		return err
	case !errors.Is(err, gorm.ErrDuplicatedKey):
		return store.Classify(err, "insert access", nil, nil)
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&accessRow{}).Where("user_id = ? AND account_id = ?", a.UserID, a.AccountID).Count(&n).Error; err != nil {
		return store.Classify(err, "look up access", nil, nil)
	}
	if n > 0 {
		return errAccessTaken
	}
	return errOwnerTaken
}

// AccountUsers reads the users attached to account id, by id.
func (s *DBStore) AccountUsers(ctx context.Context, id int64) ([]User, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&accountRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return nil, store.Classify(err, "read account", nil, nil)
	}
	if n == 0 {
		return nil, accountNotFound(id)
	}
	var rows []userRow
	err := withLinked(s.db.WithContext(ctx)).
		Where("id IN (SELECT user_id FROM activeplatform_account_accesses WHERE account_id = ?)", id).Order("id").Find(&rows).Error
	if err != nil {
		return nil, store.Classify(err, "read account users", nil, nil)
	}
	return usersOf(rows), nil
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
// It adds each definition it creates or changes to applied, as "custom_attributes".
func (s *DBStore) LoadDefinitions(ctx context.Context, defs []Definition, overwrite bool, applied module.Applied) error {
	rows := make([]attributeRow, len(defs))
	for i, d := range defs {
		rows[i] = attributeRow(d)
	}
	return loadReference(ctx, s.db, rows, "attr_key", func(r attributeRow) string { return r.Key }, []string{"name", "type"}, overwrite, applied, "custom_attributes")
}

// LoadAccounts stores accounts; with overwrite an existing id takes the new name and status. It
// adds each account it creates or changes to applied, as "accounts".
func (s *DBStore) LoadAccounts(ctx context.Context, accounts []Account, overwrite bool, applied module.Applied) error {
	rows := make([]accountRow, len(accounts))
	for i, a := range accounts {
		rows[i] = accountRow(a)
	}
	return loadReference(ctx, s.db, rows, "id", func(r accountRow) int64 { return r.ID }, []string{"name", "status"}, overwrite, applied, "accounts")
}

// loadReference stores rows of reference data whose key (keyOf) is the column key, in one
// transaction; with overwrite an existing row takes the new values of columns, without it is
// left alone. It adds each row it creates or changes to applied, as kind.
func loadReference[R any, K comparable](ctx context.Context, db *gorm.DB, rows []R, key string, keyOf func(R) K,
	columns []string, overwrite bool, applied module.Applied, kind string) error {
	if len(rows) == 0 {
		return nil
	}
	onConflict := clause.OnConflict{Columns: []clause.Column{{Name: key}}, DoNothing: true}
	if overwrite {
		onConflict = clause.OnConflict{Columns: []clause.Column{{Name: key}}, DoUpdates: clause.AssignmentColumns(columns)}
	}
	return store.Transaction(ctx, db, func(tx *gorm.DB) error {
		keys := make([]K, len(rows))
		for i, r := range rows {
			keys[i] = keyOf(r)
		}
		var stored []K
		if err := tx.Model(new(R)).Where(key+" IN ?", keys).Pluck(key, &stored).Error; err != nil {
			return fmt.Errorf("read %s: %w", kind, err)
		}
		for i := range rows {
			res := tx.Clauses(onConflict).Create(&rows[i])
			if res.Error != nil {
				return fmt.Errorf("%s %v: %w", kind, keys[i], res.Error)
			}
			if res.RowsAffected > 0 {
				applied.Add(kind, !slices.Contains(stored, keys[i]))
			}
		}
		return nil
	})
}

// seedBatch is how many users one INSERT of SeedUsers writes: 500 rows of 10 columns stay far
// below SQLite's and PostgreSQL's limits on bound parameters.
const seedBatch = 500

// seedColumns are the columns a seeded user that exists takes from the file: all but its id,
// its email key (the same, in lower case) and its creation time.
var seedColumns = []string{"email", "first_name", "middle_name", "last_name", "password_hash", "status", "attributes", "updated_at"}

// SeedUsers stores users (checked, passwords hashed), matched to stored ones by email in any
// letter case: a user whose email is free is created; one whose email is taken takes the file's
// values with overwrite, and is left alone without. It adds each user it creates or updates to
// applied, as "users". Rows are written in batches of seedBatch by INSERT … ON CONFLICT on the
// email's unique key, so that a user the API creates meanwhile (on PostgreSQL, whose API
// requests do not wait for the start-up lock) is updated (or left alone) rather than failing
// the file.
func (s *DBStore) SeedUsers(ctx context.Context, users []User, overwrite bool, applied module.Applied) error {
	db := s.db.WithContext(ctx)
	rows := make([]userRow, len(users))
	keys := make([]string, len(users))
	for i := range users {
		rows[i] = toRow(&users[i])
		keys[i] = rows[i].EmailKey
	}
	// The users that exist, by email key, with their ids: writing an existing user with its own
	// id consumes no value of PostgreSQL's id sequence.
	ids := make(map[string]int64, len(users))
	for chunk := range slices.Chunk(keys, seedBatch) {
		var found []userRow
		if err := db.Select("id", "email_key").Where("email_key IN ?", chunk).Find(&found).Error; err != nil {
			return store.Classify(err, "look up users", nil, nil)
		}
		for _, r := range found {
			ids[r.EmailKey] = r.ID
		}
	}
	var fresh, stale []userRow
	for _, r := range rows {
		if id, ok := ids[r.EmailKey]; !ok {
			fresh = append(fresh, r)
		} else if overwrite {
			r.ID = id
			stale = append(stale, r)
		}
	}
	onKey := []clause.Column{{Name: "email_key"}}
	update := clause.OnConflict{Columns: onKey, DoUpdates: clause.AssignmentColumns(seedColumns)}
	for chunk := range slices.Chunk(fresh, seedBatch) {
		res := db.Clauses(clause.OnConflict{Columns: onKey, DoNothing: true}).Create(&chunk)
		if res.Error != nil {
			return store.Classify(res.Error, "insert users", nil, nil)
		}
		for range res.RowsAffected {
			applied.Add("users", true)
		}
		lost := int64(len(chunk)) - res.RowsAffected
		if lost == 0 {
			continue
		}
		// Created by the API since they were looked up: they take the file's values (the rows
		// just inserted take the same values again), or are left alone.
		if overwrite {
			for i := range chunk {
				chunk[i].ID = 0
			}
			if err := db.Clauses(update).Create(&chunk).Error; err != nil {
				return store.Classify(err, "update users", nil, nil)
			}
			for range lost {
				applied.Add("users", false)
			}
		}
	}
	for chunk := range slices.Chunk(stale, seedBatch) {
		if err := db.Clauses(update).Create(&chunk).Error; err != nil {
			return store.Classify(err, "update users", nil, nil)
		}
		for range chunk {
			applied.Add("users", false)
		}
	}
	return nil
}

func toRow(u *User) userRow {
	attrs := u.Attributes
	if attrs == nil {
		attrs = []Attribute{}
	}
	return userRow{
		ID: u.ID, Email: u.Email, EmailKey: strings.ToLower(u.Email), FirstName: u.FirstName, MiddleName: u.MiddleName,
		LastName: u.LastName, PasswordHash: u.PasswordHash, Status: u.Global, Attributes: attrs,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func (r userRow) user() User {
	return User{
		ID: r.ID, Email: r.Email, FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName,
		PasswordHash: r.PasswordHash, Status: statusOf(r.Status, r.Linked), Global: r.Status, Attributes: r.Attributes,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
