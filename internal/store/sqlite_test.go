package store_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

// openSQLite opens a fresh SQLite database through Open, with one table of a unique column and a
// foreign key.
func openSQLite(t *testing.T) (db *gorm.DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "sub", "db")
	db, err := store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	for _, q := range []string{
		"CREATE TABLE parents (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL UNIQUE)",
		"CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id))",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	return db, path
}

// What Open sets on a SQLite connection is in force: the pragmas of its DSN, the folder it created
// for a sqlite: URL, and transactions that take the write lock when they begin.
func TestSQLiteConnectionSettings(t *testing.T) {
	db, _ := openSQLite(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000",
	} {
		var got string
		if err := db.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil || strings.ToLower(got) != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	var version string
	var major, minor int
	if err := db.Raw("SELECT sqlite_version()").Scan(&version).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil || major != 3 || minor < 50 {
		t.Errorf("sqlite_version() = %q, want 3.50 or later", version)
	}
}

// The driver's errors are classified as Classify and Outage expect: a unique-key violation is
// gorm.ErrDuplicatedKey, a foreign-key violation is not a duplicate, and a database locked past
// the busy timeout is unavailable (503), for a statement and for a transaction's BEGIN.
func TestSQLiteDriverErrors(t *testing.T) {
	db, path := openSQLite(t)
	ctx := context.Background()
	if err := db.Exec("INSERT INTO parents (k) VALUES ('a')").Error; err != nil {
		t.Fatal(err)
	}
	dup := apperr.Conflict("k", "taken", "taken")
	err := db.Exec("INSERT INTO parents (k) VALUES ('a')").Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) || store.Classify(err, "insert", dup, nil) != dup {
		t.Errorf("unique violation: %v, want gorm.ErrDuplicatedKey, classified as the duplicate", err)
	}
	err = store.Transaction(ctx, db, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO parents (id, k) VALUES (1, 'b')").Error
	})
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Errorf("primary-key violation in a transaction: %v, want gorm.ErrDuplicatedKey", err)
	}
	err = db.Exec("INSERT INTO children (parent_id) VALUES (42)").Error
	if err == nil || errors.Is(err, gorm.ErrDuplicatedKey) || store.Outage(err) {
		t.Errorf("foreign-key violation: %v, want an error that is neither a duplicate nor an outage", err)
	}

	// Another process holds the write lock; this connection waits 50 ms for it, not 10 s.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(ctx, "ROLLBACK") }()
	if err := db.Exec("PRAGMA busy_timeout = 50").Error; err != nil {
		t.Fatal(err)
	}
	err = db.Exec("INSERT INTO parents (k) VALUES ('c')").Error
	if !store.Outage(err) || apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("insert while another connection holds the write lock: %v (kind %v), want an outage, kind unavailable", err, apperr.KindOf(err))
	}
	err = store.Transaction(ctx, db, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO parents (k) VALUES ('c')").Error
	})
	if apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("transaction while another connection holds the write lock: %v (kind %v), want kind unavailable", err, apperr.KindOf(err))
	}
	var n int64
	if err := db.Raw("SELECT count(*) FROM parents").Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("read while another connection holds the write lock (WAL): %d, %v; want 1, nil", n, err)
	}
}

// Values keep their storage class and their exact value: strings are TEXT (a string of digits
// stays one, with its leading zero), byte slices BLOB, times TEXT in SQLite's format with their
// nanoseconds, read back as the same instant.
func TestSQLiteValues(t *testing.T) {
	db, _ := openSQLite(t)
	if err := db.Exec("CREATE TABLE vals (id INTEGER PRIMARY KEY, s TEXT, n NUMERIC, b BLOB, at DATETIME)").Error; err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 12, 34, 56, 789123456, time.UTC)
	if err := db.Exec("INSERT INTO vals (id, s, n, b, at) VALUES (1, ?, ?, ?, ?)", "0123", "0123", []byte{0, 1, 2}, at).Error; err != nil {
		t.Fatal(err)
	}
	var row struct {
		S, N, TS, TN, TB, TAt, AtHex string
		B                            []byte
		At                           time.Time
	}
	err := db.Raw(`SELECT s, CAST(n AS TEXT) AS n, b, at, typeof(s) AS ts, typeof(n) AS tn, typeof(b) AS tb,
		typeof(at) AS t_at, hex(at) AS at_hex FROM vals`).Scan(&row).Error
	if err != nil {
		t.Fatal(err)
	}
	if row.S != "0123" || row.TS != "text" || row.B == nil || string(row.B) != "\x00\x01\x02" || row.TB != "blob" {
		t.Errorf("text and blob: %+v, want s 0123 (text), b 00 01 02 (blob)", row)
	}
	if row.N != "123" || row.TN != "integer" {
		t.Errorf("NUMERIC affinity: %q (%s), want 123 (integer)", row.N, row.TN)
	}
	// hex: a text that looks like a time may be read back as a time.Time, whatever its format.
	const atText = "2026-11-30 12:34:56.789123456+00:00" // what the previous driver wrote too
	if row.TAt != "text" || row.AtHex != strings.ToUpper(hex.EncodeToString([]byte(atText))) || !row.At.Equal(at) {
		t.Errorf("time: hex %s (%s), read back as %v; want %q (text), %v", row.AtHex, row.TAt, row.At, atText, at)
	}
}

// BenchmarkSQLiteInsert measures single-row inserts through GORM on a SQLite database opened by
// Open (WAL, synchronous FULL: one fsync per commit), by 1, 2 and 16 goroutines sharing the one
// connection, each insert in its own transaction (Transaction) or grouped (Commit).
func BenchmarkSQLiteInsert(b *testing.B) {
	type benchRow struct {
		ID        int64  `gorm:"primaryKey"`
		Email     string `gorm:"uniqueIndex;not null"`
		Name      string
		CreatedAt time.Time
	}
	for _, c := range []struct {
		name    string
		workers int
		commit  func(context.Context, *gorm.DB, func(*gorm.DB) error) error
	}{
		{"transaction/goroutines=1", 1, store.Transaction}, {"transaction/goroutines=2", 2, store.Transaction},
		{"transaction/goroutines=16", 16, store.Transaction}, {"commit/goroutines=1", 1, store.Commit},
		{"commit/goroutines=2", 2, store.Commit}, {"commit/goroutines=16", 16, store.Commit},
	} {
		workers := c.workers
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "db"), store.Options{Timeout: 10 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = store.Close(db) })
			if err := db.Migrator().CreateTable(&benchRow{}); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						err := c.commit(ctx, db, func(tx *gorm.DB) error {
							return tx.Create(&benchRow{Email: fmt.Sprintf("u%d@example.com", i), Name: "n", CreatedAt: time.Now()}).Error
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
