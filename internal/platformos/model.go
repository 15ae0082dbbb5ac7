package platformos

import (
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
	}}
}
