package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/store"
)

type groupRow struct {
	ID int64  `gorm:"primaryKey"`
	K  string `gorm:"uniqueIndex;not null"`
}

func (groupRow) TableName() string { return "group_rows" }

func openGroupDB(t testing.TB, url string) *gorm.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	if err := db.Migrator().AutoMigrate(&groupRow{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// Concurrent Commit calls each get their own answer: the ones that succeed are all stored, one
// that fails (a duplicate key, an error of its own, a panic) is rolled back alone, with its
// error, and one whose context has ended writes nothing.
func TestCommit(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		db := openGroupDB(t, apitest.DatabaseURL(t, dialect))
		ctx := context.Background()
		if err := store.Commit(ctx, db, func(tx *gorm.DB) error { return tx.Create(&groupRow{K: "taken"}).Error }); err != nil {
			t.Fatal(err)
		}
		const n = 40
		errs := make([]error, n)
		ids := make([]int64, n)
		mine := errors.New("mine")
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c := ctx
				if i%10 == 9 {
					c = canceled
				}
				errs[i] = store.Commit(c, db, func(tx *gorm.DB) error {
					row := groupRow{K: fmt.Sprintf("k%d", i)}
					if err := tx.Create(&row).Error; err != nil {
						return err
					}
					ids[i] = row.ID
					switch i % 10 {
					case 3: // a second insert, of a taken key: the first is undone too
						return tx.Create(&groupRow{K: "taken"}).Error
					case 5:
						return mine
					case 7:
						if dialect == "sqlite" { // on PostgreSQL, Transaction: the panic goes on up
							panic("boom")
						}
						return mine
					}
					return nil
				})
			})
		}
		wg.Wait()
		var stored []string
		if err := db.Model(&groupRow{}).Order("k").Pluck("k", &stored).Error; err != nil {
			t.Fatal(err)
		}
		want := []string{"taken"}
		for i := range n {
			var ok bool
			switch i % 10 {
			case 3:
				ok = errors.Is(errs[i], gorm.ErrDuplicatedKey)
			case 5:
				ok = errors.Is(errs[i], mine)
			case 7:
				ok = apperr.KindOf(errs[i]) == apperr.KindInternal || dialect != "sqlite" && errors.Is(errs[i], mine)
			case 9:
				ok = errors.Is(errs[i], context.Canceled)
			default:
				ok = errs[i] == nil && ids[i] > 0
				want = append(want, fmt.Sprintf("k%d", i))
			}
			if !ok {
				t.Errorf("request %d: error %v (id %d)", i, errs[i], ids[i])
			}
		}
		slices.Sort(want)
		if strings.Join(stored, " ") != strings.Join(want, " ") {
			t.Errorf("stored %v, want %v", stored, want)
		}
	})
}

// A process killed while it commits requests in groups under load has stored every request it
// acknowledged: a request is answered only after the commit of its group.
func TestCommitSurvivesAKill(t *testing.T) {
	if path := os.Getenv("STORE_GROUP_CHILD_DB"); path != "" {
		commitUntilKilled(t, path)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := filepath.Join(t.TempDir(), "db")
	openGroupDB(t, path) // the table, created before the child starts
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommitSurvivesAKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STORE_GROUP_CHILD_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if k, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked = append(acked, k)
			if len(acked) == 300 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}
	}
	_ = cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("the child acknowledged %d writes before it ended, want at least 300", len(acked))
	}
	db := openGroupDB(t, path)
	var stored []string
	if err := db.Model(&groupRow{}).Pluck("k", &stored).Error; err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool, len(stored))
	for _, k := range stored {
		have[k] = true
	}
	for _, k := range acked {
		if !have[k] {
			t.Errorf("acknowledged %s is not stored (%d acknowledged, %d stored)", k, len(acked), len(stored))
		}
	}
}

// commitUntilKilled is the child of TestCommitSurvivesAKill: 16 goroutines insert rows through
// Commit, printing each acknowledged key, until the process is killed (or 60 s have passed).
func commitUntilKilled(t *testing.T, path string) {
	db, err := store.Open(context.Background(), path, store.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	end := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(end); i++ {
				k := fmt.Sprintf("g%d-%d", g, i)
				err := store.Commit(context.Background(), db, func(tx *gorm.DB) error {
					return tx.Create(&groupRow{K: k}).Error
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "commit:", err)
					return
				}
				mu.Lock()
				fmt.Fprintln(w, "ack", k)
				_ = w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// A read made outside a transaction on SQLite does not wait for a write in progress (its own
// pool reads the last committed state), while a read inside the transaction sees the
// transaction's own write; once the write is committed, a read sees it.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	db := openGroupDB(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	inside, release := make(chan int64), make(chan struct{})
	written := make(chan error, 1)
	go func() {
		written <- store.Commit(ctx, db, func(tx *gorm.DB) error {
			if err := tx.Create(&groupRow{K: "new"}).Error; err != nil {
				return err
			}
			var n int64
			err := tx.Model(&groupRow{}).Count(&n).Error
			inside <- n
			<-release
			return err
		})
	}()
	if n := <-inside; n != 1 {
		t.Errorf("inside the transaction: %d rows, want 1 (its own write)", n)
	}
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var n int64
	err := db.WithContext(readCtx).Model(&groupRow{}).Count(&n).Error
	close(release)
	if err != nil || n != 0 {
		t.Errorf("a read while a write is in progress: %d rows, %v; want 0 at once, without waiting for the write", n, err)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&groupRow{}).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("a read after the commit: %d rows, %v; want 1", n, err)
	}
}
