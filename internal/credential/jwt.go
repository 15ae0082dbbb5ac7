package credential

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
)

// Signer issues and checks HS256 JWTs scoped to one API by their audience.
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner returns a Signer with key whose tokens live for ttl. now is the clock (time.Now
// in production, a test clock in tests).
func NewSigner(key []byte, ttl time.Duration, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, ttl: ttl, now: now}
}

// TTL is how long an issued token lives.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Issue returns a token for subject, usable only with api. Each token carries an id of its own
// (jti), so that two tokens issued to one subject in the same second differ and one of them can
// be revoked alone.
func (s *Signer) Issue(api, subject string) (string, error) {
	now := s.now()
	id, err := NewSecret()
	if err != nil {
		return "", err
	}
	claims := jwt.RegisteredClaims{
		ID:        id,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{api},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
}

// Verify checks token's signature, algorithm, expiry and audience and returns its subject.
// Any failure is an apperr.KindUnauthenticated error.
func (s *Signer) Verify(api, token string) (string, error) {
	c, err := s.Claims(api, token)
	return c.Subject, err
}

// Claims are what a valid token says: whom it was issued to, its own id (empty in a token
// issued before tokens had one) and when it expires.
type Claims struct {
	Subject, ID string
	Expires     time.Time
}

// Claims checks token as Verify does and returns its claims.
func (s *Signer) Claims(api, token string) (Claims, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(api),
		jwt.WithTimeFunc(s.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, apperr.Unauthenticated("Expired JWT Token")
	case err != nil || claims.Subject == "":
		return Claims{}, apperr.Unauthenticated("Invalid JWT Token")
	}
	return Claims{Subject: claims.Subject, ID: claims.ID, Expires: claims.ExpiresAt.Time}, nil
}

// SigningKey returns the configured JWT secret, or the one kept in the database, generating and
// keeping one on first use so that tokens survive restarts and are shared by all instances.
func SigningKey(ctx context.Context, db *gorm.DB, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	v, err := Setting(ctx, db, "jwt_secret", NewSecret)
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	return []byte(v), nil
}
