package occadmin

import (
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/store"
)

// profileRow is an admin profile as stored; EmailKey is the lower-cased email, unique.
type profileRow struct {
	ID               int64 `gorm:"primaryKey"`
	Email            string
	EmailKey         string
	FirstName        string
	LastName         string
	Active           bool
	Roles            []string `gorm:"serializer:json"`
	PasswordHash     *string
	RegistrationDate time.Time
}

func (profileRow) TableName() string { return "occadmin_profiles" }

type roleRow struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Description string
	Category    string
	Privileges  []string `gorm:"serializer:json"`
}

func (roleRow) TableName() string { return "occadmin_roles" }

// revokedTable keeps the logged-out access tokens.
const revokedTable = "occadmin_revoked_tokens"

// Migrations create the OCC admin tables from frozen structs.
func Migrations() []store.Migration {
	type profileV1 struct {
		ID               int64  `gorm:"primaryKey"`
		Email            string `gorm:"not null"`
		EmailKey         string `gorm:"not null;uniqueIndex:idx_occadmin_profiles_email_key"`
		FirstName        string `gorm:"not null"`
		LastName         string `gorm:"not null"`
		Active           bool   `gorm:"not null"`
		Roles            string `gorm:"not null"`
		PasswordHash     *string
		RegistrationDate time.Time `gorm:"not null"`
	}
	type roleV1 struct {
		ID         string `gorm:"primaryKey"`
		Name       string `gorm:"not null"`
		Privileges string `gorm:"not null"`
	}
	return []store.Migration{{
		ID: "0201_occadmin_profiles",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("occadmin_profiles").Migrator().CreateTable(&profileV1{}); err != nil {
				return err
			}
			return tx.Table("occadmin_roles").Migrator().CreateTable(&roleV1{})
		},
	}, {
		// The SCIM email filters over email_key (already lower-case): eq by its unique index, sw
		// by a prefix index, co by a trigram index on PostgreSQL (a scan on SQLite).
		ID: "0202_occadmin_email_search",
		Up: func(tx *gorm.DB) error {
			if err := store.PrefixIndex(tx, "idx_occadmin_profiles_email_key_prefix", "occadmin_profiles", "email_key"); err != nil {
				return err
			}
			return store.TrigramIndex(tx, "idx_occadmin_profiles_email_key_trgm", "occadmin_profiles", "email_key")
		},
	},
		// Logged-out access tokens (POST /ccadmin/v1/logout), refused by every instance.
		occ.RevocationsMigration("0203_occadmin_revoked_tokens", revokedTable),
		{
			// OCC's description and category of an admin role (listInternalProfileRoles).
			ID: "0204_occadmin_role_description_category",
			Up: func(tx *gorm.DB) error {
				for _, col := range []string{"description", "category"} {
					if err := tx.Exec("ALTER TABLE occadmin_roles ADD COLUMN " + col + " TEXT NOT NULL DEFAULT ''").Error; err != nil {
						return err
					}
				}
				return nil
			},
		},
	}
}
