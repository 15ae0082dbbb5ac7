// Package credential keeps the API credentials (keys and tokens that integrations present) and
// issues and checks the JWTs and access tokens that the vendors' login endpoints hand out.
// A credential is a random secret shown once and stored only as its SHA-256 hash, scoped to
// one API and, where the vendor distinguishes them, to read-only or read/write use.
package credential

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

// Credential is a stored credential. The secret itself is never stored.
type Credential struct {
	ID        uint64    `gorm:"primaryKey"`
	API       string    `gorm:"size:32;not null;index"`
	Hash      string    `gorm:"size:64;not null;uniqueIndex"`
	ReadOnly  bool      `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// TableName keeps the table name stable whatever GORM's naming rules.
func (Credential) TableName() string { return "credentials" }

type setting struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value string `gorm:"not null"`
}

func (setting) TableName() string { return "settings" }

// Migrations create the credentials and settings tables.
func Migrations() []store.Migration {
	type credential struct {
		ID        uint64    `gorm:"primaryKey"`
		API       string    `gorm:"size:32;not null;index:idx_credentials_api"`
		Hash      string    `gorm:"size:64;not null;uniqueIndex:idx_credentials_hash"`
		ReadOnly  bool      `gorm:"not null"`
		CreatedAt time.Time `gorm:"not null"`
	}
	type settingV1 struct {
		Name  string `gorm:"primaryKey;size:64"`
		Value string `gorm:"not null"`
	}
	return []store.Migration{{
		ID: "0001_credentials_and_settings",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("credentials").Migrator().CreateTable(&credential{}); err != nil {
				return err
			}
			return tx.Table("settings").Migrator().CreateTable(&settingV1{})
		},
	}}
}

// Store reads and writes credentials.
type Store struct{ db *gorm.DB }

// NewStore returns a Store over db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// NewSecret returns a fresh random secret: 32 bytes, base64url without padding.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("credential secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a new credential for api and returns its secret, which exists nowhere else.
func (s *Store) Create(ctx context.Context, api string, readOnly bool) (string, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	if _, err := s.Import(ctx, api, secret, readOnly); err != nil {
		return "", err
	}
	return secret, nil
}

// Import stores a credential whose secret the operator chose (fixtures) and reports whether it
// is new. Importing the same secret again updates its scope; a secret too short to be safe is
// refused.
func (s *Store) Import(ctx context.Context, api, secret string, readOnly bool) (created bool, err error) {
	if len(secret) < 16 {
		return false, apperr.Invalid("secret", "length", "a credential secret must be at least 16 characters")
	}
	c := Credential{API: api, Hash: hashOf(secret), ReadOnly: readOnly, CreatedAt: time.Now().UTC()}
	db := s.db.WithContext(ctx)
	// Inserted only when new; then updated, so that the answer says which it was.
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
	if res.Error != nil {
		return false, fmt.Errorf("store credential: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	err = db.Model(&Credential{}).Where("hash = ?", c.Hash).Updates(map[string]any{"api": api, "read_only": readOnly}).Error
	if err != nil {
		return false, fmt.Errorf("store credential: %w", err)
	}
	return false, nil
}

// Check finds the credential of api whose secret this is. An unknown secret, or one of another
// API, is an apperr.KindUnauthenticated error.
func (s *Store) Check(ctx context.Context, api, secret string) (Credential, error) {
	c, err := s.Lookup(ctx, secret)
	if err != nil {
		return Credential{}, err
	}
	if c.API != api {
		return Credential{}, apperr.Unauthenticated("unknown credential")
	}
	return c, nil
}

// Delete deletes every credential of the given APIs.
func (s *Store) Delete(ctx context.Context, apis ...string) error {
	if err := s.db.WithContext(ctx).Where("api IN ?", apis).Delete(&Credential{}).Error; err != nil {
		return fmt.Errorf("delete credentials: %w", err)
	}
	return nil
}

// Lookup finds the credential whose secret this is, whatever its API: the control API tells a
// credential of another API (403) from an unknown one (401). An unknown secret is an
// apperr.KindUnauthenticated error.
func (s *Store) Lookup(ctx context.Context, secret string) (Credential, error) {
	h := hashOf(secret)
	var c Credential
	err := s.db.WithContext(ctx).Where("hash = ?", h).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Credential{}, apperr.Unauthenticated("unknown credential")
	}
	if err != nil {
		return Credential{}, store.Classify(err, "look up credential", nil, nil)
	}
	if subtle.ConstantTimeCompare([]byte(c.Hash), []byte(h)) != 1 {
		return Credential{}, apperr.Unauthenticated("unknown credential")
	}
	return c, nil
}

// Count is the number of credentials of api.
func (s *Store) Count(ctx context.Context, api string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Credential{}).Where("api = ?", api).Count(&n).Error
	return n, err
}

// Setting returns the value stored under key, creating it with make() when there is none yet.
// It is created under the start-up lock (store.WithStartupLock), so that instances starting
// together agree on one value: the first to take the lock creates it, the others find it.
func Setting(ctx context.Context, db *gorm.DB, key string, make func() (string, error)) (string, error) {
	var s setting
	err := db.WithContext(ctx).Where("name = ?", key).Take(&s).Error
	if err == nil {
		return s.Value, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	err = store.WithStartupLock(ctx, db, func(tx *gorm.DB) error {
		err := tx.Where("name = ?", key).Take(&s).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		v, err := make()
		if err != nil {
			return err
		}
		s = setting{Name: key, Value: v}
		return tx.Create(&s).Error
	})
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return s.Value, nil
}
