package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Search indexes, for the migrations that add them (each API's list and search queries). Each
// statement is CREATE INDEX IF NOT EXISTS, so that a migration that adds them can run again over
// a database that has them.

// SortIndex creates the b-tree index name on table's columns, on every database: for an equality
// filter or a sort followed by the primary key (ORDER BY x, id), so that a page is read in index
// order instead of sorting every row. On SQLite an index holds the rowid too, which an INTEGER
// PRIMARY KEY is; on PostgreSQL the id is listed.
func SortIndex(tx *gorm.DB, name, table string, columns ...string) error {
	return tx.Exec(fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", name, table, strings.Join(columns, ", "))).Error
}

// PrefixIndex creates the b-tree index name on table's text column for column LIKE 'prefix%',
// where the column holds lower-case keys and the pattern is lower-case: on PostgreSQL with
// text_pattern_ops (a plain index serves LIKE only under the C collation); on SQLite with the
// NOCASE collation, which its LIKE optimization needs while LIKE is case-insensitive (SQLite's
// default).
func PrefixIndex(tx *gorm.DB, name, table, column string) error {
	opclass := "COLLATE NOCASE"
	if tx.Name() == "postgres" {
		opclass = "text_pattern_ops"
	}
	return tx.Exec(fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s %s)", name, table, column, opclass)).Error
}

// TrigramIndex creates, on PostgreSQL, the trigram GIN index name on table's text column (or
// expression), which serves LIKE '%infix%' (and LIKE 'prefix%') without reading every row. It
// needs the pg_trgm extension: when the database has none, it is created in the schema public,
// or failing that in the current schema (a trusted extension since PostgreSQL 13: a database
// owner may create it). When it cannot be created (no privilege, not installed), the index is
// left out with a warning and the searches stay scans: a migration does not fail for it. On
// SQLite it does nothing: a contains-search stays a scan there.
//
// The index is built without GIN's pending list (fastupdate off): each insert pays for its
// trigrams at once instead of leaving them to a later merge, because until that merge every
// search through the index reads the whole list, and the planner, whose statistics lag behind a
// bulk load, may choose the index even for an equality (pg_trgm serves = too): a fixtures load
// that updated 10,000 members took 100 s instead of 2 with it.
func TrigramIndex(tx *gorm.DB, name, table, column string) error {
	if tx.Name() != "postgres" {
		return nil
	}
	schema, err := trigramSchema(tx)
	if err != nil || schema == "" {
		return err
	}
	return tx.Exec(fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin (%s %s.gin_trgm_ops) WITH (fastupdate = off)",
		name, table, column, quoteIdent(schema))).Error
}

// trigramSchema is the schema of pg_trgm, created if need be, or "" when it cannot be.
func trigramSchema(tx *gorm.DB) (string, error) {
	find := func() (string, error) {
		var schema string
		err := tx.Raw("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").
			Scan(&schema).Error
		return schema, err
	}
	if schema, err := find(); err != nil || schema != "" {
		return schema, err
	}
	// The schema public first: an extension created in a schema that is later dropped (as the
	// tests drop theirs) would take every trigram index with it.
	var refused error
	for _, create := range []string{"CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public", "CREATE EXTENSION IF NOT EXISTS pg_trgm"} {
		// In a savepoint: a failed statement aborts the rest of a PostgreSQL transaction.
		err := tx.Transaction(func(sp *gorm.DB) error { return sp.Exec(create).Error })
		var pgErr *pgconn.PgError
		if err != nil && !errors.As(err, &pgErr) {
			return "", err
		}
		if err == nil {
			return find()
		}
		refused = err
	}
	slog.Warn("pg_trgm cannot be created: the trigram indexes are left out, and contains-searches read every row",
		"error", refused.Error())
	return "", nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// PageByID reads one page of the rows filtered selects (a query of one model's rows, with its
// conditions) in order, which must end with the primary key id so that it is total: the ids of
// the page first, by filtered with offset and limit, then their rows, by db (a query of the same
// model without conditions) in the same order. On PostgreSQL the rows an OFFSET skips are then
// index entries (an index-only scan of the primary key, or of the sort's index) instead of whole
// rows read from the table, which halves a deep page's time; what a page holds is the same.
func PageByID(db, filtered *gorm.DB, order string, offset, limit int) *gorm.DB {
	ids := filtered.Select("id").Order(order).Offset(offset).Limit(limit)
	return db.Where("id IN (?)", ids).Order(order)
}
