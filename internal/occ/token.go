package occ

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/store"
)

// Token is the body of a successful login or refresh. Its fields are those of both OCC specs'
// AccessToken schema, in the generated structs' order, so that each API's handler converts it
// to its generated type.
type Token struct {
	AccessToken string
	ExpiresIn   int // seconds
	TokenType   string
}

// Tokens issues and checks the access tokens of one OCC API: JWTs whose audience is the API,
// so that a token of one API is refused by the other, and which a logout revokes.
type Tokens struct {
	api     string
	signer  *credential.Signer
	revoked *Revocations
}

// NewTokens returns the token issuer of api; revoked keeps the tokens logged out.
func NewTokens(api string, signer *credential.Signer, revoked *Revocations) *Tokens {
	return &Tokens{api: api, signer: signer, revoked: revoked}
}

// Issue returns a fresh access token for subject; every call a new one, even within a second.
func (t *Tokens) Issue(subject string) (Token, error) {
	s, err := t.signer.Issue(t.api, subject)
	if err != nil {
		return Token{}, apperr.Internal(err)
	}
	return Token{AccessToken: s, TokenType: "bearer", ExpiresIn: int(t.signer.TTL() / time.Second)}, nil
}

// errBadToken is the answer to a token that is not (or no longer) valid.
func errBadToken() error {
	return apperr.Unauthenticated("The access token is invalid or has expired.")
}

// Check returns the claims of a valid, unexpired access token of this API that was not logged
// out. A token that is not is an apperr.KindUnauthenticated error.
func (t *Tokens) Check(ctx context.Context, token string) (credential.Claims, error) {
	c, err := t.signer.Claims(t.api, token)
	if err != nil {
		return credential.Claims{}, errBadToken()
	}
	out, err := t.revoked.Has(ctx, c.ID)
	if err != nil {
		return credential.Claims{}, err
	}
	if out {
		return credential.Claims{}, errBadToken()
	}
	return c, nil
}

// Revoke ends the token whose claims are c (a logout): every instance refuses it from now on,
// while the subject's other tokens keep working.
func (t *Tokens) Revoke(ctx context.Context, c credential.Claims) error {
	return t.revoked.Add(ctx, c.ID, c.Expires)
}

// ErrNoToken is the error of a request without a bearer token.
func ErrNoToken() error {
	return &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "missing", Message: "This request requires an access token."}
}

// revokedRow is a logged-out token: its id until it expires (after which its signature check
// refuses it anyway, and the row is deleted).
type revokedRow struct {
	ID        string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

// Revocations keep the ids of logged-out tokens of one API in the database table of that API, so
// that every instance sharing the database refuses them.
type Revocations struct {
	db    *gorm.DB
	table string
	now   func() time.Time
}

// NewRevocations returns the revocations kept in table (made by RevocationsMigration).
func NewRevocations(db *gorm.DB, table string, now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{db: db, table: table, now: now}
}

// Add revokes the token id until expires, and deletes the revocations of tokens expired since,
// in one transaction. Revoking a token twice is no error.
func (r *Revocations) Add(ctx context.Context, id string, expires time.Time) error {
	err := store.Commit(ctx, r.db, func(tx *gorm.DB) error {
		if err := tx.Table(r.table).Where("expires_at < ?", r.now().UTC()).Delete(&revokedRow{}).Error; err != nil {
			return err
		}
		return tx.Table(r.table).Clauses(clause.OnConflict{DoNothing: true}).Create(&revokedRow{ID: id, ExpiresAt: expires.UTC()}).Error
	})
	if err != nil {
		return store.Classify(err, "revoke token", nil, nil)
	}
	return nil
}

// Has reports whether the token id was revoked. A token without an id cannot have been.
func (r *Revocations) Has(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var n int64
	if err := r.db.WithContext(ctx).Table(r.table).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, store.Classify(err, "read revoked token", nil, nil)
	}
	return n > 0, nil
}

// RevocationsMigration creates table, the revoked tokens of one API.
func RevocationsMigration(id, table string) store.Migration {
	type revokedV1 struct {
		ID        string    `gorm:"primaryKey"`
		ExpiresAt time.Time `gorm:"not null"`
	}
	return store.Migration{ID: id, Up: func(tx *gorm.DB) error {
		if err := tx.Table(table).Migrator().CreateTable(&revokedV1{}); err != nil {
			return err
		}
		// Add deletes the expired revocations by this index.
		return tx.Exec("CREATE INDEX idx_" + table + "_expires_at ON " + table + " (expires_at)").Error
	}}
}
