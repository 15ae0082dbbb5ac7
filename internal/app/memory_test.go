package app_test

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
)

func TestMemoryLimit(t *testing.T) {
	cfg := func(concurrency int, limit int64) config.Config {
		c := config.Default()
		c.PasswordConcurrency, c.MemoryLimit = concurrency, limit
		return c
	}
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	none := env(nil)
	cases := []struct {
		name   string
		cfg    config.Config
		getenv func(string) string
		limit  int64
		set    bool
	}{
		{"derived, 2 slots", cfg(2, 0), none, 88 << 20, true},
		{"derived, 8 slots", cfg(8, 0), none, (50 + 8*19) << 20, true},
		{"configured", cfg(2, 300<<20), none, 300 << 20, true},
		{"off", cfg(2, config.NoMemoryLimit), none, config.NoMemoryLimit, true},
		{"GOMEMLIMIT wins over the default", cfg(2, 0), env(map[string]string{"GOMEMLIMIT": "1GiB"}), 0, false},
		{"GOMEMLIMIT wins over the setting", cfg(2, 300<<20), env(map[string]string{"GOMEMLIMIT": "off"}), 0, false},
	}
	for _, c := range cases {
		if limit, set := app.MemoryLimit(c.cfg, c.getenv); limit != c.limit || set != c.set {
			t.Errorf("%s: MemoryLimit = %d, %v; want %d, %v", c.name, limit, set, c.limit, c.set)
		}
	}
	// Each slot adds one hash's memory: 19 MiB.
	if d := app.DefaultMemoryLimit(3) - app.DefaultMemoryLimit(2); d != 19<<20 {
		t.Errorf("a slot adds %d bytes, want 19 MiB", d)
	}
}

// TestServeSetsTheMemoryLimit: while Serve runs, the process has the limit derived from the
// password concurrency (2 in serve), logged at start; once it returns, the limit before.
func TestServeSetsTheMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: Serve leaves the limit alone")
	}
	before := debug.SetMemoryLimit(-1)
	r := serve(t, apitest.DatabaseURL(t, "sqlite"))
	if got, want := debug.SetMemoryLimit(-1), app.DefaultMemoryLimit(2); got != want {
		t.Errorf("memory limit while serving = %d, want %d", got, want)
	}
	if recs := apitest.Records(r.logs.String(), "INFO"); !containsAll(recs, `"msg":"memory limit"`, `"limit":"88MiB"`) {
		t.Errorf("no info record of the memory limit (88MiB) in:\n%s", r.logs)
	}
	r.stop(t)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("memory limit after Serve returned = %d, want the one before, %d", got, before)
	}
}

// containsAll reports whether one of records contains every part.
func containsAll(records []string, parts ...string) bool {
	for _, rec := range records {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(rec, p)
		}
		if ok {
			return true
		}
	}
	return false
}
