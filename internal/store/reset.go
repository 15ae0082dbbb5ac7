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
// ids, so that the next row inserted into each gets id 1: TRUNCATE … RESTART IDENTITY on
// PostgreSQL (which also makes every other transaction touching those tables wait until tx
// ends); on SQLite, DELETE with the foreign keys checked at commit and the tables' AUTOINCREMENT
// counters dropped.
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
		return tx.Exec("TRUNCATE " + strings.Join(quoted, ", ") + " RESTART IDENTITY CASCADE").Error
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
