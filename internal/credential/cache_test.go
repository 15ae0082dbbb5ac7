package credential_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/store"
)

func TestCacheExpiresAndBounds(t *testing.T) {
	clock := apitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := credential.NewCache[string, int](time.Second, 3, clock.Now)
	c.Put(c.Ticket(), "a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %v, %v; want 1, true", v, ok)
	}
	clock.Advance(time.Second)
	if _, ok := c.Get("a"); ok {
		t.Error("an entry is kept past its lifetime")
	}
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		c.Put(c.Ticket(), k, i)
	}
	if n := c.Len(); n != 3 {
		t.Errorf("a cache of 3 holds %d entries", n)
	}
	if v, ok := c.Get("e"); !ok || v != 4 {
		t.Errorf("the last entry put: %v, %v", v, ok)
	}
}

func TestCacheDropsAReadThatRacedAnInvalidation(t *testing.T) {
	c := credential.NewCache[string, int](time.Minute, 10, nil)
	for name, invalidate := range map[string]func(){"Delete": func() { c.Delete("other") }, "Clear": c.Clear} {
		ticket := c.Ticket() // a read starts
		invalidate()         // a write commits and invalidates
		c.Put(ticket, "k", 1)
		if _, ok := c.Get("k"); ok {
			t.Errorf("%s: a value read before the invalidation is kept after it", name)
		}
	}
}

func TestCacheOff(t *testing.T) {
	for _, c := range []*credential.Cache[string, int]{credential.NewCache[string, int](0, 10, nil), credential.NewCache[string, int](time.Second, 0, nil)} {
		c.Put(c.Ticket(), "k", 1)
		c.Delete("k")
		c.Clear()
		if _, ok := c.Get("k"); ok {
			t.Error("a cache that is off kept an entry")
		}
	}
}

// credDB is a migrated database of dialect whose reads of the credentials table are counted.
func credDB(t *testing.T, dialect string) (*gorm.DB, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	if _, err := store.Migrate(ctx, db, credential.Migrations()); err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	err = db.Callback().Query().Before("gorm:query").Register("test:count", func(tx *gorm.DB) {
		if tx.Statement.Table == "credentials" {
			reads.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, &reads
}

func mustCheck(t *testing.T, s *credential.Store, api, secret string) credential.Credential {
	t.Helper()
	c, err := s.Check(context.Background(), api, secret)
	if err != nil {
		t.Fatalf("Check(%s): %v", api, err)
	}
	return c
}

func mustFail(t *testing.T, s *credential.Store, api, secret, why string) {
	t.Helper()
	if _, err := s.Check(context.Background(), api, secret); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Fatalf("%s: Check(%s) = %v, want unauthenticated", why, api, err)
	}
}

func TestCachedStore(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, reads := credDB(t, dialect)
		clock := apitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		s := credential.NewCachedStore(db, 5*time.Second, clock.Now)
		secret, err := s.Create(ctx, "xcart", false)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("a hit reads nothing", func(t *testing.T) {
			mustCheck(t, s, "xcart", secret)
			before := reads.Load()
			for range 5 {
				mustCheck(t, s, "xcart", secret)
				if _, err := s.Lookup(ctx, secret); err != nil {
					t.Fatal(err)
				}
			}
			mustFail(t, s, "occadmin", secret, "a credential of another API, kept")
			if n := reads.Load() - before; n != 0 {
				t.Errorf("checks of a kept credential read the database %d times", n)
			}
			// Served while the database cannot be reached (here: a context that is over).
			down, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Check(down, "xcart", secret); err != nil {
				t.Errorf("a kept credential while the database cannot be reached: %v", err)
			}
		})

		t.Run("an expired entry is read again", func(t *testing.T) {
			mustCheck(t, s, "xcart", secret)
			before := reads.Load()
			clock.Advance(5 * time.Second)
			mustCheck(t, s, "xcart", secret)
			mustCheck(t, s, "xcart", secret)
			if n := reads.Load() - before; n != 1 {
				t.Errorf("after the lifetime, two checks read the database %d times, want 1", n)
			}
		})

		t.Run("an unknown secret is never kept", func(t *testing.T) {
			unknown := "an-unknown-secret-of-enough-length"
			mustFail(t, s, "xcart", unknown, "unknown")
			if _, err := s.Import(ctx, "xcart", unknown, false); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "xcart", unknown)
			// Imported by another store (another instance): works at once too.
			other := "another-secret-imported-elsewhere"
			mustFail(t, s, "xcart", other, "unknown")
			if _, err := credential.NewStore(db).Import(ctx, "xcart", other, false); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "xcart", other)
		})

		t.Run("Import changes the scope at once", func(t *testing.T) {
			if c := mustCheck(t, s, "xcart", secret); c.ReadOnly {
				t.Fatal("read-only before the change")
			}
			if _, err := s.Import(ctx, "xcart", secret, true); err != nil {
				t.Fatal(err)
			}
			if c := mustCheck(t, s, "xcart", secret); !c.ReadOnly {
				t.Error("the scope changed by Import is not seen at once")
			}
			if _, err := s.Import(ctx, "occadmin", secret, false); err != nil {
				t.Fatal(err)
			}
			mustFail(t, s, "xcart", secret, "moved to another API by Import")
			mustCheck(t, s, "occadmin", secret)
			if _, err := s.Import(ctx, "xcart", secret, false); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("a rolled-back Delete leaves the credential usable", func(t *testing.T) {
			mustCheck(t, s, "xcart", secret)
			rollback := errors.New("roll back")
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := credential.NewStore(tx).Delete(ctx, "xcart"); err != nil {
					return err
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatal(err)
			}
			s.Invalidate() // what the control API does after a reset, committed or not
			mustCheck(t, s, "xcart", secret)
		})

		t.Run("Delete, and a committed Delete in a transaction, refuse at once", func(t *testing.T) {
			mustCheck(t, s, "xcart", secret)
			if err := s.Delete(ctx, "xcart"); err != nil {
				t.Fatal(err)
			}
			mustFail(t, s, "xcart", secret, "deleted by this store")

			kept, err := s.Create(ctx, "platformos", false)
			if err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "platformos", kept)
			err = db.Transaction(func(tx *gorm.DB) error { return credential.NewStore(tx).Delete(ctx, "platformos") })
			if err != nil {
				t.Fatal(err)
			}
			s.Invalidate()
			mustFail(t, s, "platformos", kept, "deleted in a committed transaction, then invalidated")
		})

		t.Run("a revocation elsewhere shows within the lifetime", func(t *testing.T) {
			secret, err := s.Create(ctx, "activeplatform", false)
			if err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "activeplatform", secret)
			if err := credential.NewStore(db).Delete(ctx, "activeplatform"); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "activeplatform", secret) // kept: the point of the cache
			clock.Advance(5 * time.Second)
			mustFail(t, s, "activeplatform", secret, "revoked elsewhere, past the lifetime")
		})

		t.Run("a failed read is never kept", func(t *testing.T) {
			secret, err := s.Create(ctx, "xcart", false)
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Check(cctx, "xcart", secret); err == nil {
				t.Fatal("a check with a cancelled context succeeded without a kept entry")
			}
			before := reads.Load()
			mustCheck(t, s, "xcart", secret)
			if n := reads.Load() - before; n != 1 {
				t.Errorf("the check after a failed one read the database %d times, want 1", n)
			}
		})

		t.Run("a TTL of 0 reads every time", func(t *testing.T) {
			off := credential.NewCachedStore(db, 0, clock.Now)
			secret, err := off.Create(ctx, "xcart", false)
			if err != nil {
				t.Fatal(err)
			}
			before := reads.Load()
			mustCheck(t, off, "xcart", secret)
			mustCheck(t, off, "xcart", secret)
			if n := reads.Load() - before; n != 2 {
				t.Errorf("two checks without a cache read the database %d times, want 2", n)
			}
			if credential.CacheFor[int, struct{}](off) != nil {
				t.Error("CacheFor of a store without a cache keeps something")
			}
		})
	})
}

// TestCachedStoreRace checks concurrently while credentials are deleted and imported: run
// with -race. Once a Delete has returned, no check on this store accepts the deleted secret.
func TestCachedStoreRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, _ := credDB(t, dialect)
		s := credential.NewCachedStore(db, time.Minute, nil)
		const secret = "a-secret-that-comes-and-goes"
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := s.Check(ctx, "xcart", secret)
					if err != nil && apperr.KindOf(err) != apperr.KindUnauthenticated {
						t.Error(err)
						return
					}
				}
			})
		}
		for range 20 {
			if _, err := s.Import(ctx, "xcart", secret, false); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, s, "xcart", secret)
			if err := s.Delete(ctx, "xcart"); err != nil {
				t.Fatal(err)
			}
			mustFail(t, s, "xcart", secret, "deleted while others check")
		}
		close(stop)
		wg.Wait()
	})
}
