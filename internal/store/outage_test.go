package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

type sqliteErr int

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteErr) Code() int     { return int(e) }

func TestOutage(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("failed to connect: %w", refused), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"pgx connect error", &pgconn.ConnectError{}, true},
		{"pgx closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"server closed the connection", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"bad connection", driver.ErrBadConn, true},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"disk full", &pgconn.PgError{Code: "53100"}, true},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, true},
		{"sqlite busy", sqliteErr(5), true},
		{"sqlite busy snapshot (extended)", sqliteErr(5 | 2<<8), true},
		{"sqlite disk I/O", sqliteErr(10), true},
		{"sqlite full", sqliteErr(13), true},
		{"client canceled", fmt.Errorf("query: %w", context.Canceled), false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"sqlite constraint", sqliteErr(19), false},
		{"not found", gorm.ErrRecordNotFound, false},
		{"other", errors.New("something else"), false},
	} {
		if got := store.Outage(c.err); got != c.want {
			t.Errorf("%s: Outage(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
		if got := store.Classify(c.err, "doing", nil, nil); c.want && apperr.KindOf(got) != apperr.KindUnavailable {
			t.Errorf("%s: Classify(%v) = %v, want kind unavailable", c.name, c.err, got)
		}
	}
}

// slowQuery is a statement of dialect that runs far longer than any test: it must be cut off by
// the deadline.
func slowQuery(dialect string) string {
	if dialect == "postgres" {
		return "SELECT pg_sleep(600)"
	}
	return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000) SELECT count(*) FROM c"
}

// A database call that does not return within the configured timeout fails as unavailable, on
// its own and inside a transaction, and the pool serves the next call.
func TestDeadline(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, err := store.Open(ctx, apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 2, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		if got := store.Timeout(db); got != 300*time.Millisecond {
			t.Errorf("Timeout(db) = %v, want 300ms", got)
		}
		err = db.WithContext(ctx).Exec(slowQuery(dialect)).Error
		if apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("slow statement: error %v (kind %v), want kind unavailable", err, apperr.KindOf(err))
		}
		err = store.Transaction(ctx, db, func(tx *gorm.DB) error {
			return tx.Exec(slowQuery(dialect)).Error
		})
		if apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("slow transaction: error %v (kind %v), want kind unavailable", err, apperr.KindOf(err))
		}
		var one int
		if err := db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
			t.Errorf("after the deadlines: SELECT 1 = %d, %v; want 1, nil", one, err)
		}
	})
}

// With no timeout configured, nothing is cut off.
func TestNoDeadline(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	if got := store.Timeout(db); got != 0 {
		t.Errorf("Timeout(db) = %v, want 0", got)
	}
	var n int64
	q := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT count(*) FROM c"
	if err := db.Raw(q).Scan(&n).Error; err != nil || n != 20000 {
		t.Errorf("count = %d, %v; want 20000, nil", n, err)
	}
}

// The calls of one scope (one request) share one deadline: once a slow call has used it up, the
// next call of the scope fails at once, however fast, while calls outside the scope still run.
func TestScopeSharesTheDeadline(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		db, err := store.Open(context.Background(), apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 2, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		ctx, release := store.Scope(context.Background(), time.Time{})
		defer release()
		if err := db.WithContext(ctx).Exec(slowQuery(dialect)).Error; apperr.KindOf(err) != apperr.KindUnavailable {
			t.Fatalf("slow statement: error %v, want kind unavailable", err)
		}
		if err := db.WithContext(ctx).Exec("SELECT 1").Error; apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("SELECT 1 in the spent scope: error %v, want kind unavailable", err)
		}
		err = store.Transaction(ctx, db, func(tx *gorm.DB) error { return tx.Exec("SELECT 1").Error })
		if apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("transaction in the spent scope: error %v, want kind unavailable", err)
		}
		if err := db.WithContext(context.Background()).Exec("SELECT 1").Error; err != nil {
			t.Errorf("SELECT 1 outside the scope: %v, want nil", err)
		}
	})
}

// Work marked Unbounded (a start under the start-up lock) is not cut off by the database timeout.
func TestUnboundedHasNoDeadline(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"), store.Options{MaxConns: 1, Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	err = store.WithStartupLock(context.Background(), db, func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE t (x INTEGER)").Error
	})
	if err != nil {
		t.Errorf("under the start-up lock with a 1 ns database timeout: %v, want nil", err)
	}
	if err := db.Exec("INSERT INTO t VALUES (1)").Error; apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("outside it: %v, want kind unavailable (the 1 ns deadline)", err)
	}
}

type owner struct {
	ID int64
	K  string
}

func (owner) TableName() string { return "owners" }

// Free: a key held by another row is taken, one held by self alone or by nobody is free.
func TestFree(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db, err := store.Open(ctx, apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		if err := db.Exec("CREATE TABLE owners (id INTEGER PRIMARY KEY, k TEXT NOT NULL)").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO owners (id, k) VALUES (1, 'a'), (2, 'b')").Error; err != nil {
			t.Fatal(err)
		}
		taken := apperr.Conflict("k", "taken", "taken")
		for _, c := range []struct {
			key  string
			self int64
			want error
		}{{"a", 0, taken}, {"a", 2, taken}, {"a", 1, nil}, {"c", 0, nil}} {
			if got := store.Free(ctx, db, &owner{}, "k", c.key, c.self, taken); got != c.want {
				t.Errorf("Free(%q, self %d) = %v, want %v", c.key, c.self, got, c.want)
			}
		}
	})
}

// The first write of a scope gets a whole database timeout of its own, not what the reads before
// it left: a request that read, then waited (for a password-hashing slot), then writes must not
// have its write cut short, since a write interrupted by a deadline may have committed on the
// server with its answer lost. PostgreSQL only: the write is made slow with pg_sleep.
func TestScopeGivesTheFirstWriteAWholeTimeout(t *testing.T) {
	apitest.RequirePostgres(t) // the write is made slow with pg_sleep
	db, err := store.Open(context.Background(), apitest.DatabaseURL(t, "postgres"), store.Options{MaxConns: 2, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	ctx, release := store.Scope(context.Background(), time.Time{})
	defer release()
	var one int
	if err := db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond) // most of the reads' deadline goes by
	if err := db.WithContext(ctx).Exec("SELECT pg_sleep(0.5)").Error; err != nil {
		t.Errorf("a 0.5 s write 0.8 s into a 1 s scope: %v, want nil (the write's own timeout)", err)
	}
}
