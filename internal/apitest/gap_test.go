package apitest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// fakeTB records what Gap asks of a test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Logf(string, ...any)               {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// Gap leaves one file per distinct notice for `make test` to print, however often it is met, and
// in strict mode (`make test-all`) fails the test instead.
func TestGap(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvGaps, dir)
	t.Setenv(EnvStrict, "")
	for range 3 {
		for _, n := range []string{"gap test: no frobnicator", "gap test: no widget"} {
			f := &fakeTB{TB: t}
			Gap(f, n)
			if f.fatal != "" {
				t.Fatalf("Gap(%q) without strict mode failed the test: %s", n, f.fatal)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		notices = append(notices, strings.TrimSpace(string(b)))
	}
	if len(notices) != 2 || !strings.Contains(strings.Join(notices, "|"), "no frobnicator") || !strings.Contains(strings.Join(notices, "|"), "no widget") {
		t.Errorf("files left for two notices met three times each: %q, want one per notice", notices)
	}

	t.Setenv(EnvStrict, "1")
	f := &fakeTB{TB: t}
	Gap(f, "gap test: strict")
	if !strings.Contains(f.fatal, "gap test: strict") || !strings.Contains(f.fatal, EnvStrict+"=1") {
		t.Errorf("Gap in strict mode: fatal %q, want the notice and %s=1", f.fatal, EnvStrict)
	}
}
