package config

import (
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"auto":                0,
		"off":                 NoMemoryLimit,
		"100000000":           100000000,
		"512B":                512,
		"64KiB":               64 << 10,
		"160MiB":              160 << 20,
		"2GiB":                2 << 30,
		"1TiB":                1 << 40,
		"8388607TiB":          8388607 << 40,
		"9223372036854775807": NoMemoryLimit,
	} {
		if got, err := ParseMemoryLimit(in); err != nil || got != want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "0MiB", "-1", "-5MiB", "160MB", "160M", "1.5GiB", "MiB", "8388608TiB", "Auto", "none", " 160MiB"} {
		if got, err := ParseMemoryLimit(bad); err == nil {
			t.Errorf("ParseMemoryLimit(%q) = %d, want an error", bad, got)
		}
	}
}

// TestMemoryLimitSetting: the setting is auto (0) by default, read from PROVISIOND_MEMORY_LIMIT,
// and a flag wins over it.
func TestMemoryLimitSetting(t *testing.T) {
	parse := func(env map[string]string, args ...string) (Config, error) {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		s := NewSet(fs)
		s.Serve(&c)
		return c, s.Parse(&c, args, func(k string) string { return env[k] })
	}
	if c, err := parse(nil); err != nil || c.MemoryLimit != 0 {
		t.Errorf("default: %d, %v; want 0 (auto)", c.MemoryLimit, err)
	}
	if c, err := parse(map[string]string{"PROVISIOND_MEMORY_LIMIT": "96MiB"}); err != nil || c.MemoryLimit != 96<<20 {
		t.Errorf("PROVISIOND_MEMORY_LIMIT=96MiB: %d, %v; want %d", c.MemoryLimit, err, 96<<20)
	}
	if c, err := parse(map[string]string{"PROVISIOND_MEMORY_LIMIT": "96MiB"}, "--memory-limit", "off"); err != nil || c.MemoryLimit != NoMemoryLimit {
		t.Errorf("--memory-limit off over the environment: %d, %v; want NoMemoryLimit", c.MemoryLimit, err)
	}
	if _, err := parse(map[string]string{"PROVISIOND_MEMORY_LIMIT": "lots"}); err == nil {
		t.Errorf("PROVISIOND_MEMORY_LIMIT=lots was accepted")
	}
}

// TestDefaultDBMaxConns: 4 connections per CPU, never fewer than MinDBMaxConns.
func TestDefaultDBMaxConns(t *testing.T) {
	for cpus, want := range map[int]int{1: 32, 2: 32, 8: 32, 9: 36, 16: 64} {
		if got := DefaultDBMaxConns(cpus); got != want {
			t.Errorf("DefaultDBMaxConns(%d) = %d, want %d", cpus, got, want)
		}
	}
}

// TestBadSettingsNameTheVariableAndTheProblem: a value a setting cannot take is refused with the
// variable's name, the value, and the form it wants, every bad one at once.
func TestBadSettingsNameTheVariableAndTheProblem(t *testing.T) {
	env := map[string]string{
		"PROVISIOND_BODY_LIMIT":   "abc",
		"PROVISIOND_DB_TIMEOUT":   "5",
		"PROVISIOND_CONTROL":      "maybe",
		"PROVISIOND_LOG_FORMAT":   "xml",
		"PROVISIOND_JOURNAL_SIZE": "99999999999999999999",
	}
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := NewSet(fs)
	s.Serve(&c)
	err := s.Parse(&c, nil, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad settings were accepted")
	}
	for _, want := range []string{
		`PROVISIOND_BODY_LIMIT="abc": want a whole number`,
		`PROVISIOND_DB_TIMEOUT="5": want a duration such as 500ms, 30s, 5m or 1h30m`,
		`PROVISIOND_CONTROL="maybe": want true or false`,
		`PROVISIOND_LOG_FORMAT="xml": must be "json" or "text"`,
		`PROVISIOND_JOURNAL_SIZE="99999999999999999999": want a whole number (value out of range)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
}

func TestParseOrigins(t *testing.T) {
	for in, want := range map[string][]string{
		"":                      nil,
		"*":                     {"*"},
		"http://localhost:3000": {"http://localhost:3000"},
		" http://localhost:3000 , https://app.example ,": {"http://localhost:3000", "https://app.example"},
	} {
		if got, err := ParseOrigins(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseOrigins(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"localhost:3000", "ftp://x.example", "http://x.example/app", "http://x.example?a=1", "https://", "*,http://x.example", "http://u:p@x.example"} {
		if got, err := ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) = %q, want an error", bad, got)
		}
	}
}

// TestDocsListEverySetting: the configuration table of docs/cli-and-configuration.md has a row for every setting of
// serve (which registers all but the CLI's own), with its environment variable and its flag.
func TestDocsListEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../docs/cli-and-configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := NewSet(fs)
	c := Default()
	s.Serve(&c)
	for name, env := range s.env {
		row := "| `" + env + "` | `--" + name + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("docs/cli-and-configuration.md's configuration table has no row starting %s", row)
		}
	}
}
