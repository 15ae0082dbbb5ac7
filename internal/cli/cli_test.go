package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/cli"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/store"
)

func run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cli.Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCredentialsCreatePrintsOnlyTheSecret(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	env := map[string]string{"PROVISIOND_DATABASE_URL": db}
	out, _, err := run(t, env, "credentials", "create", "--api", "xcart", "--read-only")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSuffix(out, "\n")
	if strings.ContainsAny(secret, " \n") || len(secret) < 32 {
		t.Fatalf("stdout %q, want only the secret on one line", out)
	}
	conn, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(conn)
	c, err := credential.NewStore(conn).Check(context.Background(), "xcart", secret)
	if err != nil || !c.ReadOnly {
		t.Fatalf("the printed secret is not a read-only xcart credential: %+v %v", c, err)
	}
	var stored int64
	conn.Table("credentials").Where("hash = ?", secret).Count(&stored)
	if stored != 0 {
		t.Errorf("the secret is stored in clear")
	}
	if _, _, err := run(t, env, "credentials", "create", "--api", "nope"); err == nil {
		t.Errorf("an unknown API was accepted")
	}
	if _, _, err := run(t, env, "credentials", "create", "--api", "platformos", "--read-only"); err == nil {
		t.Errorf("a read-only platformos token was made; platformOS has none")
	}
}

func TestFixturesLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	file := filepath.Join(dir, "f.yaml")
	writeFile(t, file, "xcart:\n  memberships:\n    - {id: 1, name: Renamed}\n    - {id: 7, name: Gold}\n  roles:\n    - {id: 9, name: Auditor}\ncredentials:\n  - {api: xcart, secret: ci-known-secret-0123456789}\n")
	env := map[string]string{"PROVISIOND_DATABASE_URL": db}
	if _, _, err := run(t, env, "fixtures", "load", file); err != nil {
		t.Fatal(err)
	}
	conn, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(conn)
	var names []string
	conn.Table("xcart_memberships").Order("id").Pluck("name", &names)
	if strings.Join(names, ",") != "Renamed,VIP,Gold" {
		t.Errorf("memberships %v, want the file's names over the defaults", names)
	}
	if _, err := credential.NewStore(conn).Check(context.Background(), "xcart", "ci-known-secret-0123456789"); err != nil {
		t.Errorf("the fixture credential does not work: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "xcart:\n  rolez: []\n")
	if _, _, err := run(t, env, "fixtures", "load", bad); err == nil || !strings.Contains(err.Error(), "rolez") {
		t.Errorf("a misspelt key was accepted: %v", err)
	}
}

func TestHelp(t *testing.T) {
	out, _, err := run(t, nil, "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "credentials create") {
		t.Errorf("--help: %v %q", err, out)
	}
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"credentials", "create"}, {"fixtures", "load"}, {"openapi"}, {"healthcheck"}} {
		_, errOut, err := run(t, nil, append(cmd, "--help")...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "Usage: provisiond") {
			t.Errorf("%v --help: %v %q", cmd, err, errOut)
		}
	}
	_, errOut, _ := run(t, nil, "serve", "--help")
	for _, s := range []string{"PROVISIOND_ADDR", "PROVISIOND_DATABASE_URL", "PROVISIOND_LOG_LEVEL", "PROVISIOND_LOG_FORMAT", "PROVISIOND_JWT_SECRET", "PROVISIOND_BODY_LIMIT"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("serve --help does not mention %s", s)
		}
	}
	if _, _, err := run(t, nil, "--database-url", "x.db", "migrate"); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("flags before the command: %v, want an unexpected arguments error", err)
	}
	if _, _, err := run(t, nil, "frobnicate"); err == nil {
		t.Errorf("an unknown command was accepted")
	}
}

func TestOpenAPICommand(t *testing.T) {
	for _, api := range []string{"xcart", "occadmin", "occstore", "platformos"} {
		if out, _, err := run(t, nil, "openapi", api); err != nil || !strings.HasPrefix(out, "openapi: 3.0.3") {
			t.Errorf("openapi %s: %v %.40q", api, err, out)
		}
	}
	out, _, err := run(t, nil, "openapi", "xcart")
	if err != nil || !strings.HasPrefix(out, "openapi: 3.0.3") {
		t.Errorf("openapi xcart: %v %.40q", err, out)
	}
	out, _, err = run(t, nil, "openapi", "--format", "json", "xcart")
	var doc map[string]any
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc["openapi"] != "3.0.3" {
		t.Errorf("openapi --format json xcart: %v %.40q", err, out)
	}
}

func TestMigrate(t *testing.T) {
	env := map[string]string{"PROVISIOND_DATABASE_URL": filepath.Join(t.TempDir(), "p.db")}
	out, _, err := run(t, env, "migrate")
	if err != nil || len(strings.Fields(out)) != len(app.Migrations()) {
		t.Errorf("first migrate: %v, printed %q, want every migration id", err, out)
	}
	if out, _, err := run(t, env, "migrate"); err != nil || out != "" {
		t.Errorf("second migrate: %v, printed %q, want nothing", err, out)
	}
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	if _, _, err := run(t, nil, "healthcheck", "--url", srv.URL); err != nil {
		t.Errorf("healthy server: %v", err)
	}
	status = http.StatusServiceUnavailable
	if _, _, err := run(t, nil, "healthcheck", "--url", srv.URL); err == nil {
		t.Errorf("unready server passed the healthcheck")
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	status = http.StatusOK
	// The default URL is /readyz on PROVISIOND_ADDR; this server answers any path.
	if _, _, err := run(t, map[string]string{"PROVISIOND_ADDR": addr}, "healthcheck"); err != nil {
		t.Errorf("healthcheck on PROVISIOND_ADDR: %v", err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	parse := func(env map[string]string, args ...string) (config.Config, error) {
		cfg := config.Default()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		set := config.NewSet(fs)
		set.Serve(&cfg)
		err := set.Parse(&cfg, args, func(k string) string { return env[k] })
		return cfg, err
	}
	cfg, err := parse(nil)
	if err != nil || cfg.Addr != ":8080" || cfg.DatabaseURL != "./data/provisiond.db" || cfg.BodyLimit != 1<<20 || cfg.LogFormat != "json" || cfg.ValidateResponses ||
		cfg.OCCAdminTokenTTL != 5*time.Minute || cfg.OCCStoreTokenTTL != 930*time.Second {
		t.Errorf("defaults: %+v %v", cfg, err)
	}
	cfg, err = parse(map[string]string{"PROVISIOND_ADDR": ":9000", "PROVISIOND_BODY_LIMIT": "2048", "PROVISIOND_LOG_FORMAT": "text"}, "--addr", ":9100")
	if err != nil || cfg.Addr != ":9100" || cfg.BodyLimit != 2048 || cfg.LogFormat != "text" {
		t.Errorf("env then flag: %+v %v, want the flag to win over the environment", cfg, err)
	}
	// Each setting of serve is read from its own environment variable and its own flag.
	for _, c := range []struct {
		env, flag, value string
		got              func(config.Config) any
		want             any
	}{
		{"PROVISIOND_VALIDATE_RESPONSES", "validate-responses", "true", func(c config.Config) any { return c.ValidateResponses }, true},
		{"PROVISIOND_TIMEZONE", "timezone", "Europe/Moscow", func(c config.Config) any { return c.Timezone }, "Europe/Moscow"},
		{"PROVISIOND_PASSWORD_POLICY", "password-policy", "min=10,upper", func(c config.Config) any { return c.PasswordPolicy }, "min=10,upper"},
		{"PROVISIOND_OCCADMIN_TOKEN_TTL", "occadmin-token-ttl", "90s", func(c config.Config) any { return c.OCCAdminTokenTTL.String() }, "1m30s"},
		{"PROVISIOND_OCCSTORE_TOKEN_TTL", "occstore-token-ttl", "20m", func(c config.Config) any { return c.OCCStoreTokenTTL.String() }, "20m0s"},
		{"PROVISIOND_JWT_TTL", "jwt-ttl", "2h", func(c config.Config) any { return c.JWTTTL.String() }, "2h0m0s"},
		{"PROVISIOND_PASSWORD_CONCURRENCY", "password-concurrency", "3", func(c config.Config) any { return c.PasswordConcurrency }, 3},
		{"PROVISIOND_FIXTURES", "fixtures", "f.yaml", func(c config.Config) any { return c.FixturesFile }, "f.yaml"},
	} {
		fromEnv, err := parse(map[string]string{c.env: c.value})
		if err != nil || c.got(fromEnv) != c.want {
			t.Errorf("%s=%s: got %v (%v), want %v", c.env, c.value, c.got(fromEnv), err, c.want)
		}
		fromFlag, err := parse(nil, "--"+c.flag+"="+c.value)
		if err != nil || c.got(fromFlag) != c.want {
			t.Errorf("--%s=%s: got %v (%v), want %v", c.flag, c.value, c.got(fromFlag), err, c.want)
		}
	}
	for _, env := range []map[string]string{
		{"PROVISIOND_BODY_LIMIT": "lots"},
		{"PROVISIOND_LOG_FORMAT": "xml"},
		{"PROVISIOND_LOG_LEVEL": "loud"},
		{"PROVISIOND_JWT_SECRET": "short"},
		{"PROVISIOND_BODY_LIMIT": "0"},
		{"PROVISIOND_OCCADMIN_TOKEN_TTL": "1500ms"}, // expires_in is whole seconds
		{"PROVISIOND_OCCSTORE_TOKEN_TTL": "0s"},
	} {
		if _, err := parse(env); err == nil {
			t.Errorf("%v was accepted", env)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestResetEmptiesTheNamedAPIs checks provisiond reset against a database: the named API's rows
// are gone and its ids restart, the others' stay, the fixtures file is applied again, and the
// credentials are kept unless --drop-credentials.
func TestResetEmptiesTheNamedAPIs(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	file := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(file, []byte("xcart:\n  roles:\n    - {id: 77, name: Auditor}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PROVISIOND_DATABASE_URL": db}
	secret, _, err := run(t, env, "credentials", "create", "--api", "activeplatform")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	conn, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(conn)
	count := func(table, where string) (n int64) {
		t.Helper()
		if err := conn.Table(table).Where(where).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := conn.Exec("INSERT INTO xcart_roles (id, name) VALUES (50, 'Temp')").Error; err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec("INSERT INTO activeplatform_attributes (attr_key, name, type) VALUES ('shoe', 'Shoe', 'integer')").Error; err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, env, "reset", "--api", "xcart", "--fixtures", file)
	if err != nil || out != "reset xcart\n" {
		t.Fatalf("reset: %q, %v", out, err)
	}
	if count("xcart_roles", "id = 50") != 0 || count("xcart_roles", "id = 77") != 1 || count("xcart_roles", "id = 1") != 1 {
		t.Errorf("after reset --api xcart: the added role stays or the reference data or the fixtures file's role is missing")
	}
	if count("activeplatform_attributes", "attr_key = 'shoe'") != 1 {
		t.Errorf("reset --api xcart removed ActivePlatform's data")
	}
	if _, err := credential.NewStore(conn).Check(context.Background(), "activeplatform", secret); err != nil {
		t.Errorf("reset without --drop-credentials dropped a credential: %v", err)
	}

	if _, _, err := run(t, env, "reset", "--drop-credentials"); err != nil {
		t.Fatal(err)
	}
	if count("activeplatform_attributes", "attr_key = 'shoe'") != 0 || count("xcart_roles", "id = 77") != 0 {
		t.Errorf("a reset of every API left data behind")
	}
	if _, err := credential.NewStore(conn).Check(context.Background(), "activeplatform", secret); err == nil {
		t.Errorf("reset --drop-credentials kept the ActivePlatform credential")
	}
	if _, _, err := run(t, env, "reset", "--api", "nope"); err == nil {
		t.Errorf("reset --api nope was accepted")
	}
}

// `version` and `--version` print the build in one line on stdout.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, _, err := run(t, nil, args...)
		if err != nil || !strings.HasPrefix(out, "provisiond ") || strings.Count(out, "\n") != 1 || !strings.Contains(out, "go1.") {
			t.Errorf("%v: %q %v, want one line: provisiond VERSION[, commit …], GOVERSION", args, out, err)
		}
	}
}

// `credentials --help` prints the subcommands and succeeds; `credentials list` shows every
// credential without its secret; `credentials revoke` deletes by id and fails on an unknown one.
func TestCredentialsListAndRevoke(t *testing.T) {
	for _, help := range []string{"--help", "-h", "help"} {
		out, _, err := run(t, nil, "credentials", help)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "credentials list") || !strings.Contains(out, "credentials revoke") {
			t.Errorf("credentials %s: %q %v, want the usage and flag.ErrHelp (exit 0)", help, out, err)
		}
	}
	if _, _, err := run(t, nil, "credentials"); err == nil {
		t.Error("credentials without a subcommand succeeded")
	}
	env := map[string]string{"PROVISIOND_DATABASE_URL": filepath.Join(t.TempDir(), "p.db")}
	secret, _, err := run(t, env, "credentials", "create", "--api", "occadmin", "--read-only")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	out, _, err := run(t, env, "credentials", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "ID API READ-ONLY CREATED LAST USED" {
		t.Fatalf("credentials list:\n%s\nwant a header and one credential", out)
	}
	if f := strings.Fields(lines[1]); len(f) != 5 || f[0] != "1" || f[1] != "occadmin" || f[2] != "true" || f[4] != "never" {
		t.Errorf("credentials list row %q, want 1 occadmin true CREATED never", lines[1])
	}
	if strings.Contains(out, secret) {
		t.Error("credentials list shows the secret")
	}
	if _, _, err := run(t, env, "credentials", "revoke", "x"); err == nil {
		t.Error("credentials revoke x succeeded")
	}
	out, _, err = run(t, env, "credentials", "revoke", "1", "2")
	if err == nil || !strings.Contains(err.Error(), "[2]") || out != "revoked 1\n" {
		t.Errorf("credentials revoke 1 2: %q %v, want 1 revoked and an error naming 2", out, err)
	}
	if out, _, err = run(t, env, "credentials", "list"); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("credentials list after the revoke: %q %v, want the header only", out, err)
	}
}

// TestOpenAPICommandPasswordPolicy: ActivePlatform's document states the password policy the
// environment configures, as the server serves it; the default policy's as written.
func TestOpenAPICommandPasswordPolicy(t *testing.T) {
	out, _, err := run(t, nil, "openapi", "activeplatform")
	if err != nil || !strings.Contains(out, "\n      minLength: 8\n") {
		t.Errorf("openapi activeplatform: %v, want the default policy's minLength 8", err)
	}
	env := map[string]string{"PROVISIOND_PASSWORD_POLICY": "min=12,lower"}
	out, _, err = run(t, env, "openapi", "activeplatform")
	if err != nil || !strings.Contains(out, "\n      minLength: 12\n") || !strings.Contains(out, `pattern: '^[^\x00]*([a-z])[^\x00]*$'`) {
		t.Errorf("openapi activeplatform with min=12,lower: %v, want minLength 12 and a lower-case letter's pattern", err)
	}
	out, _, err = run(t, env, "openapi", "--format", "json", "activeplatform")
	if err != nil || !strings.Contains(out, `"minLength":12`) {
		t.Errorf("openapi --format json activeplatform with min=12,lower: %v", err)
	}
	if _, _, err := run(t, map[string]string{"PROVISIOND_PASSWORD_POLICY": "min=x"}, "openapi", "activeplatform"); err == nil {
		t.Errorf("an invalid policy printed a document")
	}
}
