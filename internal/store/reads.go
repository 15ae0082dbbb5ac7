package store

import (
	"context"
	"database/sql"
	"runtime"
	"strings"

	"github.com/libtnb/sqlite"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"
)

// useReadPool gives db, a SQLite database of dsn, a pool of up to conns connections (at most 4
// per CPU) of its own for the reads made outside a transaction (GORM's dbresolver, the pool as
// its replica): in WAL mode they read the last committed state alongside the one writing connection, instead of
// waiting for it. Everything else stays on db's connection: writes, raw statements other than
// a SELECT, and every statement of a transaction, reads included, so that a transaction reads
// its own writes. A read made after a write's commit starts a new read transaction in SQLite, so
// it sees that write. An in-memory database is one per connection, so it gets no read pool.
func useReadPool(ctx context.Context, db *gorm.DB, dsn string, conns int) error {
	if strings.HasPrefix(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		return nil
	}
	rdb, err := openSQLite(ctx, dsn, &gorm.Config{Logger: db.Logger, SkipDefaultTransaction: true})
	if err != nil {
		return err
	}
	reads, err := rdb.DB()
	if err != nil {
		return err
	}
	// SQLite's reads are CPU-bound: more connections than 4 per CPU only hold more page caches.
	conns = max(min(conns, 4*runtime.NumCPU()), 1)
	reads.SetMaxOpenConns(conns)
	reads.SetMaxIdleConns(conns)
	err = db.Use(dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{sqlite.New(sqlite.Config{Conn: reads})},
	}))
	if err != nil {
		_ = reads.Close()
	}
	return err
}

// closeReadPool closes db's read pool, if it has one; main is db's own connection pool.
func closeReadPool(db *gorm.DB, main *sql.DB) error {
	if r := readPool(db, main); r != nil {
		return r.Close()
	}
	return nil
}

// readPool is db's read pool (SQLite's, useReadPool), or nil; main is db's own connection pool.
func readPool(db *gorm.DB, main *sql.DB) *sql.DB {
	r, ok := db.Config.Plugins[(&dbresolver.DBResolver{}).Name()].(*dbresolver.DBResolver)
	if !ok {
		return nil
	}
	var read *sql.DB
	_ = r.Call(func(pool gorm.ConnPool) error {
		if p, ok := pool.(*sql.DB); ok && p != main {
			read = p
		}
		return nil
	})
	return read
}

// Pools are db's connection pools by name, for their statistics (the provisiond_db_* metrics):
// "main", which makes every write (and every statement on PostgreSQL), and on SQLite "read", the
// pool of the reads made outside a transaction.
func Pools(db *gorm.DB) (map[string]*sql.DB, error) {
	main, err := db.DB()
	if err != nil {
		return nil, err
	}
	pools := map[string]*sql.DB{"main": main}
	if r := readPool(db, main); r != nil {
		pools["read"] = r
	}
	return pools, nil
}
