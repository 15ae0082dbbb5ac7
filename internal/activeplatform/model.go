package activeplatform

import (
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// userRow is a user as stored; EmailKey is the lower-cased email, unique; Attributes holds the
// custom attributes as a JSON list of {key, value}.
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
}

func (userRow) TableName() string { return "activeplatform_users" }

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
	}}
}
