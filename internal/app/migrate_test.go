package app_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/store"
)

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	var want []string
	for _, m := range app.Migrations() {
		want = append(want, m.ID)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := apitest.DatabaseURL(t, dialect)
		// Several instances starting at once on one database: each migration runs exactly once.
		var (
			mu      sync.Mutex
			applied []string
			wg      sync.WaitGroup
		)
		for range 3 {
			wg.Go(func() {
				db, err := store.Open(ctx, url, store.Options{MaxConns: 2})
				if err != nil {
					t.Error(err)
					return
				}
				defer store.Close(db)
				ids, err := store.Migrate(ctx, db, app.Migrations())
				if err != nil {
					t.Errorf("migrate: %v", err)
				}
				mu.Lock()
				applied = append(applied, ids...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(applied)
		sorted := slices.Sorted(slices.Values(want))
		if !slices.Equal(applied, sorted) {
			t.Errorf("applied %v, want each of %v once", applied, sorted)
		}
		db, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close(db)
		var recorded []string
		if err := db.Table("schema_migrations").Order("id").Pluck("id", &recorded).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recorded, sorted) {
			t.Errorf("recorded history %v, want %v", recorded, sorted)
		}
		if pending, err := store.Pending(ctx, db, app.Migrations()); err != nil || len(pending) != 0 {
			t.Errorf("pending after migrate: %v %v", pending, err)
		}
		for _, table := range []string{"credentials", "settings", "xcart_profiles", "xcart_memberships", "xcart_roles"} {
			if !db.Migrator().HasTable(table) {
				t.Errorf("table %s missing", table)
			}
		}
	})
}

func TestServeRefusesPendingMigrationsWithoutAutoMigrate(t *testing.T) {
	ctx := context.Background()
	url := apitest.DatabaseURL(t, "sqlite")
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(db)
	cfg := configFor(url)
	cfg.AutoMigrate = false
	if err := app.Prepare(ctx, cfg, db, discard()); err == nil {
		t.Errorf("Prepare without migrations applied and auto-migrate off: nil, want an error")
	}
}
