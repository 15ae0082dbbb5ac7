package xcart

import (
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// profileRow is a profile as stored. LoginKey is the lower-cased login; its unique index makes
// logins unique case-insensitively, on every database alike.
type profileRow struct {
	ID                  int64 `gorm:"primaryKey"`
	Login               string
	LoginKey            string
	PasswordHash        *string
	AccessLevel         int
	Status              string
	StatusComment       string
	Referer             string
	GAClientID          string
	Language            string
	MembershipID        *int64
	PendingMembershipID *int64
	ForceChangePassword bool
	RoleIDs             []int `gorm:"serializer:json"`
	SocialLoginProvider *string
	SocialLoginID       *string
	ConciergeUserID     *string
	StripeCustomerID    *string
	StoredSelectors     []string `gorm:"serializer:json"`
	MailChimpLists      []int    `gorm:"serializer:json"`
	MailChimpInterests  []int    `gorm:"serializer:json"`
	MailChimpSegments   []int    `gorm:"serializer:json"`
	CreateDate          time.Time
	FirstLoginDate      *time.Time
	LastLoginDate       *time.Time
}

func (profileRow) TableName() string { return "xcart_profiles" }

type membershipRow struct {
	ID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Name string
}

func (membershipRow) TableName() string { return "xcart_memberships" }

type roleRow struct {
	ID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Name string
}

func (roleRow) TableName() string { return "xcart_roles" }

// profileMigrations create the profiles' tables (Migrations). The structs are frozen copies: a
// later change of the models is a new migration, never an edit of these.
func profileMigrations() []store.Migration {
	type profileV1 struct {
		ID                  int64  `gorm:"primaryKey"`
		Login               string `gorm:"not null"`
		LoginKey            string `gorm:"not null;uniqueIndex:idx_xcart_profiles_login_key"`
		PasswordHash        *string
		AccessLevel         int    `gorm:"not null;index:idx_xcart_profiles_access_level"`
		Status              string `gorm:"not null"`
		StatusComment       string `gorm:"not null"`
		Referer             string `gorm:"not null"`
		GAClientID          string `gorm:"not null"`
		Language            string `gorm:"not null"`
		MembershipID        *int64
		PendingMembershipID *int64
		ForceChangePassword bool   `gorm:"not null"`
		RoleIDs             string `gorm:"not null"`
		SocialLoginProvider *string
		SocialLoginID       *string
		ConciergeUserID     *string
		StripeCustomerID    *string
		StoredSelectors     string    `gorm:"not null"`
		MailChimpLists      string    `gorm:"not null"`
		MailChimpInterests  string    `gorm:"not null"`
		MailChimpSegments   string    `gorm:"not null"`
		CreateDate          time.Time `gorm:"not null"`
		FirstLoginDate      *time.Time
		LastLoginDate       *time.Time
	}
	type referenceV1 struct {
		ID   int64  `gorm:"primaryKey;autoIncrement:false"`
		Name string `gorm:"not null"`
	}
	return []store.Migration{{
		ID: "0101_xcart_profiles",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("xcart_profiles").Migrator().CreateTable(&profileV1{}); err != nil {
				return err
			}
			if err := tx.Table("xcart_memberships").Migrator().CreateTable(&referenceV1{}); err != nil {
				return err
			}
			return tx.Table("xcart_roles").Migrator().CreateTable(&referenceV1{})
		},
	}, {
		// The login search (login_key LIKE '%…%'): a trigram index on PostgreSQL; on SQLite it
		// stays a scan.
		ID: "0102_xcart_login_search",
		Up: func(tx *gorm.DB) error {
			return store.TrigramIndex(tx, "idx_xcart_profiles_login_key_trgm", "xcart_profiles", "login_key")
		},
	}, {
		// The date filters of the list (added[…], first_login[…]): a client syncing by
		// added[after] reads the newest profiles through an index instead of every row. X-Cart
		// indexes first_login too.
		ID: "0103_xcart_date_filters",
		Up: func(tx *gorm.DB) error {
			for _, stmt := range []string{
				"CREATE INDEX idx_xcart_profiles_create_date ON xcart_profiles (create_date)",
				"CREATE INDEX idx_xcart_profiles_first_login_date ON xcart_profiles (first_login_date)",
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
