package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Migration is one forward-only step of the schema. Up runs inside a transaction and must build
// its tables from structs frozen in the migration itself, never from the live models, so that the
// history stays the same on every database and for every later version.
type Migration struct {
	ID string
	Up func(tx *gorm.DB) error
}

// schemaMigration records an applied migration.
type schemaMigration struct {
	ID        string    `gorm:"primaryKey;size:191"`
	AppliedAt time.Time `gorm:"not null"`
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migrationLockKey is the PostgreSQL advisory lock that serializes instances migrating at once.
const migrationLockKey = 7_305_911_204

// Migrate applies, in order, the migrations not yet recorded in the database, each in its own
// transaction, and returns the ids it applied. Several instances may start at once: on
// PostgreSQL an advisory lock makes them take turns, and each re-checks inside its transaction.
func Migrate(ctx context.Context, db *gorm.DB, migrations []Migration) ([]string, error) {
	if err := checkIDs(migrations); err != nil {
		return nil, err
	}
	db = db.WithContext(ctx)
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := lockMigrations(tx); err != nil {
			return err
		}
		if tx.Migrator().HasTable(&schemaMigration{}) {
			return nil
		}
		return tx.Migrator().CreateTable(&schemaMigration{})
	}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range migrations {
		done := false
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := lockMigrations(tx); err != nil {
				return err
			}
			var n int64
			if err := tx.Model(&schemaMigration{}).Where("id = ?", m.ID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := m.Up(tx); err != nil {
				return err
			}
			done = true
			return tx.Create(&schemaMigration{ID: m.ID, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.ID, err)
		}
		if done {
			applied = append(applied, m.ID)
		}
	}
	return applied, nil
}

// Pending lists the migrations not yet applied.
func Pending(ctx context.Context, db *gorm.DB, migrations []Migration) ([]string, error) {
	db = db.WithContext(ctx)
	var done []string
	if db.Migrator().HasTable(&schemaMigration{}) {
		if err := db.Model(&schemaMigration{}).Pluck("id", &done).Error; err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool, len(done))
	for _, id := range done {
		seen[id] = true
	}
	var pending []string
	for _, m := range migrations {
		if !seen[m.ID] {
			pending = append(pending, m.ID)
		}
	}
	return pending, nil
}

func lockMigrations(tx *gorm.DB) error {
	if tx.Name() != "postgres" {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error
}

func checkIDs(migrations []Migration) error {
	seen := map[string]bool{}
	for _, m := range migrations {
		if m.ID == "" || m.Up == nil {
			return errors.New("migration without id or Up")
		}
		if seen[m.ID] {
			return fmt.Errorf("migration %s listed twice", m.ID)
		}
		seen[m.ID] = true
	}
	return nil
}
