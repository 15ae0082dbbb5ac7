package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

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
