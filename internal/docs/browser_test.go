package docs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/openapi"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// envScreenshot is where the screenshot of the X-Cart page goes; t.TempDir() when unset.
	envScreenshot = "PROVISIOND_DOCS_SCREENSHOT"
)

// browserTimeout bounds the whole browser test; it is generous because the machines that run
// it may be small and shared, and nothing here measures speed.
const browserTimeout = 8 * time.Minute

// waitTimeout bounds one wait for the page.
const waitTimeout = 45 * time.Second

// tab is a browser tab and what it saw: every request it made, the page's uncaught
// exceptions, and the browser's errors.
type tab struct {
	ctx context.Context

	mu         sync.Mutex
	requests   []string
	exceptions []string
	logErrors  []string
}

func (b *tab) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.Method+" "+ev.Request.URL)
	case *runtime.EventExceptionThrown:
		text := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			text += " " + ev.ExceptionDetails.Exception.Description
		}
		b.exceptions = append(b.exceptions, text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.logErrors = append(b.logErrors, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

func (b *tab) seen() (requests, exceptions, logErrors []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests), slices.Clone(b.exceptions), slices.Clone(b.logErrors)
}

// cspProbe records the violations of the page's Content-Security-Policy. The browser enforces
// the policy either way; recording them shows when the page needs something it forbids.
const cspProbe = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
	window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});`

// requireBrowser skips the test, as a gap (apitest.Gap), when Debian's Chromium is missing.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		apitest.SkipGap(t, fmt.Sprintf("the /docs browser test did not run: no browser at %s (apt-get install chromium)", chromiumPath))
	}
}

// startBrowser starts the headless browser with a fresh profile and opens a tab; both end
// with the test.
func startBrowser(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-extensions", true),
		// /dev/shm is small in containers, and Chromium crashes when it fills it.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	b := &tab{}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	// Cleanups run last first: the tab and the browser end before the profile directory goes.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b.ctx = tabCtx
	// The window's size leaves the viewport to the browser; the screenshot wants a known one.
	if err := chromedp.Do(tabCtx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("add the policy probe: %v", err)
	}
	return b
}

// do runs actions, failing the test with what was being done.
func (b *tab) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true. It polls from Go: chromedp's Poll
// builds its predicate with new Function, which the page's policy forbids.
func (b *tab) waitFor(t *testing.T, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s (%s): %v (last error: %v)", what, expr, ctx.Err(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkPolicy fails the test for every violation of the policy the current page recorded.
func (b *tab) checkPolicy(t *testing.T) {
	t.Helper()
	if v := eval[[]string](t, b, `window.__cspViolations || ["probe missing"]`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations on %s: %q", eval[string](t, b, "location.href"), v)
	}
}

// screenshotRegion takes a PNG of the page from the top of the element from matches to the
// bottom of the element to matches, across the operation's width: for the README, the
// operation with its request and the live response the server sent.
func screenshotRegion(t *testing.T, b *tab, from, to string) []byte {
	t.Helper()
	type rect struct {
		X      float64 `json:"x"`
		Y      float64 `json:"y"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
	}
	r := eval[rect](t, b, `(() => {
		window.scrollTo(0, 0);
		const a = document.querySelector('`+from+`').getBoundingClientRect();
		const z = document.querySelector('`+to+`').getBoundingClientRect();
		const pad = 12;
		return {x: a.left - pad, y: a.top - pad, width: a.width + 2*pad, height: z.bottom - a.top + pad + 4};
	})()`)
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{X: r.X, Y: r.Y, Width: r.Width, Height: r.Height, Scale: 1},
		CaptureBeyondViewport: new(true),
	})
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return res.Data
}

// specOperation is one operation of a spec, as Swagger UI should show it.
type specOperation struct {
	ID, Summary string
}

func specOperations(t *testing.T, api string) []specOperation {
	t.Helper()
	_, doc, err := openapi.Load(api)
	if err != nil {
		t.Fatal(err)
	}
	var ops []specOperation
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, specOperation{ID: op.OperationID, Summary: op.Summary})
		}
	}
	if len(ops) == 0 {
		t.Fatalf("%s.yaml has no operations", api)
	}
	return ops
}

// shownOperation is what the page shows of one operation block.
type shownOperation struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

const shownOperations = `[...document.querySelectorAll(".opblock")].map(o => ({
	id: (o.querySelector(".opblock-summary-operation-id") || {}).textContent || "",
	summary: (o.querySelector(".opblock-summary-description") || {}).textContent || "",
	method: (o.querySelector(".opblock-summary-method") || {}).textContent || "",
	path: (o.querySelector(".opblock-summary-path") || {getAttribute: () => ""}).getAttribute("data-path") || "",
}))`

// TestBrowser drives the reference in a real browser against a real server: the index, every
// API's page, and a call made from the X-Cart page with "Try it out".
func TestBrowser(t *testing.T) {
	requireBrowser(t)
	srv := apitest.Start(t, "sqlite", apitest.Options{})
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(ts.Close)
	server, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t)
	apis := openapi.Names()

	t.Run("index", func(t *testing.T) {
		b.do(t, "open /docs", chromedp.Navigate(ts.URL+"/docs"))
		b.waitFor(t, "the API list", `document.querySelectorAll("li.api").length > 0`)
		type listed struct {
			Name  string `json:"name"`
			Title string `json:"title"`
			Href  string `json:"href"`
		}
		got := eval[[]listed](t, b, `[...document.querySelectorAll("li.api")].map(li => ({
			name: li.querySelector("code.name").textContent,
			title: li.querySelector("h2").textContent,
			href: li.querySelector("h2 a").href,
		}))`)
		var names []string
		for _, l := range got {
			names = append(names, l.Name)
			if want := ts.URL + "/docs/" + l.Name + "/"; l.Href != want {
				t.Errorf("%s links to %s, want %s", l.Name, l.Href, want)
			}
			_, doc, err := openapi.Load(l.Name)
			if err != nil {
				t.Errorf("index lists %q: %v", l.Name, err)
				continue
			}
			if l.Title != doc.Info.Title {
				t.Errorf("%s is titled %q, want %q", l.Name, l.Title, doc.Info.Title)
			}
		}
		if sorted := slices.Sorted(slices.Values(names)); !slices.Equal(sorted, apis) {
			t.Errorf("index lists %q, want %q", names, apis)
		}
		if len(names) != len(apis) {
			t.Errorf("index lists %d APIs, want the %d of openapi/", len(names), len(apis))
		}
		b.checkPolicy(t)
	})

	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			want := specOperations(t, api)
			b.do(t, "open the page", chromedp.Navigate(ts.URL+"/docs/"+api+"/"))
			b.waitFor(t, "the operations", fmt.Sprintf(`document.querySelectorAll(".opblock").length >= %d`, len(want)))
			// Let Swagger UI finish rendering before reading what it shows.
			b.waitFor(t, "the servers control", `document.querySelector(".servers .computed-url code") !== null`)
			shown := eval[[]shownOperation](t, b, shownOperations)
			if len(shown) != len(want) {
				t.Errorf("page shows %d operations, spec has %d", len(shown), len(want))
			}
			ids := map[string]bool{}
			summaries := map[string]bool{}
			for _, op := range shown {
				ids[strings.TrimSpace(op.ID)] = true
				summaries[strings.TrimSpace(op.Summary)] = true
			}
			for _, op := range want {
				if !ids[op.ID] {
					t.Errorf("operation %s is not shown (page shows %v)", op.ID, shown)
				}
				if op.Summary != "" && !summaries[op.Summary] {
					t.Errorf("summary %q of %s is not shown", op.Summary, op.ID)
				}
			}
			if n := eval[int](t, b, `document.querySelectorAll(".errors-wrapper").length`); n > 0 {
				t.Errorf("Swagger UI shows errors: %s", eval[string](t, b, `document.querySelector(".errors-wrapper").innerText`))
			}
			// "Try it out" must call this server, not the spec's default localhost:8080.
			if got, want := eval[string](t, b, `document.querySelector(".servers .computed-url code").textContent`), "http://"+server.Host; got != want {
				t.Errorf("computed server URL %q, want %q", got, want)
			}
			b.checkPolicy(t)
		})
	}

	t.Run("xcart try it out", func(t *testing.T) {
		const (
			op    = `.opblock[id$="-createProfile"]`
			login = "docs@example.com"
			body  = `{"login":"` + login + `","password":"s3cret-passw0rd","membership_id":1}`
			// The form of the API-key scheme "Token" (X-Auth-Token) in the Authorize dialog.
			tokenForm = `//div[contains(@class,"auth-container")][.//h4/code[normalize-space(text())="Token"]]`
		)
		b.do(t, "open the X-Cart page", chromedp.Navigate(ts.URL+"/docs/xcart/"))
		b.waitFor(t, "the create operation", `document.querySelector('`+op+`') !== null`)

		b.do(t, "authorize with the API key",
			chromedp.Click(chromedp.CSS(".scheme-container button.authorize")),
			chromedp.WaitVisible(chromedp.CSS(".dialog-ux .modal-ux")),
			chromedp.SendKeys(chromedp.Search(tokenForm+`//input`), srv.Keys["xcart"]),
			chromedp.Click(chromedp.Search(tokenForm+`//button[contains(@class,"authorize")]`)),
			chromedp.WaitVisible(chromedp.Search(tokenForm+`//h6[text()="Authorized"]`)),
			chromedp.Click(chromedp.Search(tokenForm+`//button[contains(@class,"btn-done")]`)),
			chromedp.WaitNotPresent(chromedp.CSS(".dialog-ux")),
		)

		b.do(t, "open the create operation and try it out",
			chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
			chromedp.WaitVisible(chromedp.CSS(op+" .try-out__btn")),
			chromedp.Click(chromedp.CSS(op+" .try-out__btn")),
			chromedp.WaitVisible(chromedp.CSS(op+" textarea.body-param__text")),
			chromedp.Focus(chromedp.CSS(op+" textarea.body-param__text")),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('`+op+` textarea.body-param__text').select()`),
			chromedp.KeyEvent(body),
		)
		if got := eval[string](t, b, `document.querySelector('`+op+` textarea.body-param__text').value`); got != body {
			t.Fatalf("request body is %q after typing, want %q", got, body)
		}

		b.do(t, "execute", chromedp.Click(chromedp.CSS(op+" button.execute")))
		b.waitFor(t, "the live response", `document.querySelector('`+op+` .live-responses-table tbody .response-col_status') !== null`)
		status := strings.Fields(eval[string](t, b, `document.querySelector('`+op+` .live-responses-table tbody .response-col_status').textContent`))
		if len(status) == 0 || status[0] != "201" {
			t.Errorf("live response status %q, want 201; response: %s", status, eval[string](t, b, `document.querySelector('`+op+` .live-responses-table tbody').innerText`))
		}
		requestURL := eval[string](t, b, `document.querySelector('`+op+` .request-url pre').textContent`)
		if want := ts.URL + "/api/profiles"; requestURL != want {
			t.Errorf("request URL %q, want %q", requestURL, want)
		}
		b.checkPolicy(t)

		// The profile exists for a client that is not the page.
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/profiles?login="+url.QueryEscape(login), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", srv.Keys["xcart"])
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		var profiles []struct {
			ID    int    `json:"id"`
			Login string `json:"login"`
		}
		if err := json.Unmarshal(raw, &profiles); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/profiles: %d %s (%v)", res.StatusCode, raw, err)
		}
		if len(profiles) != 1 || profiles[0].Login != login {
			t.Errorf("profiles with login %s: %s, want the one created from the page", login, raw)
		}

		png := screenshotRegion(t, b, op+" .opblock-summary", op+" .live-responses-table")
		path := os.Getenv(envScreenshot)
		if path == "" {
			path = filepath.Join(t.TempDir(), "docs-xcart.png")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the X-Cart page after the create: %s (%d bytes)", path, len(png))
	})

	// Everything the pages loaded or called came from the test server.
	requests, exceptions, logErrors := b.seen()
	var foreign []string
	seen := map[string]bool{}
	for _, r := range requests {
		method, raw, _ := strings.Cut(r, " ")
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("request to unparsable URL %q", raw)
			continue
		}
		if u.Scheme == "data" {
			continue
		}
		if u.Scheme != server.Scheme || u.Host != server.Host {
			foreign = append(foreign, r)
			continue
		}
		seen[method+" "+u.Path] = true
	}
	if len(foreign) > 0 {
		t.Errorf("the pages made requests outside the server: %q", foreign)
	}
	var must []string
	for _, api := range apis {
		must = append(must, "GET /docs/"+api+"/", "GET /openapi/"+api+".json")
	}
	must = append(must, "GET /docs", "GET /docs/assets/swagger-ui-bundle.js", "POST /api/profiles")
	for _, r := range must {
		if !seen[r] {
			keys := make([]string, 0, len(seen))
			for k := range seen {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Errorf("no request %s among the recorded ones: %q", r, keys)
		}
	}
	if len(exceptions) > 0 {
		t.Errorf("uncaught exceptions in the pages: %q", exceptions)
	}
	if len(logErrors) > 0 {
		t.Errorf("browser errors: %q", logErrors)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", srv.Logs.String())
	}
}
