package occ_test

import (
	"context"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/store"
)

// TestTokensRevoke: a revoked token is refused by every Tokens over the same table (another
// instance), the subject's other tokens are not; revoking twice is no error; revocations of
// expired tokens are deleted by the next revocation.
func TestTokensRevoke(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, err := store.Open(ctx, apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		if _, err := store.Migrate(ctx, db, []store.Migration{occ.RevocationsMigration("9901_test_revoked", "test_revoked")}); err != nil {
			t.Fatal(err)
		}
		clock := apitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		key := []byte("a-signing-key-of-at-least-32-bytes!!")
		tokens := func() *occ.Tokens {
			return occ.NewTokens("test", credential.NewSigner(key, time.Minute, clock.Now), occ.NewRevocations(db, "test_revoked", clock.Now))
		}
		a, b := tokens(), tokens()
		ended, err := a.Issue("s")
		if err != nil {
			t.Fatal(err)
		}
		kept, err := a.Issue("s")
		if err != nil {
			t.Fatal(err)
		}
		if ended.AccessToken == kept.AccessToken {
			t.Fatal("two tokens issued to one subject in the same instant are the same")
		}
		c, err := a.Check(ctx, ended.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := a.Revoke(ctx, c); err != nil {
				t.Fatalf("revoke: %v", err)
			}
		}
		for name, tk := range map[string]*occ.Tokens{"a": a, "b": b} {
			if _, err := tk.Check(ctx, ended.AccessToken); apperr.KindOf(err) != apperr.KindUnauthenticated {
				t.Errorf("instance %s: the revoked token checks as %v, want unauthenticated", name, err)
			}
			if _, err := tk.Check(ctx, kept.AccessToken); err != nil {
				t.Errorf("instance %s: the subject's other token: %v", name, err)
			}
		}

		// Past the revoked token's expiry, the next revocation deletes its row.
		clock.Advance(2 * time.Minute)
		fresh, err := a.Issue("s")
		if err != nil {
			t.Fatal(err)
		}
		fc, err := a.Check(ctx, fresh.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Revoke(ctx, fc); err != nil {
			t.Fatal(err)
		}
		var ids []string
		if err := db.Table("test_revoked").Order("id").Pluck("id", &ids).Error; err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 || ids[0] != fc.ID {
			t.Errorf("revocations kept %v, want only %s (the expired one deleted)", ids, fc.ID)
		}
	})
}
