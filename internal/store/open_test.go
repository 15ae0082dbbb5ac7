package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, which the SQLite dialector uses

	"github.com/provisiond/provisiond/internal/store"
)

// Opening a SQLite file that another process holds locked for longer than the dialector's default
// 5 s busy timeout (an instance starting at the same moment, running its migrations) waits up to
// the 10 s busy timeout that Open sets, also for the switch to WAL on its first connection.
func TestOpenWaitsForALockedSQLiteFile(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for 6 s")
	}
	path := filepath.Join(t.TempDir(), "db")
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE t (x INTEGER)", "BEGIN EXCLUSIVE"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	release := time.AfterFunc(6*time.Second, func() {
		_, _ = conn.ExecContext(ctx, "COMMIT")
		_ = conn.Close()
	})
	defer release.Stop()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("open while another connection holds the file for 6 s: %v, want it to wait for the lock", err)
	}
	_ = store.Close(db)
}
