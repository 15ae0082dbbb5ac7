package store

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
)

// maxGroup is the most requests one group commit holds: enough to share one fsync among every
// request a loaded server has waiting, few enough that a request does not wait for hundreds.
const maxGroup = 64

// groupCommits shares one commit, so one fsync under synchronous FULL, among the short write
// transactions that arrive on SQLite while a commit is on its way to the disk. It is a GORM
// plugin of every SQLite database that Open opens, so that it lives as long as the database.
//
// One writer goroutine at a time (started when a request finds none, ended when it finds the
// queue empty) takes every request queued, up to maxGroup, and runs them in one transaction
// (BEGIN IMMEDIATE), each in a savepoint of its own: a request that fails is rolled back to its
// savepoint alone. Then it commits, and only then answers each request, with its own error or
// the commit's. An acknowledged write is therefore on disk, as with a transaction of its own.
type groupCommits struct {
	mu      sync.Mutex
	queue   []*groupRequest
	writing bool // a writer goroutine is running
	done    GroupCommits
}

// GroupCommits counts what the group commits of a database have done since it was opened.
type GroupCommits struct {
	// Groups is how many transactions ran, Writes how many Commit calls they held.
	Groups, Writes int64
}

// GroupCommitted is what db's group commits have done; zero on a database without them
// (PostgreSQL). Writes/Groups is the mean group size: how many writes shared one fsync.
func GroupCommitted(db *gorm.DB) GroupCommits {
	g, ok := db.Config.Plugins[groupCommitsName].(*groupCommits)
	if !ok {
		return GroupCommits{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.done
}

type groupRequest struct {
	ctx    context.Context
	fn     func(tx *gorm.DB) error
	single bool // fn writes one statement (Write)
	done   chan error
}

const groupCommitsName = "provisiond:group-commits"

func (*groupCommits) Name() string { return groupCommitsName }

func (*groupCommits) Initialize(*gorm.DB) error { return nil }

// Commit runs fn in a transaction on db under ctx, as Transaction does, and returns once the
// transaction is committed (nil) or rolled back (fn's error, or the failing database's). On
// SQLite, fn shares its transaction, and so the commit's fsync, with the other Commit calls
// waiting at that moment, each in a savepoint of its own; on PostgreSQL, whose concurrent
// transactions share their fsyncs themselves, it is Transaction. fn must be short and touch
// only tx; it sees what the requests before it in its group wrote, which commits with it or not
// at all, as if they had committed just before. A ctx that has ended before fn starts writes
// nothing; once fn has started, Commit waits for the end of the shared transaction, whatever
// ctx does: the write may commit, and the caller must know.
func Commit(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return commit(ctx, db, fn, false)
}

// Write runs fn, a write of a single statement through tx: on SQLite as Commit does, so that
// concurrent writes share one commit; elsewhere directly, since a single statement needs no
// transaction around it.
func Write(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return commit(ctx, db, fn, true)
}

// Insert writes row, a pointer to a new record whose primary key it sets, as one Write.
func Insert(ctx context.Context, db *gorm.DB, row any) error {
	return Write(ctx, db, func(tx *gorm.DB) error { return tx.Create(row).Error })
}

// commit is Commit, or Write when single (fn writes one statement).
//
// A request that finds nothing being written is a group of its own, run by its caller's
// goroutine (no hand-over to a writer), and a single statement alone runs without a transaction
// around it: an unloaded server pays nothing for the groups. Whatever arrives meanwhile waits in
// the queue, for a writer goroutine that the caller starts when it is done.
func commit(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error, single bool) error {
	g, ok := db.Config.Plugins[groupCommitsName].(*groupCommits)
	if !ok {
		if single {
			return fn(db.WithContext(ctx))
		}
		return Transaction(ctx, db, fn)
	}
	if err := ctx.Err(); err != nil {
		return unavailable(fmt.Errorf("not writing: %w", context.Cause(ctx)))
	}
	r := &groupRequest{ctx: ctx, fn: fn, single: single, done: make(chan error, 1)}
	g.mu.Lock()
	if g.writing {
		g.queue = append(g.queue, r)
		g.mu.Unlock()
		return <-r.done
	}
	// Nothing is being written, and so nothing waits (the writer ends only on an empty queue).
	g.writing = true
	g.done.Groups++
	g.done.Writes++
	g.mu.Unlock()
	commitGroup(db, []*groupRequest{r})
	g.mu.Lock()
	more := len(g.queue) > 0
	g.writing = more
	g.mu.Unlock()
	if more {
		go g.write(db)
	}
	return <-r.done
}

// write commits groups of the queue until it finds it empty.
func (g *groupCommits) write(db *gorm.DB) {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.done.Groups++
		g.done.Writes += int64(n)
		g.mu.Unlock()
		commitGroup(db, group)
	}
}

// commitGroup runs group in one transaction and answers each request after its end. A request
// alone in its group needs no savepoint: when it fails, the whole transaction is rolled back.
func commitGroup(db *gorm.DB, group []*groupRequest) {
	alone := len(group) == 1
	if alone && group[0].single {
		// One statement is a transaction of its own.
		err, _ := runSaved(db, 0, group[0], false)
		group[0].done <- err
		return
	}
	errs := make([]error, len(group))
	err := Transaction(context.Background(), db, func(tx *gorm.DB) error {
		for i, r := range group {
			var err error
			if errs[i], err = runSaved(tx, i, r, !alone); err != nil {
				// The transaction is lost (SQLite rolls it back whole on some errors, such as an
				// interrupted write): what follows must not run outside it, in autocommit.
				return err
			}
		}
		if alone {
			return errs[0]
		}
		return nil
	})
	for i, r := range group {
		if err != nil && errs[i] == nil {
			errs[i] = unavailable(err)
		}
		r.done <- errs[i]
	}
}

// runSaved runs request i of a group in tx, in savepoint g<i> when saved, under r's context
// without its cancellation (a request whose client has gone must not interrupt the others'
// transaction; its statements keep their deadlines), and rolls it back to the savepoint when it
// fails or panics. err is r's own result; lost says that the transaction can no longer go on.
func runSaved(tx *gorm.DB, i int, r *groupRequest, saved bool) (err, lost error) {
	if err := r.ctx.Err(); err != nil {
		return unavailable(fmt.Errorf("not writing: %w", context.Cause(r.ctx))), nil
	}
	var sp string
	if saved {
		sp = fmt.Sprintf("g%d", i)
		if err := tx.Exec("SAVEPOINT " + sp).Error; err != nil {
			return nil, err
		}
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = apperr.Internal(fmt.Errorf("write transaction panicked: %v", p))
			}
		}()
		err = unavailable(r.fn(tx.WithContext(context.WithoutCancel(r.ctx))))
	}()
	if err != nil && saved {
		if rerr := tx.Exec("ROLLBACK TO " + sp).Error; rerr != nil {
			return err, fmt.Errorf("roll back to a failed request's savepoint: %w", rerr)
		}
	}
	return err, nil
}
