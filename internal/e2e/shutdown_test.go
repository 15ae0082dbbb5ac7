package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/store"
)

// loadOutcome is what the clients of one round saw.
type loadOutcome struct {
	mu sync.Mutex
	// acked are the logins of the creates answered 201.
	acked []string
	// failed are the requests written on a kept-alive connection that got no response, and the
	// answers other than 201, each described.
	failed []string
	// unstarted counts the requests that ended before the server could read them: a refused dial
	// once the listener is closed, a new connection reset from the listen queue, a kept-alive
	// connection found closed before anything was written on it.
	unstarted int
}

func (o *loadOutcome) add(f func(o *loadOutcome)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o)
}

// createUntilStopped has one client create X-Cart profiles in a loop over one keep-alive
// connection at a time, until a request fails. A create is never retried: the client's
// transport is told the body cannot be sent again.
func createUntilStopped(base, prefix string, client *http.Client, ack func(), out *loadOutcome) {
	for i := 0; ; i++ {
		login := fmt.Sprintf("%s-%d@example.com", prefix, i)
		req, err := http.NewRequest("POST", base+"/api/profiles", strings.NewReader(`{"login":"`+login+`"}`))
		if err != nil {
			panic(err)
		}
		req.GetBody = nil // a body that cannot be sent again: the transport never retries
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth-Token", key("xcart"))
		var reused, wrote bool
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn:      func(info httptrace.GotConnInfo) { reused = info.Reused },
			WroteHeaders: func() { wrote = true },
		}))
		res, err := client.Do(req)
		if err != nil {
			out.add(func(o *loadOutcome) {
				if reused && wrote {
					o.failed = append(o.failed, fmt.Sprintf("create %s: written on a kept-alive connection, no response: %v", login, err))
				} else {
					o.unstarted++
				}
			})
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			out.add(func(o *loadOutcome) {
				o.failed = append(o.failed, fmt.Sprintf("create %s: %d %s, want 201", login, res.StatusCode, body))
			})
			return
		}
		ack()
		out.add(func(o *loadOutcome) { o.acked = append(o.acked, login) })
	}
}

// TestShutdownAnswersEveryRequestItStarted runs rounds of 32 keep-alive clients creating records
// in a loop against the binary, and sends SIGTERM mid-load (once 200 creates of the round are
// acknowledged). No request written on a kept-alive connection may go unanswered, the process must
// exit 0, and every create answered 201 must be in the database afterwards.
func TestShutdownAnswersEveryRequestItStarted(t *testing.T) {
	const rounds, clients, beforeSignal = 10, 32, 200
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		dbURL := apitest.DatabaseURL(t, dialect)
		var acked []string
		total, unstarted := 0, 0
		for round := range rounds {
			in := startInstance(t, dbURL)
			out := &loadOutcome{}
			var count atomic.Int64
			reached := make(chan struct{})
			ack := func() {
				if count.Add(1) == beforeSignal {
					close(reached)
				}
			}
			var wg sync.WaitGroup
			for c := range clients {
				// One transport per client: its own keep-alive connection, as separate clients have.
				client := &http.Client{Transport: &http.Transport{}}
				wg.Go(func() {
					createUntilStopped(in.url(), fmt.Sprintf("r%d-c%d", round, c), client, ack, out)
				})
			}
			select {
			case <-reached:
			case <-in.done:
				t.Fatalf("round %d: the server ended under load: %v\n%s", round, in.err, tail(in.log))
			}
			exit, err := in.terminate()
			if err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if exit != nil {
				t.Errorf("round %d: the server exited with %v after SIGTERM, want status 0\n%s", round, exit, tail(in.log))
			}
			for _, f := range out.failed {
				t.Errorf("round %d: %s", round, f)
			}
			t.Logf("round %d: %d creates acknowledged, %d failed, %d never started", round, len(out.acked), len(out.failed), out.unstarted)
			acked = append(acked, out.acked...)
			total += len(out.acked) + len(out.failed)
			unstarted += out.unstarted
		}
		t.Logf("%s: %d rounds × %d clients: %d requests answered or failed (%d acknowledged), %d never started", dialect, rounds, clients, total, len(acked), unstarted)

		db, err := store.Open(context.Background(), dbURL, store.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close(db)
		var stored []string
		if err := db.Table("xcart_profiles").Pluck("login", &stored).Error; err != nil {
			t.Fatal(err)
		}
		have := make(map[string]bool, len(stored))
		for _, l := range stored {
			have[l] = true
		}
		var lost []string
		for _, l := range acked {
			if !have[l] {
				lost = append(lost, l)
			}
		}
		if len(lost) > 0 {
			t.Errorf("%d of %d acknowledged creates are not in the database: %v", len(lost), len(acked), lost)
		}
	})
}
