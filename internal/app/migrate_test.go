package app_test

import (
	"context"
	"slices"
	"strings"
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

// TestEveryTableHasItsAPIsPrefix checks that every table the migrations make belongs to one API
// by its name's prefix (module.API.Tables), or is one of the program's own: a reset finds an
// API's tables by that prefix, so a table without it would keep its rows through a reset.
func TestEveryTableHasItsAPIsPrefix(t *testing.T) {
	own := []string{"credentials", "settings", "schema_migrations", "sqlite_sequence"}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{})
		tables, err := s.DB.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		var prefixes []string
		for _, m := range app.Modules {
			prefixes = append(prefixes, m.Tables())
		}
		for _, table := range tables {
			if slices.Contains(own, table) {
				continue
			}
			var apis []string
			for i, p := range prefixes {
				if strings.HasPrefix(table, p) {
					apis = append(apis, app.Modules[i].Name)
				}
			}
			if len(apis) != 1 {
				t.Errorf("table %s belongs to %d APIs by its prefix (%v), want exactly one", table, len(apis), apis)
			}
		}
	})
}
