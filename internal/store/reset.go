package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// Tables are the names of the tables of db whose names start with one of prefixes, sorted.
func Tables(db *gorm.DB, prefixes ...string) ([]string, error) {
	all, err := db.Migrator().GetTables()
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []string
	for _, t := range all {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(t, p) }) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Reset empties the tables whose names start with one of prefixes, in tx, and restarts their
// ids, so that the next row inserted into each gets id 1. On PostgreSQL it first locks them all
// (ACCESS EXCLUSIVE: every other transaction touching them waits until tx ends, so none sees or
// writes a half-reset state), then empties each (resetPostgres); on SQLite, whose one writer
// at a time gives the same, it deletes with the foreign keys checked at commit and drops the
// tables' AUTOINCREMENT counters.
func Reset(ctx context.Context, tx *gorm.DB, prefixes ...string) error {
	tx = tx.WithContext(ctx)
	tables, err := Tables(tx, prefixes...)
	if err != nil || len(tables) == 0 {
		return err
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = tx.Statement.Quote(t)
	}
	if tx.Name() == "postgres" {
		return resetPostgres(tx, tables, quoted)
	}
	if err := tx.Exec("PRAGMA defer_foreign_keys = ON").Error; err != nil {
		return err
	}
	for _, t := range quoted {
		if err := tx.Exec("DELETE FROM " + t).Error; err != nil {
			return err
		}
	}
	var sequences int64
	if err := tx.Raw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").Scan(&sequences).Error; err != nil {
		return err
	}
	if sequences == 0 {
		return nil
	}
	return tx.Exec("DELETE FROM sqlite_sequence WHERE name IN ?", tables).Error
}

// smallTable is the most rows a table may hold for resetPostgres to DELETE them rather than
// TRUNCATE it: TRUNCATE costs about a millisecond per table however small (it makes new files),
// DELETE a few microseconds per row.
var smallTable int64 = 2000

// resetPostgres empties tables (quoted: the same, quoted) and restarts their sequences, under
// locks it takes first. Small tables are emptied with DELETE, children before the tables their
// foreign keys name, and their sequences restarted with ALTER SEQUENCE … RESTART; large ones
// with one TRUNCATE … RESTART IDENTITY CASCADE. Both are undone by a rollback.
func resetPostgres(tx *gorm.DB, tables, quoted []string) error {
	if err := tx.Exec("LOCK TABLE " + strings.Join(quoted, ", ") + " IN ACCESS EXCLUSIVE MODE").Error; err != nil {
		return err
	}
	order, err := childrenFirst(tx, tables)
	if err != nil {
		return err
	}
	if order == nil { // foreign keys in a cycle: only TRUNCATE … CASCADE empties them
		return tx.Exec("TRUNCATE " + strings.Join(quoted, ", ") + " RESTART IDENTITY CASCADE").Error
	}
	var large, small []string
	for _, t := range order {
		var n int64
		if err := tx.Raw("SELECT count(*) FROM (SELECT 1 FROM "+tx.Statement.Quote(t)+" LIMIT ?) s", smallTable+1).Scan(&n).Error; err != nil {
			return err
		}
		if n > smallTable {
			large = append(large, tx.Statement.Quote(t))
		} else {
			small = append(small, t)
		}
	}
	if len(large) > 0 {
		if err := tx.Exec("TRUNCATE " + strings.Join(large, ", ") + " RESTART IDENTITY CASCADE").Error; err != nil {
			return err
		}
	}
	for _, t := range small {
		if err := tx.Exec("DELETE FROM " + tx.Statement.Quote(t)).Error; err != nil {
			return err
		}
	}
	if len(small) == 0 {
		return nil
	}
	var sequences []string
	err = tx.Raw(`SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname)
		FROM pg_class s
		JOIN pg_namespace n ON n.oid = s.relnamespace
		JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		JOIN pg_class t ON t.oid = d.refobjid
		WHERE s.relkind = 'S' AND t.relnamespace = to_regnamespace(current_schema()) AND t.relname IN ?`, small).Scan(&sequences).Error
	if err != nil {
		return err
	}
	for _, seq := range sequences {
		if err := tx.Exec("ALTER SEQUENCE " + seq + " RESTART").Error; err != nil {
			return err
		}
	}
	return nil
}

// childrenFirst orders tables so that a table comes before every table of the list its foreign
// keys reference (PostgreSQL's catalog says which); nil when their foreign keys form a cycle.
func childrenFirst(tx *gorm.DB, tables []string) ([]string, error) {
	var edges []struct{ Child, Parent string }
	err := tx.Raw(`SELECT c.relname AS child, p.relname AS parent
		FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid
		JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND c.relnamespace = to_regnamespace(current_schema())
		AND c.relname IN ? AND p.relname IN ? AND c.relname <> p.relname`, tables, tables).Scan(&edges).Error
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, e := range edges {
		parents[e.Child] = append(parents[e.Child], e.Parent)
	}
	// A table is placed once no table still to place references it.
	referenced := func(t string, left []string) bool {
		for _, c := range left {
			if slices.Contains(parents[c], t) {
				return true
			}
		}
		return false
	}
	left := slices.Clone(tables)
	var out []string
	for len(left) > 0 {
		placed := false
		for i, t := range left {
			rest := slices.Concat(left[:i], left[i+1:])
			if !referenced(t, rest) {
				out = append(out, t)
				left = rest
				placed = true
				break
			}
		}
		if !placed { // the foreign keys of left form a cycle
			return nil, nil
		}
	}
	return out, nil
}
