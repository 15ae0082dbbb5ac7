package xcart_test

import (
	"bytes"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/password"
)

// BenchmarkPasswordCreateVsArgon2id compares password creates over the whole server (SQLite, as
// many hashing slots as CPUs) with bare argon2id derivations, with the same parameters, on as
// many goroutines as CPUs. Each iteration is one round of both, measured in turn so that a
// machine whose load changes treats them alike: the bare derivations, 8 per goroutine, then as
// many creates from 8 clients per slot, one each, so that a slot never waits for a client. It
// reports create/bare, the creates' rate over the bare rate (1 is the ceiling), and both rates.
//   - default: the Go runtime's defaults, as the benchmark process has them;
//   - memory-limit: with the memory limit that serve sets by default (app.DefaultMemoryLimit).
func BenchmarkPasswordCreateVsArgon2id(b *testing.B) {
	slots := runtime.NumCPU()
	b.Run("default", func(b *testing.B) { benchPasswordVsBare(b, slots) })
	b.Run("memory-limit", func(b *testing.B) {
		before := debug.SetMemoryLimit(app.DefaultMemoryLimit(slots))
		defer debug.SetMemoryLimit(before)
		benchPasswordVsBare(b, slots)
	})
}

func benchPasswordVsBare(b *testing.B, slots int) {
	const perSlot = 8
	p := password.OWASP
	pw := []byte("correct horse battery staple")
	salt := bytes.Repeat([]byte{1}, p.SaltLen)
	h, token := benchServer(b, "sqlite")
	clients := make([]func() bool, slots*perSlot)
	for i := range clients {
		c := creates(createBody(true), token)
		clients[i] = func() bool { return c.Serve(h, http.StatusCreated) == nil }
	}
	if !clients[0]() { // warm up, and fail early
		b.Fatal("a password create failed")
	}
	// phase runs each of fs on a goroutine of its own and returns how long they took together.
	phase := func(fs []func() bool) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for _, f := range fs {
			wg.Go(func() {
				if !f() {
					b.Error("a password create failed")
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	bare := make([]func() bool, slots)
	for i := range bare {
		bare[i] = func() bool {
			for range perSlot {
				argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			}
			return true
		}
	}
	var bareTime, createTime time.Duration
	for b.Loop() {
		bareTime += phase(bare)
		createTime += phase(clients)
	}
	ops := float64(b.N * slots * perSlot)
	b.ReportMetric(bareTime.Seconds()/createTime.Seconds(), "create/bare")
	b.ReportMetric(ops/bareTime.Seconds(), "bare/s")
	b.ReportMetric(ops/createTime.Seconds(), "creates/s")
}
