package platformos

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// userRow is a user as stored; EmailKey is the lower-cased email, unique. Profiles,
// RelationshipUsers and Transactables are JSON objects, kept as sent.
type userRow struct {
	ID                int64 `gorm:"primaryKey"`
	Email             string
	EmailKey          string
	PasswordHash      *string
	ExternalID        *string
	FirstName         *string
	MiddleName        *string
	LastName          *string
	Name              *string
	Featured          bool
	PublicProfile     bool
	Profiles          string
	RelationshipUsers string
	Transactables     string
	CreatedAt         time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"`
}

func (userRow) TableName() string { return "platformos_users" }

type formRow struct {
	Name              string `gorm:"primaryKey"`
	Kind              string
	Fields            []string `gorm:"serializer:json"`
	Required          []string `gorm:"serializer:json"`
	PasswordMinLength int
}

func (formRow) TableName() string { return "platformos_form_configurations" }

// sessionRow is a logged-in session; the cookie's secret is stored only as its SHA-256 hash.
type sessionRow struct {
	Hash      string `gorm:"primaryKey"`
	UserID    int64
	ExpiresAt time.Time
}

func (sessionRow) TableName() string { return "platformos_sessions" }

// Migrations create the platformOS tables from frozen structs.
func Migrations() []store.Migration {
	type userV1 struct {
		ID                int64  `gorm:"primaryKey"`
		Email             string `gorm:"not null"`
		EmailKey          string `gorm:"not null;uniqueIndex:idx_platformos_users_email_key"`
		PasswordHash      *string
		ExternalID        *string
		FirstName         *string
		MiddleName        *string
		LastName          *string
		Name              *string
		Featured          bool      `gorm:"not null"`
		PublicProfile     bool      `gorm:"not null"`
		Profiles          string    `gorm:"not null"`
		RelationshipUsers string    `gorm:"not null"`
		Transactables     string    `gorm:"not null"`
		CreatedAt         time.Time `gorm:"not null"`
		UpdatedAt         time.Time `gorm:"not null"`
	}
	type formV1 struct {
		Name              string `gorm:"primaryKey"`
		Kind              string `gorm:"not null"`
		Fields            string `gorm:"not null"`
		Required          string `gorm:"not null"`
		PasswordMinLength int    `gorm:"not null"`
	}
	type sessionV1 struct {
		Hash      string    `gorm:"primaryKey"`
		UserID    int64     `gorm:"not null;index:idx_platformos_sessions_user"`
		ExpiresAt time.Time `gorm:"not null"`
	}
	return []store.Migration{{
		ID: "0401_platformos_users",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("platformos_users").Migrator().CreateTable(&userV1{}); err != nil {
				return err
			}
			if err := tx.Table("platformos_form_configurations").Migrator().CreateTable(&formV1{}); err != nil {
				return err
			}
			return tx.Table("platformos_sessions").Migrator().CreateTable(&sessionV1{})
		},
	}, {
		ID: "0402_platformos_reference_forms",
		Up: upgradeReferenceForms,
	}}
}

// upgradeReferenceForms brings the built-in form configurations a database got before 0402 to
// platformOS's reference rules, where they are still as built in (one an operator redefined is
// left alone): reference_rest_api_update_user requires first_name, and
// reference_rest_api_user_session goes, being now an alias of reference_rest_api_create_session
// (which the defaults add at start, as they add reference_rest_api_delete_session). The old
// definitions are written out here, frozen, as a migration must be.
func upgradeReferenceForms(tx *gorm.DB) error {
	type builtIn struct {
		kind             string
		fields, required []string
	}
	all := []string{"email", "password", "external_id", "first_name", "middle_name", "last_name", "name",
		"featured", "public_profile", "profiles", "relationship_users", "transactables"}
	old := map[string]builtIn{
		"reference_rest_api_update_user":  {"update", all, []string{}},
		"reference_rest_api_user_session": {"session", []string{"email", "password"}, []string{"email", "password"}},
	}
	var rows []struct {
		Name, Kind, Fields, Required string
		PasswordMinLength            int
	}
	if err := tx.Table("platformos_form_configurations").Where("name IN ?", slices.Sorted(maps.Keys(old))).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		var fields, required []string
		if json.Unmarshal([]byte(r.Fields), &fields) != nil || json.Unmarshal([]byte(r.Required), &required) != nil {
			continue // not as built in
		}
		b := old[r.Name]
		if r.Kind != b.kind || r.PasswordMinLength != 0 || !slices.Equal(fields, b.fields) || !slices.Equal(required, b.required) {
			continue
		}
		var err error
		switch r.Name {
		case "reference_rest_api_update_user":
			err = tx.Exec("UPDATE platformos_form_configurations SET required = ? WHERE name = ?", `["first_name"]`, r.Name).Error
		default:
			err = tx.Exec("DELETE FROM platformos_form_configurations WHERE name = ?", r.Name).Error
		}
		if err != nil {
			return err
		}
	}
	return nil
}
