// Package e2e_test drives the provisiond binary end to end through the Go clients that
// oapi-codegen generated from the specs (gen/<api>): the server runs as its own process on a
// real TCP port over a fresh database (PostgreSQL when PROVISIOND_TEST_DATABASE_URL is set, else
// SQLite), with its response-validation mode on, and every request
// goes through a generated client. For every API the suite logs in where the API has a login,
// creates, reads back and updates, and produces each error status the spec documents (but 500).
//
// With PROVISIOND_E2E_PRISM set to Stoplight Prism's command (the .ci/prism package), the same
// suite runs through one `prism proxy` per API, and any violation Prism reports fails the test
// that caused it, except the request violations of requests the suite sends invalid on purpose,
// which Prism must report.
package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/openapi"
)

// The OCC store's organization and members the fixtures file gives the server. Public test values.
const (
	occstoreOrg           = "or-e2e"
	occstoreOrgB          = "or-e2e-b" // Ada administers it too; Bea, a buyer of or-e2e, administers it
	occstoreAdminEmail    = "ada@e2e.example"
	occstoreAdminPassword = "ada-e2e-password"
	occstoreBuyerEmail    = "bea@e2e.example"
	occstoreBuyerPassword = "bea-e2e-password"
)

// key is the read/write credential the fixtures file gives api, readOnlyKey its read-only one
// (for the APIs that have them). Public test values.
func key(api string) string         { return "e2e-" + api + "-read-write-key-0001" }
func readOnlyKey(api string) string { return "e2e-" + api + "-read-only-key-0001" }

// fixtures is the fixtures file of the servers the suite starts: a credential for every API
// that takes one (app.Modules), read-only too where the API has them, the OCC store's
// organization and ActivePlatform's accounts.
var fixtures = func() string {
	var b strings.Builder
	b.WriteString("credentials:\n")
	for _, api := range app.Modules.Keyed() {
		fmt.Fprintf(&b, "  - {api: %s, secret: %s}\n", api, key(api))
	}
	for _, api := range app.Modules.ReadOnly() {
		fmt.Fprintf(&b, "  - {api: %s, secret: %s, read_only: true}\n", api, readOnlyKey(api))
	}
	return b.String() + occstoreFixtures + activeplatformFixtures
}()

// The fixtures' ActivePlatform accounts: one active, one inactive.
const (
	activeplatformAccount         = 2000532
	activeplatformInactiveAccount = 2000540
)

// activeplatformFixtures are ActivePlatform's accounts of the fixtures.
var activeplatformFixtures = fmt.Sprintf(`
activeplatform:
  accounts:
    - {id: %d, name: E2E}
    - {id: %d, name: E2E closed, status: inactive}
`, activeplatformAccount, activeplatformInactiveAccount)

// occstoreFixtures is the fixtures' OCC store organizations: E2E, with its administrator and a
// buyer, and E2E B, which both administer (roles belong to an organization).
const occstoreFixtures = `
occstore:
  organizations:
    - id: ` + occstoreOrg + `
      name: E2E
      admins:
        - {email: ` + occstoreAdminEmail + `, firstName: Ada, lastName: Admin, password: ` + occstoreAdminPassword + `}
      members:
        - {email: ` + occstoreBuyerEmail + `, firstName: Bea, lastName: Buyer, password: ` + occstoreBuyerPassword + `, roles: [buyer]}
    - id: ` + occstoreOrgB + `
      name: E2E B
      admins:
        - {email: ` + occstoreAdminEmail + `, firstName: Ada, lastName: Admin, password: ` + occstoreAdminPassword + `}
        - {email: ` + occstoreBuyerEmail + `, firstName: Bea, lastName: Buyer, password: ` + occstoreBuyerPassword + `}
`

// env is the running system under test.
var env struct {
	// urls are where each API's client sends its requests: the server, or the API's Prism proxy.
	urls map[string]string
	// upstream is the server itself, whatever urls say.
	upstream string
	prism    bool
	logPath  string
	// bin is the provisiond binary and fixtures the fixtures file, for tests that run servers
	// of their own.
	bin, fixtures string
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "provisiond-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	stop, err := start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	logs, err := os.ReadFile(env.logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	if v := apitest.Violations(string(logs)); len(v) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: the server's response validation found %d violations:\n%s\n", len(v), strings.Join(v, "\n"))
		code = 1
	}
	return code
}

// start builds (or takes from PROVISIOND_BIN) the binary, serves it over a fresh database (a
// schema of PROVISIOND_TEST_DATABASE_URL when it is set, else SQLite in dir), and starts the
// Prism proxies when asked. stop ends them all.
func start(dir string) (stop func() error, err error) {
	bin := os.Getenv("PROVISIOND_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "provisiond")
		build := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/provisiond/provisiond/cmd/provisiond")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build provisiond: %v\n%s", err, out)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return nil, err
	}
	fixturesPath := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(fixturesPath, []byte(fixtures), 0o600); err != nil {
		return nil, err
	}
	env.bin, env.fixtures = bin, fixturesPath
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dbURL, dropDB := filepath.Join(dir, "provisiond.db"), func() error { return nil }
	if base := os.Getenv(apitest.EnvDatabaseURL); base != "" {
		if dbURL, dropDB, err = apitest.FreshSchema(base); err != nil {
			return nil, fmt.Errorf("%s: %w", apitest.EnvDatabaseURL, err)
		}
	}
	env.logPath = filepath.Join(dir, "server.log")
	server, err := launch(env.logPath, bin, []string{"serve"}, append(serverEnv(dbURL, addr, fixturesPath),
		// A small limit keeps the 413 bodies small: the server drains an unread body of up to
		// 256 KiB before it answers, so the client (or Prism) is not cut off while still sending.
		"PROVISIOND_BODY_LIMIT="+strconv.Itoa(bodyLimit),
		"PROVISIOND_CONTROL_BODY_LIMIT="+strconv.Itoa(controlBodyLimit),
	))
	if err != nil {
		return nil, errors.Join(err, dropDB())
	}
	stops := []func() error{dropDB, server.stop}
	stop = func() error {
		var errs []error
		for _, s := range slices.Backward(stops) {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}
	upstream := "http://" + addr
	if err := waitReady(upstream+"/readyz", server); err != nil {
		return nil, errors.Join(err, stop(), fmt.Errorf("server log:\n%s", tail(env.logPath)))
	}

	env.upstream = upstream
	env.urls = map[string]string{}
	prism := os.Getenv("PROVISIOND_E2E_PRISM")
	if prism == "" {
		for _, api := range openapi.Names() {
			env.urls[api] = upstream
		}
		return stop, nil
	}
	// One proxy per API, started together: each takes seconds to start.
	env.prism = true
	type started struct {
		api, url string
		stop     func() error
		err      error
	}
	results := make(chan started)
	for _, api := range openapi.Names() {
		go func() {
			stopPrism, url, err := startPrism(prism, api, upstream, dir)
			results <- started{api, url, stopPrism, err}
		}()
	}
	var errs []error
	for range openapi.Names() {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		stops = append(stops, r.stop)
		env.urls[r.api] = r.url
	}
	if len(errs) > 0 {
		return nil, errors.Join(append(errs, stop())...)
	}
	return stop, nil
}

// serverEnv is the environment of a server the suite starts: on dbURL, listening on addr,
// loading the fixtures file at fixturesPath, with its response-validation mode on.
func serverEnv(dbURL, addr, fixturesPath string) []string {
	return []string{
		"PROVISIOND_DATABASE_URL=" + dbURL,
		"PROVISIOND_ADDR=" + addr,
		"PROVISIOND_FIXTURES=" + fixturesPath,
		"PROVISIOND_VALIDATE_RESPONSES=true",
		"PROVISIOND_LOG_FORMAT=json",
		"PROVISIOND_PASSWORD_CONCURRENCY=2",
	}
}

// process is a child process whose output goes to a log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func launch(logPath, bin string, args, extraEnv []string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that stopping it also stops what it started (node under npx).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// stop asks the process to end (SIGTERM) and waits for it; after 20 s it is killed.
func (p *process) stop() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s ended early: %v\n%s", p.cmd.Path, p.err, tail(p.log))
	default:
	}
	_, err := p.terminate()
	return err
}

// terminate sends SIGTERM to the process and waits for it to end: exit is how it ended (nil for
// status 0). After 20 s it is killed, and err says so.
func (p *process) terminate() (exit, err error) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err, nil
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return p.err, fmt.Errorf("%s did not stop within 20s of SIGTERM", p.cmd.Path)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls url until it answers 200, the process ends, or a minute passes.
func waitReady(url string, p *process) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s ended before it was ready: %v", p.cmd.Path, p.err)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: not ready after a minute", url)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// requestKind is what the suite expects Prism to say of a request.
type requestKind int

const (
	validRequest   requestKind = iota // no request violation
	invalidRequest                    // at least one request violation
	anyRequest                        // either: a body over the size limit, whose content is beside the point
	unparsable                        // a body that does not parse, which Prism cannot forward
)

type requestKindKey struct{}

// invalid marks a request the suite sends invalid on purpose (for its operation's schema or
// security): through Prism, it must be reported as a request violation.
func invalid(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKindKey{}, invalidRequest)
}

// malformed marks a request whose body does not parse as its media type. Prism answers such a
// request itself (400 invalid_json) instead of forwarding it, so it goes to the server directly.
func malformed(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKindKey{}, unparsable)
}

// oversized marks a request whose body is over the server's size limit: the test is about the
// server's 413, so Prism may judge its content either way.
func oversized(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKindKey{}, anyRequest)
}

// doer is the HTTP client of one API's generated client in one test: it records the statuses the
// API answered and checks what Prism reports about each exchange.
type doer struct {
	t    *testing.T
	api  string
	http *http.Client

	mu   sync.Mutex
	seen map[int]bool
}

func newDoer(t *testing.T, api string) *doer {
	// Prism (Node) closes idle connections after 5 s; reusing one it is closing fails a request.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.IdleConnTimeout = 2 * time.Second
	return &doer{t: t, api: api, http: &http.Client{Timeout: time.Minute, Transport: transport}, seen: map[int]bool{}}
}

// url is where this API's requests go.
func (d *doer) url() string { return env.urls[d.api] }

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	kind, _ := req.Context().Value(requestKindKey{}).(requestKind)
	if env.prism && kind == unparsable {
		u, err := url.Parse(env.upstream)
		if err != nil {
			return nil, err
		}
		req.URL.Scheme, req.URL.Host, req.Host = u.Scheme, u.Host, ""
	}
	res, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.Header.Get("X-Request-Id") == "" {
		d.t.Errorf("%s %s → %d: no X-Request-Id, so provisiond did not answer it", req.Method, req.URL.Path, res.StatusCode)
	}
	d.mu.Lock()
	d.seen[res.StatusCode] = true
	d.mu.Unlock()
	if env.prism && kind != unparsable {
		d.checkPrism(req, res, kind)
	}
	return res, nil
}

// coverage fails the test for every error status the API's spec documents that no request of
// the test produced. 500 is left out: a correct server cannot be made to answer it on purpose;
// so is 503, which it answers only while its database is down or it is overloaded: the outage
// test (outage_test.go) produces it for every API on a server of its own.
func (d *doer) coverage() {
	d.t.Helper()
	_, doc, err := openapi.Load(d.api)
	if err != nil {
		d.t.Fatal(err)
	}
	documented := map[int]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if code, err := strconv.Atoi(status); err == nil && code >= 400 && code != 500 && code != 503 {
					documented[code] = true
				}
			}
		}
	}
	var missing []int
	for code := range documented {
		if !d.seen[code] {
			missing = append(missing, code)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		d.t.Errorf("%s: no request produced the documented statuses %v", d.api, missing)
	}
}

// bodyLimit is the server's body size limit in these tests, controlBodyLimit the control API's.
const bodyLimit, controlBodyLimit = 64 << 10, 4 << 20

// tooLarge is a JSON body over the server's limit.
func tooLarge() io.Reader {
	return bytes.NewReader([]byte(`{"padding":"` + strings.Repeat("x", bodyLimit) + `"}`))
}

// want fails the test unless got is the status wanted, showing the body.
func want(t *testing.T, what string, got int, body []byte, status int) {
	t.Helper()
	if got != status {
		t.Fatalf("%s: status %d, want %d\nbody: %s", what, got, status, body)
	}
}

// get is n's value, or T's zero value when n is null or absent (MustGet would panic).
func get[T any](n nullable.Nullable[T]) T {
	v, _ := n.Get()
	return v
}
