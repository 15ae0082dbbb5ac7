package app

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/password"
)

// hashMemory is the memory of one password hash: argon2id's with the OWASP parameters, which
// golang.org/x/crypto/argon2 allocates afresh for every hash.
var hashMemory = int64(password.OWASP.Memory) << 10

// serverMemory is what the server needs besides its running hashes: its heap at rest (about
// 12 MiB), the runtime's own, and the requests waiting for a hashing slot (about 40 KiB each,
// stack included: 512 of them take 20 MiB).
const serverMemory = 50 << 20

// DefaultMemoryLimit is the memory limit of a server computing passwordConcurrency hashes at once:
// serverMemory plus one hash's memory per slot (88 MiB for 2 slots). Without a limit the heap of
// a server busy hashing grows to twice what it holds, since every hash leaves 19 MiB of garbage
// behind; at the limit the garbage collector collects a finished hash's memory before the next
// one is allocated, at the cost of more frequent (and cheap: that memory holds no pointers)
// collections.
func DefaultMemoryLimit(passwordConcurrency int) int64 {
	return serverMemory + int64(max(passwordConcurrency, 1))*hashMemory
}

// MemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) that a server configured by
// cfg sets, and whether it sets one at all: not when the operator set GOMEMLIMIT (getenv reads the
// environment), which the Go runtime applied at start and which wins. Otherwise it is
// cfg.MemoryLimit, or DefaultMemoryLimit when that is 0 (config.NoMemoryLimit: none).
func MemoryLimit(cfg config.Config, getenv func(string) string) (limit int64, set bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	if cfg.MemoryLimit == 0 {
		return DefaultMemoryLimit(cfg.PasswordConcurrency), true
	}
	return cfg.MemoryLimit, true
}

// applyMemoryLimit sets MemoryLimit, logs the limit in force and where it comes from, and
// returns what restores the limit before.
func applyMemoryLimit(cfg config.Config, getenv func(string) string, logger *slog.Logger) (restore func()) {
	limit, set := MemoryLimit(cfg, getenv)
	source := "PROVISIOND_MEMORY_LIMIT"
	switch {
	case !set:
		limit, source = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	case cfg.MemoryLimit == 0:
		source = "derived from PROVISIOND_PASSWORD_CONCURRENCY"
	}
	shown := "off"
	switch {
	case limit == config.NoMemoryLimit:
	case limit%(1<<20) == 0:
		shown = fmt.Sprintf("%dMiB", limit>>20)
	default:
		shown = fmt.Sprintf("%dB", limit)
	}
	logger.Info("memory limit", "limit", shown, "source", source)
	if !set {
		return func() {}
	}
	before := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(before) }
}
