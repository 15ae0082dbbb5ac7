package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/internal/version"
	"github.com/provisiond/provisiond/openapi"
)

// running is a server started with app.Serve on a real TCP port.
type running struct {
	base   string
	out    *apitest.SyncBuffer
	logs   *apitest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

func serve(t *testing.T, dbURL string) *running {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = dbURL
	cfg.PasswordConcurrency = 2
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.ValidateResponses = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{base: "http://" + ln.Addr().String(), out: &apitest.SyncBuffer{}, logs: &apitest.SyncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	logger := app.NewLogger(config.Config{LogLevel: slog.LevelInfo, LogFormat: "json"}, r.logs)
	go func() { r.done <- app.Serve(ctx, cfg, ln, r.out, logger, app.Deps{}) }()
	t.Cleanup(func() {
		r.stop(t)
		apitest.FailOnViolations(t, r.logs.String())
	})
	for i := 0; ; i++ {
		res, err := http.Get(r.base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		select {
		case err := <-r.done:
			t.Fatalf("server stopped: %v\n%s", err, r.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return r
}

// stop sends the shutdown signal and waits for Serve to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("Serve returned %v, want nil after shutdown", err)
	}
}

func (r *running) key(t *testing.T) string { return r.keyOf(t, "xcart") }

// keyOf is the credential of api that the server printed at its first start.
func (r *running) keyOf(t *testing.T, api string) string {
	t.Helper()
	for _, line := range strings.Split(r.out.String(), "\n") {
		if strings.Contains(line, "credential for "+api+" ") {
			return line[strings.LastIndex(line, " ")+1:]
		}
	}
	t.Fatalf("no %s credential printed: %q", api, r.out.String())
	return ""
}

func do(t *testing.T, method, url, key string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestRestartKeepsDataAndDrainsInFlightRequests(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		dbURL := apitest.DatabaseURL(t, dialect)
		first := serve(t, dbURL)
		key := first.key(t)

		status, created := do(t, "POST", first.base+"/api/profiles", key, strings.NewReader(`{"login":"kept@example.com"}`))
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, created)
		}

		// A request whose body is still arriving when shutdown begins is finished, not cut.
		pr, pw := io.Pipe()
		var wg sync.WaitGroup
		var inflight int
		wg.Go(func() { inflight, _ = do(t, "POST", first.base+"/api/profiles", key, pr) })
		if _, err := pw.Write([]byte(`{"login":"inflight`)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // let the server read the headers before shutdown begins
		first.cancel()
		if _, err := pw.Write([]byte(`@example.com"}`)); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		wg.Wait()
		if inflight != http.StatusCreated {
			t.Errorf("in-flight create during shutdown: %d, want 201", inflight)
		}
		if err := <-first.done; err != nil {
			t.Errorf("Serve after SIGTERM: %v, want nil", err)
		}
		first.cancel = nil

		second := serve(t, dbURL)
		if out := second.out.String(); out != "" {
			t.Errorf("second start printed %q, want nothing (credentials exist)", out)
		}
		status, got := do(t, "GET", fmt.Sprintf("%s/api/profiles/%v", second.base, created["id"]), key, nil)
		if status != http.StatusOK || got["login"] != "kept@example.com" {
			t.Errorf("read back after restart: %d %v", status, got)
		}
		var list []map[string]any
		req, _ := http.NewRequest("GET", second.base+"/api/profiles?login=inflight", nil)
		req.Header.Set("X-Auth-Token", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		if len(list) != 1 {
			t.Errorf("the in-flight profile was not kept: %v", list)
		}
	})
}

func TestOperationalEndpoints(t *testing.T) {
	s := serve(t, apitest.DatabaseURL(t, "sqlite"))
	key := s.key(t)
	do(t, "POST", s.base+"/api/profiles", key, strings.NewReader(`{"login":"secret.person@example.com","password":"hunter2-hunter2"}`))
	do(t, "POST", s.base+"/api/profiles", key, strings.NewReader(`{"login":"x"}`))

	get := func(path string) (int, string, http.Header) {
		res, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	for _, c := range []struct{ path, contains, ctype string }{
		{"/healthz", `"status":"ok"`, "application/json"},
		{"/readyz", `"status":"ok"`, "application/json"},
		{"/openapi/xcart.yaml", "openapi: 3.0.3", "application/yaml"},
		{"/openapi/xcart.json", `"operationId":"createProfile"`, "application/json"},
		{"/metrics", `provisiond_http_requests_total{api="xcart",method="POST",route="/api/profiles",status="201"} 1`, "text/plain"},
		{"/metrics", `provisiond_http_request_duration_seconds_count{api="xcart",method="POST",route="/api/profiles",status="422"} 1`, "text/plain"},
		// The database pools (SQLite: the writer and the readers) and the wait for a hashing slot.
		{"/metrics", `go_sql_max_open_connections{db_name="main"} 1`, "text/plain"},
		{"/metrics", `go_sql_max_open_connections{db_name="read"}`, "text/plain"},
		{"/metrics", `provisiond_password_wait_seconds_count 1`, "text/plain"},
		{"/metrics", `provisiond_build_info{commit="` + version.Get().Commit + `",date="` + version.Get().Date + `",goversion="` + runtime.Version() + `",version="` + version.Get().Version + `"} 1`, "text/plain"},
	} {
		status, body, h := get(c.path)
		if status != http.StatusOK || !strings.Contains(body, c.contains) || !strings.HasPrefix(h.Get("Content-Type"), c.ctype) {
			t.Errorf("GET %s: %d %s %.200q, want 200 %s containing %q", c.path, status, h.Get("Content-Type"), body, c.ctype, c.contains)
		}
	}
	if status, _, _ := get("/openapi/nothing.yaml"); status != http.StatusNotFound {
		t.Errorf("unknown spec: %d, want 404", status)
	}

	// Logs: every request line carries the request id; no submitted value or secret appears.
	logs := s.logs.String()
	for _, secret := range []string{"secret.person", "hunter2", key} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the submitted value %q", secret)
		}
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == "request" {
			n++
			if id, _ := rec["request_id"].(string); id == "" {
				t.Errorf("request log line without request_id: %s", line)
			}
			if want := map[string]string{"/api/profiles": "xcart", "/metrics": "none"}[fmt.Sprint(rec["route"])]; want != "" && rec["api"] != want {
				t.Errorf("request log line of %v: api %v, want %s", rec["route"], rec["api"], want)
			}
		}
	}
	if n < 4 {
		t.Errorf("%d request log lines, want at least 4:\n%s", n, logs)
	}

	// A client's request id is kept; an unsafe one is replaced.
	for _, c := range []struct{ sent, want string }{{"abc-123", "abc-123"}, {"bad id", ""}, {strings.Repeat("x", 129), ""}} {
		req, _ := http.NewRequest("GET", s.base+"/healthz", nil)
		req.Header.Set("X-Request-Id", c.sent)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("X-Request-Id")
		if c.want != "" && got != c.want || c.want == "" && (got == "" || got == c.sent) {
			t.Errorf("X-Request-Id sent %q, answered %q", c.sent, got)
		}
	}
}

func TestReadyzReportsADeadDatabase(t *testing.T) {
	s := apitest.Start(t, "sqlite", apitest.Options{})
	if res := s.Call(t, "GET", "/readyz", nil); res.Status != http.StatusOK {
		t.Fatalf("readyz: %d", res.Status)
	}
	if err := store.Close(s.DB); err != nil { // every pool: the writer's and the readers'
		t.Fatal(err)
	}
	if res := s.Call(t, "GET", "/readyz", nil); res.Status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed: %d %s, want 503", res.Status, res.Body)
	}
	if res := s.Call(t, "GET", "/healthz", nil); res.Status != http.StatusOK {
		t.Errorf("healthz with the database closed: %d, want 200 (the process is alive)", res.Status)
	}
	// A request that needs the database gets the vendor's generic 500, never internals.
	res := s.Call(t, "GET", "/api/profiles", nil, "X-Auth-Token", s.Keys["xcart"])
	if res.Status != http.StatusInternalServerError || !bytes.Contains(res.Body, []byte(`"detail":"Internal Server Error"`)) {
		t.Errorf("with the database closed: %d %s, want 500 with a generic detail", res.Status, res.Body)
	}
	if !strings.Contains(s.Logs.String(), `"msg":"request failed"`) {
		t.Errorf("the cause of the 500 is not logged:\n%s", s.Logs)
	}
}

func configFor(url string) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = url
	return cfg
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestModulesAreTheSpecs checks that the APIs served are those openapi/ holds a spec of (and
// openapi's tests check that these are those gen/ holds code of): a spec without a module, or a
// module without a spec, is a mistake, and each module's name is unique.
func TestModulesAreTheSpecs(t *testing.T) {
	names := app.Modules.Names()
	sorted := slices.Sorted(slices.Values(names))
	if want := openapi.Names(); !slices.Equal(sorted, want) {
		t.Errorf("app.Modules = %v, want one module per spec of openapi/: %v", names, want)
	}
	if got := slices.Compact(slices.Clone(sorted)); len(got) != len(names) {
		t.Errorf("app.Modules = %v, want each name once", names)
	}
}
