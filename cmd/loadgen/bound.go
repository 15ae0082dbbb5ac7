package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// A bound is what the database alone can do, measured the way the server is: the same
// workers, the same duration, one single-row insert of a new login per request. The server's
// create against its bound, in the same run on the same machine, is the figure that means
// something on a shared machine (an absolute rate does not).
//
//   - gorm: GORM inserts through store.Open and store.Insert, so the same driver, pragmas, pool
//     and commit path as the server (on SQLite the write lock, WAL, synchronous=FULL and the group
//     commit that lets concurrent inserts share one fsync; on PostgreSQL the pgx driver).
//   - pgx: bare pgx pool inserts, PostgreSQL only: the raw bound under everything GORM adds.
//   - http-gorm, http-pgx: the same inserts behind HTTP, a floor that pays for HTTP as the server
//     does: loadgen serves, in its own process, a bare net/http handler that decodes the JSON
//     body of a POST /api/profiles and makes the insert, and drives it over loopback HTTP exactly
//     as it drives the server (boundServer).
//
// Every insert returns the new row's id (INSERT … RETURNING), as the server's create does.
type bound interface {
	insert(ctx context.Context, login string) (int64, error)
	close()
}

// httpBoundPrefix marks the bounds measured behind HTTP.
const httpBoundPrefix = "http-"

// boundRow is the row the bounds insert: a key like a profile's, unique, with a timestamp.
type boundRow struct {
	ID        int64  `gorm:"primaryKey"`
	LoginKey  string `gorm:"uniqueIndex;not null"`
	CreatedAt time.Time
}

// boundTable is the bounds' table, its own, apart from the server's.
const boundTable = "loadgen_bound"

func (boundRow) TableName() string { return boundTable }

// openBound opens the bound kind (without its http- prefix, which the caller serves with
// boundServer) over the database at url, with conns connections.
func openBound(ctx context.Context, kind, url string, conns int) (bound, error) {
	switch kind {
	case "gorm":
		db, err := store.Open(ctx, url, store.Options{MaxConns: conns})
		if err != nil {
			return nil, err
		}
		if err := db.WithContext(ctx).AutoMigrate(&boundRow{}); err != nil {
			_ = store.Close(db)
			return nil, err
		}
		return gormBound{db}, nil
	case "pgx":
		if !store.IsPostgres(url) {
			return nil, fmt.Errorf("-bound pgx needs a PostgreSQL -db, not %q", url)
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+boundTable+` (id bigserial PRIMARY KEY, login_key text NOT NULL UNIQUE, created_at timestamptz)`)
		if err != nil {
			pool.Close()
			return nil, err
		}
		return pgxBound{pool}, nil
	}
	return nil, fmt.Errorf("-bound must be gorm, pgx, http-gorm or http-pgx, not %q", kind)
}

type gormBound struct{ db *gorm.DB }

func (b gormBound) insert(ctx context.Context, login string) (int64, error) {
	row := boundRow{LoginKey: login, CreatedAt: time.Now().UTC()}
	err := store.Insert(ctx, b.db, &row)
	return row.ID, err
}

func (b gormBound) close() { _ = store.Close(b.db) }

type pgxBound struct{ pool *pgxpool.Pool }

func (b pgxBound) insert(ctx context.Context, login string) (int64, error) {
	var id int64
	err := b.pool.QueryRow(ctx, `INSERT INTO `+boundTable+` (login_key, created_at) VALUES ($1, $2) RETURNING id`, login, time.Now().UTC()).Scan(&id)
	return id, err
}

func (b pgxBound) close() { b.pool.Close() }

// boundLogin is the login of the n-th insert of worker in run.
func boundLogin(run string, worker int, n int64) string {
	return "bound-" + run + "-" + strconv.Itoa(worker) + "-" + strconv.FormatInt(n, 10) + "@example.com"
}

// boundServer serves b over HTTP on a free loopback port, the way the server answers a create:
// POST /api/profiles with a JSON body {"login": …} makes one insert and answers 201 with the new
// row's id and login as JSON; a body without a login is a 400, a failed insert a 500. It returns
// the base URL and how to stop it.
func boundServer(b bound) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: boundHandler(b), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with http.ErrServerClosed at stop
	}()
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		<-done
	}, nil
}

// boundHandler is boundServer's one handler.
func boundHandler(b bound) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/profiles" || r.Method != http.MethodPost {
			http.Error(w, "only POST /api/profiles", http.StatusNotFound)
			return
		}
		var body struct {
			Login string `json:"login"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Login == "" {
			http.Error(w, "a JSON body with a login", http.StatusBadRequest)
			return
		}
		id, err := b.insert(r.Context(), strings.ToLower(body.Login))
		if err != nil {
			http.Error(w, "insert: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(struct {
			ID    int64  `json:"id"`
			Login string `json:"login"`
		}{id, body.Login})
	})
}
