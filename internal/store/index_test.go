package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/store"
)

// searchMigrations create a table with a text column and its trigram and prefix indexes.
var searchMigrations = []store.Migration{{
	ID: "t1_table",
	Up: func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE keys (id INTEGER PRIMARY KEY, k TEXT NOT NULL)").Error
	},
}, {
	ID: "t2_indexes",
	Up: func(tx *gorm.DB) error {
		if err := store.TrigramIndex(tx, "idx_keys_k_trgm", "keys", "k"); err != nil {
			return err
		}
		return store.PrefixIndex(tx, "idx_keys_k_prefix", "keys", "k")
	},
}}

func indexes(t *testing.T, db *gorm.DB) string {
	t.Helper()
	var names []string
	q := "SELECT indexname FROM pg_indexes WHERE tablename = 'keys' ORDER BY indexname"
	if db.Name() != "postgres" {
		q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'keys' ORDER BY name"
	}
	if err := db.Raw(q).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, " ")
}

// TestSearchIndexesSQLite: on SQLite the trigram index is left out, silently, and the prefix
// index is made.
func TestSearchIndexesSQLite(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir()+"/t.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(db)
	if _, err := store.Migrate(context.Background(), db, searchMigrations); err != nil {
		t.Fatal(err)
	}
	if got := indexes(t, db); got != "idx_keys_k_prefix" {
		t.Errorf("indexes %q, want idx_keys_k_prefix", got)
	}
}

// TestTrigramIndexWithoutPrivilege migrates, on a fresh PostgreSQL database without pg_trgm, as
// a role that may not create it: the migrations succeed, with a warning, and without the
// trigram index. As the database's owner, they create pg_trgm and the index.
func TestTrigramIndexWithoutPrivilege(t *testing.T) {
	apitest.RequirePostgres(t)
	base := os.Getenv(apitest.EnvDatabaseURL)
	ctx := context.Background()
	admin, err := store.Open(ctx, base, store.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(admin)
	suffix := strings.ToLower(rand.Text())[:12]
	for _, c := range []struct {
		name  string
		owner bool
		want  string
	}{
		{"not owner", false, "idx_keys_k_prefix keys_pkey"},
		{"owner", true, "idx_keys_k_prefix idx_keys_k_trgm keys_pkey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			role, dbName := "r_"+suffix+"_"+map[bool]string{false: "user", true: "owner"}[c.owner], "d_"+suffix+map[bool]string{false: "u", true: "o"}[c.owner]
			run := func(db *gorm.DB, sql string) {
				t.Helper()
				if err := db.Exec(sql).Error; err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			if err := admin.Exec("CREATE ROLE " + role + " LOGIN").Error; err != nil {
				t.Skipf("the test database's user cannot create a role: %v", err)
			}
			t.Cleanup(func() { _ = admin.Exec("DROP ROLE IF EXISTS " + role).Error })
			create := "CREATE DATABASE " + dbName
			if c.owner {
				create += " OWNER " + role
			}
			run(admin, create)
			t.Cleanup(func() { _ = admin.Exec("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)").Error })
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			u.Path = "/" + dbName
			q := u.Query()
			q.Del("search_path")
			u.RawQuery = q.Encode()
			super, err := store.Open(ctx, u.String(), store.Options{MaxConns: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close(super)
			run(super, "GRANT CREATE ON SCHEMA public TO "+role)
			u.User = url.User(role)
			db, err := store.Open(ctx, u.String(), store.Options{MaxConns: 1})
			if err != nil {
				t.Skipf("cannot connect as a new role without a password: %v", err)
			}
			defer store.Close(db)

			var logs bytes.Buffer
			defer slog.SetDefault(slog.Default())
			slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
			if _, err := store.Migrate(ctx, db, searchMigrations); err != nil {
				t.Fatal(err)
			}
			if got := indexes(t, db); got != c.want {
				t.Errorf("indexes %q, want %q", got, c.want)
			}
			if warned := strings.Contains(logs.String(), "level=WARN msg=\"pg_trgm cannot be created"); warned == c.owner {
				t.Errorf("warned %v, want %v: %s", warned, !c.owner, logs.String())
			}
		})
	}
}
