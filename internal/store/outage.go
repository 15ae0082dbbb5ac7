package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
)

// Outage reports whether err says that the database cannot serve now — it is unreachable, the
// connection broke, it is shutting down or starting up, it is out of resources, a call passed
// its deadline, or it asks for the transaction to be retried — rather than that the request or
// the server is wrong. An outage is answered 503 with Retry-After: the client may try again.
// A canceled context is not an outage: that is the client going away.
func Outage(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgOutage(pg.Code)
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) && sqliteOutage(lite.Code()) {
		return true
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}

// pgOutage reports the SQLSTATE codes of a PostgreSQL that cannot serve now: connection
// exceptions (08), insufficient resources (53: disk full, out of memory, too many connections),
// operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
// 57014 statement timeout), system errors (58) and the transaction rollbacks a client should
// retry (40001 serialization failure, 40P01 deadlock).
func pgOutage(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "58"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57014", "40001", "40P01":
		return true
	}
	return false
}

// sqliteOutage reports the SQLite result codes of a database that cannot serve now (their low
// byte; extended codes carry more bits): busy or locked past the busy timeout, a failing disk,
// a full disk, a file that cannot be opened.
func sqliteOutage(code int) bool {
	switch code & 0xff {
	case 5, 6, 10, 13, 14: // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
		return true
	}
	return false
}

// unavailable classifies an outage as apperr's unavailable and leaves every other error as it is.
func unavailable(err error) error {
	if err == nil || apperr.KindOf(err) == apperr.KindUnavailable || !Outage(err) {
		return err
	}
	return apperr.Unavailable(err)
}

// deadlines gives every database call a deadline and classifies a failing database where the
// failure arises: it is registered on every GORM operation, so that a store needs no code of its
// own for either and no future store can forget them.
type deadlines struct{ timeout time.Duration }

const deadlinesName = "provisiond:deadlines"

type deadlineKey struct{}

// deadline is what start leaves for end: the statement's own context, which end puts back (a
// chain such as Count then Find runs two operations on one statement), and the release.
type deadline struct {
	parent context.Context
	cancel context.CancelFunc
}

func (deadlines) Name() string { return deadlinesName }

// Initialize registers the callbacks. The Row processor (db.Row, db.Rows, db.Scan) is left out:
// its rows are read after its callbacks return, so a deadline canceled there would cut them off;
// provisiond's stores do not use it.
func (d deadlines) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	start, end := deadlinesName+":start", deadlinesName+":end"
	return errors.Join(
		cb.Create().Before("*").Register(start, d.start), cb.Create().After("*").Register(end, d.end),
		cb.Query().Before("*").Register(start, d.start), cb.Query().After("*").Register(end, d.end),
		cb.Update().Before("*").Register(start, d.start), cb.Update().After("*").Register(end, d.end),
		cb.Delete().Before("*").Register(start, d.start), cb.Delete().After("*").Register(end, d.end),
		cb.Raw().Before("*").Register(start, d.start), cb.Raw().After("*").Register(end, d.end),
	)
}

func (d deadlines) start(db *gorm.DB) {
	if d.timeout <= 0 || db.Statement.Context == nil {
		return
	}
	parent := db.Statement.Context
	ctx, cancel := withDeadline(parent, d.timeout)
	db.Statement.Context = ctx
	db.Statement.Settings.Store(deadlineKey{}, deadline{parent: parent, cancel: cancel})
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

// Scope makes ctx one unit of work (one request) whose database calls share one deadline, the
// database timeout after the first of them, instead of a deadline each: a request that makes
// several calls to a frozen database then fails after one timeout, not after one per call.
func Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &scope{})
}

type scopeKey struct{}

type scope struct {
	mu       sync.Mutex
	deadline time.Time
}

// withDeadline is ctx with the deadline of a database call: the scope's when ctx has one,
// else timeout from now.
func withDeadline(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	s, ok := ctx.Value(scopeKey{}).(*scope)
	if !ok {
		return context.WithTimeout(ctx, timeout)
	}
	s.mu.Lock()
	if s.deadline.IsZero() {
		s.deadline = time.Now().Add(timeout)
	}
	at := s.deadline
	s.mu.Unlock()
	return context.WithDeadline(ctx, at)
}

// Timeout is the deadline of one database call on db (0: none).
func Timeout(db *gorm.DB) time.Duration {
	if p, ok := db.Config.Plugins[deadlinesName].(deadlines); ok {
		return p.timeout
	}
	return 0
}

// Transaction runs fn in one transaction on db under ctx: committed when fn returns nil, rolled
// back otherwise. Every multi-statement write of every API goes through it: the whole transaction
// has the database deadline (beginning it on a frozen database must not hang either), and a
// failing database is classified as unavailable however it shows (in BEGIN, a statement or COMMIT).
func Transaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if t := Timeout(db); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = withDeadline(ctx, t)
		defer cancel()
	}
	return unavailable(passed(ctx, db.WithContext(ctx).Transaction(fn)))
}
