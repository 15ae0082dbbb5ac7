package store_test

import (
	"errors"

	"context"
	"fmt"
	"gorm.io/gorm"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/store"
)

// TestReset empties a parent and a child table (a foreign key between them) and an untouched
// table of another prefix, in both of PostgreSQL's ways (DELETE for small tables, TRUNCATE for
// large ones) and SQLite's: the prefixed tables are empty, their next ids are 1, the other
// table keeps its rows, and a reset that is rolled back changes nothing.
func TestReset(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, small := range []int64{0, 1000} {
			t.Run(fmt.Sprintf("small=%d", small), func(t *testing.T) {
				defer store.SetSmallTable(small)()
				ctx := context.Background()
				db, err := store.Open(ctx, apitest.DatabaseURL(t, dialect), store.Options{MaxConns: 2})
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close(db)
				type RtParent struct{ ID int64 }
				type RtChild struct {
					ID         int64
					RtParentID int64
					RtParent   RtParent
				}
				type OtherRow struct{ ID int64 }
				if err := db.AutoMigrate(&RtParent{}, &RtChild{}, &OtherRow{}); err != nil {
					t.Fatal(err)
				}
				fill := func() {
					for range 3 {
						p := RtParent{}
						if err := db.Create(&p).Error; err != nil {
							t.Fatal(err)
						}
						if err := db.Create(&RtChild{RtParentID: p.ID}).Error; err != nil {
							t.Fatal(err)
						}
						if err := db.Create(&OtherRow{}).Error; err != nil {
							t.Fatal(err)
						}
					}
				}
				count := func(table string) (n int64) {
					if err := db.Table(table).Count(&n).Error; err != nil {
						t.Fatal(err)
					}
					return n
				}
				fill()
				// Rolled back: nothing changes, the next ids go on.
				err = db.Transaction(func(tx *gorm.DB) error {
					if err := store.Reset(ctx, tx, "rt_"); err != nil {
						return err
					}
					return errRollback
				})
				if err != errRollback {
					t.Fatalf("reset in a transaction rolled back: %v", err)
				}
				if count("rt_parents") != 3 || count("rt_children") != 3 {
					t.Fatalf("a rolled-back reset emptied the tables")
				}
				if err := db.Transaction(func(tx *gorm.DB) error { return store.Reset(ctx, tx, "rt_") }); err != nil {
					t.Fatal(err)
				}
				if count("rt_parents") != 0 || count("rt_children") != 0 || count("other_rows") != 3 {
					t.Errorf("after a reset of rt_: parents %d, children %d, others %d; want 0, 0, 3", count("rt_parents"), count("rt_children"), count("other_rows"))
				}
				p := RtParent{}
				if err := db.Create(&p).Error; err != nil || p.ID != 1 {
					t.Errorf("the first parent after a reset has id %d (%v), want 1", p.ID, err)
				}
				if o := (OtherRow{}); db.Create(&o).Error != nil || o.ID != 4 {
					t.Errorf("the other table's next id is %d, want 4", o.ID)
				}
			})
		}
	})
}

var errRollback = errors.New("roll back")
