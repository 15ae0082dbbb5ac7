package activeplatform

import (
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// userRow is a user as stored; EmailKey is the lower-cased email, unique; Attributes holds the
// custom attributes as a JSON list of {key, value}; Status is the global status (an operator's
// deactivation: fixtures). Linked is read, never written: whether the user is attached to an
// active account (linkedSQL), selected by the reads that answer a status (withLinked).
type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Email        string
	EmailKey     string
	FirstName    string
	MiddleName   string
	LastName     string
	PasswordHash string
	Status       string
	Attributes   []Attribute `gorm:"serializer:json"`
	CreatedAt    time.Time   `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time   `gorm:"autoUpdateTime:false"`
	Linked       bool        `gorm:"->;-:migration"`
}

func (userRow) TableName() string { return "activeplatform_users" }

// accountRow is an account (reference data: fixtures).
type accountRow struct {
	ID     int64 `gorm:"primaryKey;autoIncrement:false"`
	Name   string
	Status string
}

func (accountRow) TableName() string { return "activeplatform_accounts" }

// accessRow attaches a user to an account with a role; the pair is the primary key.
type accessRow struct {
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64 `gorm:"primaryKey;autoIncrement:false"`
	Role      string
}

func (accessRow) TableName() string { return "activeplatform_account_accesses" }

type attributeRow struct {
	Key  string `gorm:"primaryKey;column:attr_key"`
	Name string
	Type string
}

func (attributeRow) TableName() string { return "activeplatform_attributes" }

// Migrations create the ActivePlatform tables from frozen structs.
func Migrations() []store.Migration {
	type userV1 struct {
		ID           int64     `gorm:"primaryKey"`
		Email        string    `gorm:"not null"`
		EmailKey     string    `gorm:"not null;uniqueIndex:idx_activeplatform_users_email_key"`
		FirstName    string    `gorm:"not null"`
		MiddleName   string    `gorm:"not null"`
		LastName     string    `gorm:"not null"`
		PasswordHash string    `gorm:"not null"`
		Status       string    `gorm:"not null"`
		Attributes   string    `gorm:"not null"`
		CreatedAt    time.Time `gorm:"not null;index:idx_activeplatform_users_created_at"`
		UpdatedAt    time.Time `gorm:"not null;index:idx_activeplatform_users_updated_at"`
	}
	type attributeV1 struct {
		Key  string `gorm:"primaryKey;column:attr_key"`
		Name string `gorm:"not null"`
		Type string `gorm:"not null"`
	}
	return []store.Migration{{
		ID: "0501_activeplatform_users",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("activeplatform_users").Migrator().CreateTable(&userV1{}); err != nil {
				return err
			}
			return tx.Table("activeplatform_attributes").Migrator().CreateTable(&attributeV1{})
		},
	}, {
		// The list's filters and sorts: filters[email] (email_key LIKE '%…%') by a trigram index
		// on PostgreSQL (a scan on SQLite); filters[status] and each sorting[field] followed by
		// the id, as the list orders, by b-tree indexes (created_at and updated_at have theirs).
		ID: "0502_activeplatform_list_indexes",
		Up: func(tx *gorm.DB) error {
			for _, col := range []string{"status", "email", "first_name", "last_name"} {
				if err := store.SortIndex(tx, "idx_activeplatform_users_"+col+"_id", "activeplatform_users", col, "id"); err != nil {
					return err
				}
			}
			return store.TrigramIndex(tx, "idx_activeplatform_users_email_key_trgm", "activeplatform_users", "email_key")
		},
	}, {
		// Accounts (reference data) and the accesses that attach users to them. An access's key
		// is the pair (user first: a user's status looks up its accesses); an account's users are
		// found by the second index; an account has at most one owner (vendor), by a partial
		// unique index. Plain SQL: the same on both dialects, foreign keys included.
		ID: "0503_activeplatform_accounts",
		Up: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				`CREATE TABLE activeplatform_accounts (
					id BIGINT NOT NULL PRIMARY KEY,
					name TEXT NOT NULL,
					status TEXT NOT NULL)`,
				`CREATE TABLE activeplatform_account_accesses (
					user_id BIGINT NOT NULL REFERENCES activeplatform_users (id),
					account_id BIGINT NOT NULL REFERENCES activeplatform_accounts (id),
					role TEXT NOT NULL,
					PRIMARY KEY (user_id, account_id))`,
				`CREATE INDEX idx_activeplatform_account_accesses_account ON activeplatform_account_accesses (account_id, user_id)`,
				`CREATE UNIQUE INDEX idx_activeplatform_account_accesses_owner ON activeplatform_account_accesses (account_id) WHERE role = 'owner'`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
