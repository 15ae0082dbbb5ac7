package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
)

// deadlines gives every database call a deadline and classifies a failing database where the
// failure arises: it is registered on every GORM operation, so that a store needs no code of its
// own for either and no future store can forget them.
type deadlines struct{ timeout time.Duration }

const deadlinesName = "provisiond:deadlines"

func (deadlines) Name() string { return deadlinesName }

// Initialize registers the callbacks: Create, Update, Delete and Raw (Exec) as writes, Query as
// a read. The Row processor (db.Row, db.Rows, db.Scan) is left out: its rows are read after its
// callbacks return, so a deadline released there would cut them off; provisiond's stores do not
// use it.
func (d deadlines) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	start, end := deadlinesName+":start", deadlinesName+":end"
	read, write := d.start(false), d.start(true)
	return errors.Join(
		cb.Create().Before("*").Register(start, write), cb.Create().After("*").Register(end, d.end),
		cb.Update().Before("*").Register(start, write), cb.Update().After("*").Register(end, d.end),
		cb.Delete().Before("*").Register(start, write), cb.Delete().After("*").Register(end, d.end),
		cb.Raw().Before("*").Register(start, write), cb.Raw().After("*").Register(end, d.end),
		cb.Query().Before("*").Register(start, read), cb.Query().After("*").Register(end, d.end),
	)
}

type deadlineKey struct{}

// deadline is what start leaves for end outside a scope: the statement's own context, which end
// puts back (a chain such as Count then Find runs two operations on one statement), and the
// release. A scope's contexts stay on the statement: they live as long as the scope.
type deadline struct {
	parent context.Context
	cancel context.CancelFunc
}

func (d deadlines) start(write bool) func(*gorm.DB) {
	return func(db *gorm.DB) {
		parent := db.Statement.Context
		if d.timeout <= 0 || parent == nil {
			return
		}
		ctx, cancel, err := callContext(parent, d.timeout, write)
		if err != nil {
			_ = db.AddError(err)
			return
		}
		db.Statement.Context = ctx
		if cancel != nil {
			db.Statement.Settings.Store(deadlineKey{}, deadline{parent: parent, cancel: cancel})
		}
	}
}

func (d deadlines) end(db *gorm.DB) {
	if db.Error != nil {
		db.Error = unavailable(passed(db.Statement.Context, db.Error))
	}
	if v, ok := db.Statement.Settings.LoadAndDelete(deadlineKey{}); ok {
		d := v.(deadline)
		d.cancel()
		db.Statement.Context = d.parent
	}
}

// passed adds ctx's deadline to err when the deadline has passed: a driver may report only that
// it was interrupted (SQLite answers SQLITE_INTERRUPT), without the context's error.
func passed(ctx context.Context, err error) error {
	if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
	}
	return err
}

// Timeout is the deadline of one database call on db (0: none).
func Timeout(db *gorm.DB) time.Duration {
	if p, ok := db.Config.Plugins[deadlinesName].(deadlines); ok {
		return p.timeout
	}
	return 0
}

// Transaction runs fn in one transaction on db under ctx: committed when fn returns nil, rolled
// back otherwise. Every multi-statement write of every API goes through it (or through Commit,
// which is Transaction but on SQLite, where it shares one commit): the transaction is a
// write under the rules of callContext as a whole (beginning it on a frozen database must not
// hang either), and a failing database is classified as unavailable however it shows (in BEGIN,
// a statement or COMMIT).
func Transaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if t := Timeout(db); t > 0 {
		tctx, cancel, err := callContext(ctx, t, true)
		if err != nil {
			return err
		}
		if cancel != nil {
			defer cancel()
		}
		ctx = tctx
	}
	return unavailable(passed(ctx, db.WithContext(ctx).Transaction(fn)))
}

// Scope makes ctx one unit of work (one request) for the database calls made under it, until
// release is called:
//   - they share one deadline, the database timeout after the first of them (and again after
//     the first write: the writes get a whole timeout of their own), instead of a deadline each,
//     so that a request making several calls to a frozen database fails after one timeout (two
//     when it froze between a read and the first write), not after one per call;
//   - the first write starts only while ctx is live (its deadline not passed, its client still
//     there), and from then on every call of the scope runs without ctx's cancellation, by
//     commitBy at the latest: a write that the request's deadline cut short could have committed
//     with its answer lost, and what the answer reads back after it must be answered too.
//
// The scope's calls share two contexts, made at the first call that needs each (not one per
// statement, which would cost a timer and, in the drivers, a watcher each); they derive from the
// context of that first call. A zero commitBy sets no bound beyond the database timeout.
func Scope(ctx context.Context, commitBy time.Time) (scoped context.Context, release func()) {
	s := &scope{commitBy: commitBy}
	return context.WithValue(ctx, scopeKey{}, s), s.release
}

type scopeKey struct{}

type unboundedKey struct{}

// Unbounded marks ctx as work without the database deadline: what a start writes under the
// start-up lock may wait for other instances' turns and run long migrations, and a start must
// not fail because of it. It keeps ctx's own deadline and cancellation.
func Unbounded(ctx context.Context) context.Context {
	return context.WithValue(ctx, unboundedKey{}, true)
}

type scope struct {
	commitBy time.Time

	mu          sync.Mutex
	deadline    time.Time       // the shared deadline; zero until the first call
	wrote       bool            // a write has started
	read, write context.Context // the calls' contexts before and after the first write
	cancels     []context.CancelFunc
}

func (s *scope) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancels {
		cancel()
	}
}

// callContext is the context of one database call (a statement, or a whole transaction) made
// under ctx: see Scope for what a scope changes. Outside a scope it is ctx with the timeout, and
// cancel releases it; in a scope (or Unbounded) cancel is nil.
func callContext(ctx context.Context, timeout time.Duration, write bool) (context.Context, context.CancelFunc, error) {
	if ctx.Value(unboundedKey{}) != nil {
		return ctx, nil, nil
	}
	s, ok := ctx.Value(scopeKey{}).(*scope)
	if !ok {
		c, cancel := context.WithTimeout(ctx, timeout)
		return c, cancel, nil
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deadline.IsZero() {
		s.deadline = now.Add(timeout)
	}
	if write && !s.wrote {
		if err := ctx.Err(); err != nil {
			return nil, nil, unavailable(fmt.Errorf("not writing: %w", context.Cause(ctx)))
		}
		if !now.Before(s.deadline) {
			return nil, nil, apperr.Unavailable(fmt.Errorf("not writing: %w", context.DeadlineExceeded))
		}
		s.wrote = true
		// The writes get a whole timeout of their own, not what the reads before them left
		// (a request may have waited long for a password-hashing slot in between): a write cut
		// short by a deadline may have committed on the server with its answer lost, so a write
		// is interrupted only when the database itself does not answer within the timeout.
		s.deadline = now.Add(timeout)
	}
	if !s.wrote {
		if s.read == nil {
			c, cancel := context.WithDeadline(ctx, s.deadline)
			s.read, s.cancels = c, append(s.cancels, cancel)
		}
		return s.read, nil, nil
	}
	if s.write == nil {
		at := s.deadline
		if !s.commitBy.IsZero() && s.commitBy.Before(at) {
			at = s.commitBy
		}
		c, cancel := context.WithDeadline(context.WithoutCancel(ctx), at)
		s.write, s.cancels = c, append(s.cancels, cancel)
	}
	return s.write, nil, nil
}
