package occstore

import (
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/store"
)

type organizationRow struct {
	ID     string `gorm:"primaryKey"`
	Name   string
	Active bool
}

func (organizationRow) TableName() string { return "occstore_organizations" }

// memberRow is a member as stored. EmailKey is the lower-cased email, unique; Dynamic the dynamic
// properties as a JSON object. Roles is no longer read: a member's roles are those of each of its
// memberships (membershipRow.Roles); it is written "," (none).
type memberRow struct {
	ID                   int64 `gorm:"primaryKey"`
	Email                string
	EmailKey             string
	FirstName            string
	LastName             string
	Active               bool
	ReceiveEmail         string
	Roles                string
	Locale               *string
	PasswordHash         *string
	Dynamic              string
	ParentOrganizationID string
	CreatedAt            time.Time
}

func (memberRow) TableName() string { return "occstore_members" }

// membershipRow says that a member belongs to an organization, with the role functions it holds
// there as ",admin,buyer," (so that a filter can match one).
type membershipRow struct {
	MemberID       int64  `gorm:"primaryKey;autoIncrement:false"`
	OrganizationID string `gorm:"primaryKey"`
	Roles          string
}

func (membershipRow) TableName() string { return "occstore_memberships" }

// revokedTable keeps the logged-out access tokens.
const revokedTable = "occstore_revoked_tokens"

// Migrations create the OCC store tables from frozen structs.
func Migrations() []store.Migration {
	type organizationV1 struct {
		ID     string `gorm:"primaryKey"`
		Name   string `gorm:"not null"`
		Active bool   `gorm:"not null"`
	}
	type memberV1 struct {
		ID                   int64  `gorm:"primaryKey"`
		Email                string `gorm:"not null"`
		EmailKey             string `gorm:"not null;uniqueIndex:idx_occstore_members_email_key"`
		FirstName            string `gorm:"not null"`
		LastName             string `gorm:"not null"`
		Active               bool   `gorm:"not null"`
		ReceiveEmail         string `gorm:"not null"`
		Roles                string `gorm:"not null"`
		Locale               *string
		PasswordHash         *string
		Dynamic              string    `gorm:"not null"`
		ParentOrganizationID string    `gorm:"not null;index:idx_occstore_members_parent"`
		CreatedAt            time.Time `gorm:"not null"`
	}
	type membershipV1 struct {
		MemberID       int64  `gorm:"primaryKey;autoIncrement:false"`
		OrganizationID string `gorm:"primaryKey;index:idx_occstore_memberships_organization"`
	}
	return []store.Migration{{
		ID: "0301_occstore_members",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("occstore_organizations").Migrator().CreateTable(&organizationV1{}); err != nil {
				return err
			}
			if err := tx.Table("occstore_members").Migrator().CreateTable(&memberV1{}); err != nil {
				return err
			}
			return tx.Table("occstore_memberships").Migrator().CreateTable(&membershipV1{})
		},
	}, {
		// The SCIM email filters over email_key (already lower-case): eq by its unique index, sw
		// by a prefix index, co by a trigram index on PostgreSQL (a scan on SQLite).
		ID: "0302_occstore_email_search",
		Up: func(tx *gorm.DB) error {
			if err := store.PrefixIndex(tx, "idx_occstore_members_email_key_prefix", "occstore_members", "email_key"); err != nil {
				return err
			}
			return store.TrigramIndex(tx, "idx_occstore_members_email_key_trgm", "occstore_members", "email_key")
		},
	},
		// Logged-out access tokens (POST /ccstore/v1/logout), refused by every instance.
		occ.RevocationsMigration("0303_occstore_revoked_tokens", revokedTable),
		{
			// Roles belong to a membership (OCC's organizational roles): each membership starts
			// with the roles its member held everywhere until now.
			ID: "0304_occstore_membership_roles",
			Up: func(tx *gorm.DB) error {
				if err := tx.Exec("ALTER TABLE occstore_memberships ADD COLUMN roles TEXT NOT NULL DEFAULT ','").Error; err != nil {
					return err
				}
				return tx.Exec("UPDATE occstore_memberships SET roles = (SELECT m.roles FROM occstore_members m WHERE m.id = occstore_memberships.member_id)").Error
			},
		},
	}
}
