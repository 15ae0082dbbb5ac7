package xcart

import (
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// addressRow is an address as stored. Type is X-Cart's address_type column.
type addressRow struct {
	ID          int64 `gorm:"primaryKey"`
	ProfileID   int64
	IsBilling   bool
	IsShipping  bool
	IsWork      bool
	Type        string `gorm:"column:address_type"`
	Title       string
	Firstname   string
	Lastname    string
	Phone       string
	Street      string
	Zipcode     string
	City        string
	CountryCode string
	State       *int64
	StateName   string
}

func (addressRow) TableName() string { return "xcart_addresses" }

// Migrations are the X-Cart API's schema history (Module.Migrations): the profiles' tables, then
// the addresses'.
func Migrations() []store.Migration { return append(profileMigrations(), addressMigrations()...) }

// addressMigrations create the addresses' table.
//
// The table is written in SQL rather than from a struct because GORM creates a foreign key only
// from a relation field, and the cascade is the point: a profile's addresses go with it, as
// X-Cart's profile_id join column says (onDelete="CASCADE"), on SQLite too, whose connections
// turn foreign keys on (store.Open). The two partial unique indexes hold at most one billing and
// one shipping address per profile, whatever the requests do.
func addressMigrations() []store.Migration {
	return []store.Migration{{
		ID: "0104_xcart_addresses",
		Up: func(tx *gorm.DB) error {
			id := "INTEGER PRIMARY KEY AUTOINCREMENT"
			if tx.Name() == "postgres" {
				id = "BIGSERIAL PRIMARY KEY"
			}
			for _, stmt := range []string{
				`CREATE TABLE xcart_addresses (
					id ` + id + `,
					profile_id BIGINT NOT NULL REFERENCES xcart_profiles (id) ON DELETE CASCADE,
					is_billing BOOLEAN NOT NULL DEFAULT FALSE,
					is_shipping BOOLEAN NOT NULL DEFAULT FALSE,
					is_work BOOLEAN NOT NULL DEFAULT FALSE,
					address_type TEXT NOT NULL DEFAULT 'R',
					title TEXT NOT NULL DEFAULT '',
					firstname TEXT NOT NULL DEFAULT '',
					lastname TEXT NOT NULL DEFAULT '',
					phone TEXT NOT NULL DEFAULT '',
					street TEXT NOT NULL DEFAULT '',
					zipcode TEXT NOT NULL DEFAULT '',
					city TEXT NOT NULL DEFAULT '',
					country_code TEXT NOT NULL DEFAULT '',
					state BIGINT,
					state_name TEXT NOT NULL DEFAULT ''
				)`,
				"CREATE INDEX idx_xcart_addresses_profile ON xcart_addresses (profile_id, id)",
				"CREATE UNIQUE INDEX idx_xcart_addresses_billing ON xcart_addresses (profile_id) WHERE is_billing",
				"CREATE UNIQUE INDEX idx_xcart_addresses_shipping ON xcart_addresses (profile_id) WHERE is_shipping",
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
