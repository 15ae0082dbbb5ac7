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
	"sync"
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
	// LastUsedAt is when a request last presented it, to within usedEvery (nil: never).
	LastUsedAt *time.Time
}

// usedEvery is how stale a credential's LastUsedAt may get: a request that finds it older
// writes the time again, so that a busy credential costs one write per period, not per request.
const usedEvery = time.Minute

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
	type credentialV2 struct {
		LastUsedAt *time.Time
	}
	return []store.Migration{{
		ID: "0001_credentials_and_settings",
		Up: func(tx *gorm.DB) error {
			if err := tx.Table("credentials").Migrator().CreateTable(&credential{}); err != nil {
				return err
			}
			return tx.Table("settings").Migrator().CreateTable(&settingV1{})
		},
	}, {
		ID: "0002_credentials_last_used",
		Up: func(tx *gorm.DB) error {
			return tx.Table("credentials").Migrator().AddColumn(&credentialV2{}, "LastUsedAt")
		},
	}}
}

// Store reads and writes credentials.
type Store struct {
	db *gorm.DB
	// cache keeps verified credentials by hash (never by secret); nil in an uncached Store.
	cache *Cache[string, Credential]
	group *cacheGroup
}

// NewStore returns a Store over db that keeps nothing in memory: every check reads the
// database. Stores built on a transaction (fixtures, the start's bootstrap, the CLI) are of this
// kind; whoever changes credentials through one clears the server's caches (Invalidate) once
// the transaction is over.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// NewCachedStore returns a Store over db that keeps each credential it verified for ttl by the
// clock now, at most CacheSize of them; 0 keeps nothing, as NewStore. An unknown secret is never
// kept, so a credential created anywhere works at once. One is built per server and shared by
// every request; what it changes (Import, Create, Delete) is forgotten at once, and the caches
// made by CacheFor share its lifetime and are cleared with its own by Invalidate. Another
// instance's changes show within ttl.
func NewCachedStore(db *gorm.DB, ttl time.Duration, now func() time.Time) *Store {
	g := &cacheGroup{ttl: ttl, now: now}
	s := &Store{db: db, group: g, cache: NewCache[string, Credential](ttl, CacheSize, now)}
	g.add(s.cache.Clear)
	return s
}

// cacheGroup is the caches of one server: cleared together by Store.Invalidate.
type cacheGroup struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	clears []func()
}

func (g *cacheGroup) add(clear func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clears = append(g.clears, clear)
}

// CacheFor returns a cache with s's lifetime and bound, cleared with s's own by s.Invalidate:
// for what a request re-reads only to re-check a still-valid token (X-Cart's JWT subjects). Nil,
// which keeps nothing, for an uncached Store.
func CacheFor[K comparable, V any](s *Store) *Cache[K, V] {
	if s == nil || s.group == nil {
		return nil
	}
	c := NewCache[K, V](s.group.ttl, CacheSize, s.group.now)
	if c != nil {
		s.group.add(c.Clear)
	}
	return c
}

// Invalidate forgets every credential s keeps, and everything kept by the caches of CacheFor:
// called after the credentials or an API's data changed other than through s (a reset, a
// fixtures document applied), once that change has committed or rolled back.
func (s *Store) Invalidate() {
	if s == nil || s.group == nil {
		return
	}
	s.group.mu.Lock()
	clears := append([]func(){}, s.group.clears...)
	s.group.mu.Unlock()
	for _, clear := range clears {
		clear()
	}
}

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
	// Forgotten once the write is over, whatever its outcome: a read that raced it is not kept
	// (Cache.Put), and the next check reads the scope as written.
	defer s.cache.Delete(c.Hash)
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
	defer s.cache.Clear() // once the delete has committed: a cached Store is never on a transaction
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
	if c, ok := s.cache.Get(h); ok {
		return c, nil
	}
	t := s.cache.Ticket()
	c, err := s.lookup(ctx, h)
	if err == nil {
		s.cache.Put(t, h, c)
	}
	return c, err
}

// lookup reads the credential whose hash is h.
func (s *Store) lookup(ctx context.Context, h string) (Credential, error) {
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
	s.used(ctx, &c)
	return c, nil
}

// used records that c was presented now, when its LastUsedAt is older than usedEvery. A failure
// is not the request's: the credential is valid, and the next lookup tries again.
func (s *Store) used(ctx context.Context, c *Credential) {
	now := time.Now().UTC()
	if c.LastUsedAt != nil && now.Sub(*c.LastUsedAt) < usedEvery {
		return
	}
	res := s.db.WithContext(ctx).Model(&Credential{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", c.ID, now.Add(-usedEvery)).
		Update("last_used_at", now)
	if res.Error == nil && res.RowsAffected == 1 {
		c.LastUsedAt = &now
	}
}

// List is every credential, oldest first: never a secret, which is not stored.
func (s *Store) List(ctx context.Context) ([]Credential, error) {
	var cs []Credential
	if err := s.db.WithContext(ctx).Order("id").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return cs, nil
}

// Revoke deletes the credentials with the given ids and returns the ids it found none for. A
// server that caches verified credentials (NewCachedStore) accepts a revoked one for at most its
// cache's lifetime.
func (s *Store) Revoke(ctx context.Context, ids ...uint64) (missing []uint64, err error) {
	defer s.cache.Clear()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, id := range ids {
			res := tx.Where("id = ?", id).Delete(&Credential{})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				missing = append(missing, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("revoke credentials: %w", err)
	}
	return missing, nil
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
