// Package store opens provisiond's database (SQLite or PostgreSQL, chosen by the URL), runs the
// versioned migrations, and holds the helpers every API's store shares.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/provisiond/provisiond/internal/apperr"
)

// Options tune the connection pool.
type Options struct {
	// MaxConns is the PostgreSQL pool size, used for both open and idle connections so that
	// connections are not churned under load. On SQLite it is the size of the pool that serves
	// the reads made outside a transaction; every write and transaction has one connection of
	// its own (see Open).
	MaxConns int
	// Timeout is the deadline of every database call and of every transaction as a whole (0:
	// none), so that a frozen database answers 503 instead of holding requests.
	Timeout time.Duration
}

// IsPostgres reports whether url selects PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to the database that url names: postgres:// or postgresql:// for PostgreSQL;
// otherwise a SQLite file, given as a path or as sqlite:PATH (its folder is created).
func Open(ctx context.Context, url string, opts Options) (*gorm.DB, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		// GORM's logger prints SQL with its arguments, which are submitted values; provisiond
		// logs failures itself, with the request id and without values.
		Logger:  logger.Discard,
		NowFunc: func() time.Time { return time.Now().UTC() },
	}
	var (
		db  *gorm.DB
		err error
	)
	maxConns := opts.MaxConns
	var dsn string
	if IsPostgres(url) {
		db, err = gorm.Open(postgres.Open(url), cfg)
	} else {
		dsn, err = sqliteDSN(url)
		if err == nil {
			db, err = openSQLite(ctx, dsn, cfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if db.Name() == "sqlite" {
		// One connection for the writes: SQLite has one writer at a time anyway, and a single
		// connection makes concurrent writes queue in Go (and share commits: groupCommits)
		// instead of failing or spinning on the busy timeout. The reads made outside a
		// transaction have a pool of their own, so that they need not wait for a write's fsync.
		if err := useReadPool(ctx, db, dsn, maxConns); err != nil {
			_ = Close(db)
			return nil, fmt.Errorf("open database: %w", err)
		}
		maxConns = 1
	}
	if err := db.Use(deadlines{timeout: opts.Timeout}); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if db.Name() == "sqlite" {
		if err := db.Use(&groupCommits{}); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if maxConns < 1 {
		maxConns = 1
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(10 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// openSQLite opens the SQLite database of dsn. Instances opening one new file at the same moment
// take turns for its switch to WAL; SQLite answers SQLITE_BUSY there at once, without its busy
// handler (the busy_timeout), when another connection holds the lock the switch needs, so the open
// is tried again for as long as a statement would wait, the busy timeout.
func openSQLite(ctx context.Context, dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		db, err := gorm.Open(sqlite.Open(dsn), cfg)
		var lite interface{ Code() int }
		if err == nil || !errors.As(err, &lite) || lite.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a lock another connection holds.
const sqliteBusy = 5

// sqliteBusyTimeout is how long a statement waits for another connection's lock (busy_timeout).
const sqliteBusyTimeout = 10 * time.Second

func sqliteDSN(url string) (string, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "sqlite:")
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		return "", errors.New("open database: empty SQLite path")
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return "", fmt.Errorf("create database folder: %w", err)
		}
	}
	// The driver is modernc.org/sqlite (pure Go, no cgo), through the GORM dialector
	// github.com/libtnb/sqlite; both read the _pragma and _txlock parameters.
	// busy_timeout first: the switch to WAL on a connection's first use needs the file's lock
	// too, and must wait for another process holding it (an instance starting at the same moment)
	// as long as every later statement would, not the dialector's default 5 s. (The driver runs a
	// busy_timeout pragma before the others wherever it stands; it stays first here all the same.)
	// synchronous(FULL): a write is on disk before it is acknowledged, even across a power cut
	// (NORMAL, the usual WAL companion, may lose the last commits then).
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	if query != "" {
		pragmas += "&" + query
	}
	return path + "?" + pragmas, nil
}

// Close closes the database's connections.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return errors.Join(closeReadPool(db, sqlDB), sqlDB.Close())
}

// Ping checks that the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// ForUpdate locks the rows the query reads until the transaction ends. PostgreSQL needs the
// lock to serialize read-then-write rules across concurrent transactions; SQLite has no row locks
// and needs none, since its transactions take the single write lock when they begin.
func ForUpdate(tx *gorm.DB) *gorm.DB {
	if tx.Name() == "postgres" {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return tx
}

// Modify is the read-modify-write of every update: inside tx, it reads the row of R whose primary
// key is id, locking it first (ForUpdate), lets change alter it, and writes every column back but
// omit (the primary key and the columns no update may touch). Since a concurrent update of the
// same row reads it only after tx ends, no acknowledged change can be lost between the read and the
// write; the same field changed by two updates holds the value of the one committed last. change
// may read and write through tx, never through the database handle: on SQLite, whose single
// connection tx holds, that would wait for ever. A missing row is gorm.ErrRecordNotFound.
func Modify[R any](tx *gorm.DB, id any, change func(row *R) error, omit ...string) error {
	var row R
	if err := ForUpdate(tx).Take(&row, id).Error; err != nil {
		return err
	}
	if err := change(&row); err != nil {
		return err
	}
	return tx.Model(&row).Select("*").Omit(omit...).Updates(&row).Error
}

// Update is the whole update of an API's record: in one Commit (a transaction of its own; on
// SQLite, a share of one), Modify the row of R with id, decoded into the value T the API's
// service works with, changed by change, encoded back. It returns the value as written. Lift makes an infallible conversion fit decode or encode.
func Update[R, T any](ctx context.Context, db *gorm.DB, id any, decode func(R) (T, error), encode func(*T) (R, error),
	change func(*T) error, omit ...string) (T, error) {
	var v T
	err := Commit(ctx, db, func(tx *gorm.DB) error {
		return Modify(tx, id, func(row *R) error {
			var err error
			if v, err = decode(*row); err != nil {
				return err
			}
			if err := change(&v); err != nil {
				return err
			}
			*row, err = encode(&v)
			return err
		}, omit...)
	})
	return v, err
}

// Lift makes a conversion that cannot fail fit Update.
func Lift[A, B any](f func(A) B) func(A) (B, error) {
	return func(a A) (B, error) { return f(a), nil }
}

// Classify turns the error of a database call into an apperr error, once, where it arises: a
// unique-key violation becomes dup and a missing row missing (a nil one leaves that case to the
// last rule), an apperr error passes unchanged, a failing database (Outage) is unavailable, and
// anything else is an internal error saying
// what was being done. Call it only with a non-nil err.
func Classify(err error, doing string, dup, missing error) error {
	var ae *apperr.Error
	switch {
	case dup != nil && errors.Is(err, gorm.ErrDuplicatedKey):
		return dup
	case missing != nil && errors.Is(err, gorm.ErrRecordNotFound):
		return missing
	case errors.As(err, &ae):
		return err
	case Outage(err):
		return apperr.Unavailable(fmt.Errorf("%s: %w", doing, err))
	}
	return apperr.Internal(fmt.Errorf("%s: %w", doing, err))
}

// Free is the one shape of every "is this email (or login) taken" check: nil when no row of
// model but self (0: none) holds key in column, else taken. Services call it through their store
// to list a taken email with a request's other problems; the unique index still decides between
// concurrent requests.
func Free(ctx context.Context, db *gorm.DB, model any, column, key string, self int64, taken error) error {
	var ids []int64
	if err := db.WithContext(ctx).Model(model).Where(column+" = ? AND id <> ?", key, self).Limit(1).Pluck("id", &ids).Error; err != nil {
		return Classify(err, "look up "+column, nil, nil)
	}
	if len(ids) > 0 {
		return taken
	}
	return nil
}

// EscapeLike escapes the LIKE metacharacters % and _ and the escape character ! itself with !,
// for use with ESCAPE '!'.
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, "%_!") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '_' || c == '!' {
			b.WriteByte('!')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReplaceHash stores hash in the password_hash column of the row id of model if it still holds
// old: one targeted UPDATE, so that it cannot undo a change made since old was read (a fixtures
// load that set another password). It is no error when the hash changed meanwhile.
func ReplaceHash(ctx context.Context, db *gorm.DB, model any, id int64, old, hash string) error {
	err := Write(ctx, db, func(tx *gorm.DB) error {
		return tx.Model(model).Where("id = ? AND password_hash = ?", id, old).Update("password_hash", hash).Error
	})
	if err != nil {
		return Classify(err, "replace password hash", nil, nil)
	}
	return nil
}
