package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// A bound is what the database alone can do, measured the way the server is: the same
// workers, the same duration, one single-row insert of a new login per request. The server's
// create against its bound, in the same run on the same machine, is the figure that means
// something on a shared machine (an absolute rate does not).
//
//   - gorm: GORM inserts through store.Open and store.Insert, so the same driver, pragmas, pool
//     and commit path as the server (on SQLite the write lock, WAL, synchronous=FULL and the group
//     commit that lets concurrent inserts share one fsync; on PostgreSQL the pgx driver).
//   - pgx: bare pgx pool inserts, PostgreSQL only: the raw bound under everything GORM adds.
type bound interface {
	insert(ctx context.Context, login string) error
	close()
}

// boundRow is the row the bounds insert: a key like a profile's, unique, with a timestamp.
type boundRow struct {
	ID        int64  `gorm:"primaryKey"`
	LoginKey  string `gorm:"uniqueIndex;not null"`
	CreatedAt time.Time
}

// boundTable is the bounds' table, its own, apart from the server's.
const boundTable = "loadgen_bound"

func (boundRow) TableName() string { return boundTable }

// openBound opens the bound kind over the database at url, with conns connections.
func openBound(ctx context.Context, kind, url string, conns int) (bound, error) {
	switch kind {
	case "gorm":
		db, err := store.Open(ctx, url, store.Options{MaxConns: conns})
		if err != nil {
			return nil, err
		}
		if err := db.WithContext(ctx).AutoMigrate(&boundRow{}); err != nil {
			return nil, err
		}
		return gormBound{db}, nil
	case "pgx":
		if !store.IsPostgres(url) {
			return nil, fmt.Errorf("-bound pgx needs a PostgreSQL -db, not %q", url)
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+boundTable+` (id bigserial PRIMARY KEY, login_key text NOT NULL UNIQUE, created_at timestamptz)`)
		if err != nil {
			pool.Close()
			return nil, err
		}
		return pgxBound{pool}, nil
	}
	return nil, fmt.Errorf("-bound must be gorm or pgx, not %q", kind)
}

type gormBound struct{ db *gorm.DB }

func (b gormBound) insert(ctx context.Context, login string) error {
	return store.Insert(ctx, b.db, &boundRow{LoginKey: login, CreatedAt: time.Now().UTC()})
}

func (b gormBound) close() { _ = store.Close(b.db) }

type pgxBound struct{ pool *pgxpool.Pool }

func (b pgxBound) insert(ctx context.Context, login string) error {
	_, err := b.pool.Exec(ctx, `INSERT INTO `+boundTable+` (login_key, created_at) VALUES ($1, $2)`, login, time.Now().UTC())
	return err
}

func (b pgxBound) close() { b.pool.Close() }

// boundLogin is the login of the n-th insert of worker in run.
func boundLogin(run string, worker int, n int64) string {
	return "bound-" + run + "-" + strconv.Itoa(worker) + "-" + strconv.FormatInt(n, 10) + "@example.com"
}
