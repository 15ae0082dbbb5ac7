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

// Migrate applies, in order, the migrations not yet recorded in the database, each in its own
// transaction, and returns the ids it applied. Several instances may start at once: each
// transaction holds the start-up lock (WithStartupLock), so they take turns, and each re-checks
// inside its transaction.
func Migrate(ctx context.Context, db *gorm.DB, migrations []Migration) ([]string, error) {
	if err := checkIDs(migrations); err != nil {
		return nil, err
	}
	if err := WithStartupLock(ctx, db, func(tx *gorm.DB) error {
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
		err := WithStartupLock(ctx, db, func(tx *gorm.DB) error {
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

// startupLockKey is the PostgreSQL advisory lock of WithStartupLock. It is the key the
// migrations alone took before, so that an instance of an older version still takes turns with
// a newer one.
const startupLockKey = 7_305_911_204

// WithStartupLock runs fn in one transaction (Transaction) that holds the start-up lock, so that
// instances starting at once on one database write what a start writes one after the other,
// each seeing all that the ones before it committed: every migration, the built-in reference
// data, the fixtures file, the bootstrap credentials and the JWT signing key all go through it.
// Without it, they would both create what each found missing (two sets of bootstrap
// credentials, two keys), or deadlock when they insert the same rows in different orders.
//
// On PostgreSQL the lock is a transaction-level advisory lock, taken by the transaction's first
// statement and released when it ends; under READ COMMITTED, PostgreSQL's default, every later
// statement sees what the previous holder committed. On SQLite the transaction itself is the
// lock: it begins IMMEDIATE (_txlock in Open's DSN), so it holds the database's single write
// lock from the start, and other processes wait for it up to the busy timeout. Called with a
// transaction that holds the lock already, fn runs in a savepoint of it. It runs without the
// database deadline (Unbounded): its turn may come only after other instances' migrations.
func WithStartupLock(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return Transaction(Unbounded(ctx), db, func(tx *gorm.DB) error {
		if tx.Name() == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", startupLockKey).Error; err != nil {
				return fmt.Errorf("take the start-up lock: %w", err)
			}
		}
		return fn(tx)
	})
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
