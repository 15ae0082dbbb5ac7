package credential_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/credential"
)

// A credential's last use is recorded when a request presents it, once a minute at most, and
// List shows it; Revoke deletes by id, says which ids it did not find, and the secret is refused.
func TestListAndRevoke(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, _ := credDB(t, dialect)
		s := credential.NewStore(db)
		used, err := s.Create(ctx, "xcart", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, "occadmin", true); err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].API != "xcart" || list[1].API != "occadmin" || !list[1].ReadOnly || list[0].LastUsedAt != nil {
			t.Fatalf("List before any use: %+v, want xcart then read-only occadmin, never used", list)
		}

		before := time.Now().Add(-time.Second)
		first := mustCheck(t, s, "xcart", used)
		if first.LastUsedAt == nil || first.LastUsedAt.Before(before) {
			t.Fatalf("Check: LastUsedAt %v, want now", first.LastUsedAt)
		}
		// Used again within the minute, many times at once: the time stays the first one's.
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() { mustCheck(t, s, "xcart", used) })
		}
		wg.Wait()
		list, err = s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// (PostgreSQL keeps microseconds.)
		if got := list[0].LastUsedAt; got == nil || got.Sub(*first.LastUsedAt).Abs() >= time.Microsecond {
			t.Errorf("LastUsedAt after uses within the minute: %v, want the first use's %v", got, first.LastUsedAt)
		}
		if list[1].LastUsedAt != nil {
			t.Errorf("the unused credential's LastUsedAt: %v, want none", list[1].LastUsedAt)
		}

		missing, err := s.Revoke(ctx, list[0].ID, 999)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(missing, []uint64{999}) {
			t.Errorf("Revoke(%d, 999): missing %v, want [999]", list[0].ID, missing)
		}
		mustFail(t, s, "xcart", used, "revoked")
		if list, err = s.List(ctx); err != nil || len(list) != 1 || list[0].API != "occadmin" {
			t.Errorf("List after the revoke: %+v %v, want the occadmin credential only", list, err)
		}
	})
}

// Revokes of one credential at once: exactly one finds it, the others say it is missing, and it
// is gone.
func TestRevokeRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, _ := credDB(t, dialect)
		s := credential.NewStore(db)
		for round := range apitest.RaceRounds(t) {
			secret, err := s.Create(ctx, "xcart", false)
			if err != nil {
				t.Fatal(err)
			}
			id := mustCheck(t, s, "xcart", secret).ID
			missing := apitest.Concurrently(4, func(int) []uint64 {
				m, err := s.Revoke(ctx, id)
				if err != nil {
					t.Errorf("round %d: Revoke: %v", round, err)
				}
				return m
			})
			found := 0
			for _, m := range missing {
				if len(m) == 0 {
					found++
				}
			}
			if found != 1 {
				t.Errorf("round %d: %d of 4 concurrent revokes found credential %d, want 1", round, found, id)
			}
			mustFail(t, s, "xcart", secret, "revoked")
		}
	})
}
