package docs_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/docs"
	"github.com/provisiond/provisiond/internal/version"
	"github.com/provisiond/provisiond/openapi"
)

// reference builds the reference over the specs of openapi/.
func reference(t *testing.T) (http.Handler, []docs.API) {
	t.Helper()
	var apis []docs.API
	for _, name := range openapi.Names() {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		apis = append(apis, docs.API{Name: name, Spec: doc})
	}
	if len(apis) < 2 {
		t.Fatalf("openapi/ has %d specs, want several", len(apis))
	}
	h, err := docs.New(apis)
	if err != nil {
		t.Fatal(err)
	}
	return h, apis
}

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var (
	linkAttr     = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*"([^"]*)"`)
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	apiItem      = regexp.MustCompile(`(?s)<li class="api" id="api-([a-z0-9_-]+)">(.*?)</li>`)
)

// links lists the href and src attributes of an HTML page.
func links(page string) []string {
	var out []string
	for _, m := range linkAttr.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestIndexListsEveryAPIWithItsLinks(t *testing.T) {
	h, apis := reference(t)
	for _, path := range []string{"/docs", "/docs/"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		page := rec.Body.String()
		items := map[string]string{}
		var order []string
		for _, m := range apiItem.FindAllStringSubmatch(page, -1) {
			items[m[1]] = m[2]
			order = append(order, m[1])
		}
		var want []string
		for _, api := range apis {
			want = append(want, api.Name)
		}
		if !slices.Equal(order, want) {
			t.Fatalf("GET %s lists %q, want %q", path, order, want)
		}
		for _, api := range apis {
			item := items[api.Name]
			info := api.Spec.Info
			if !strings.Contains(item, html.EscapeString(info.Title)) {
				t.Errorf("%s: title %q missing", api.Name, info.Title)
			}
			if !strings.Contains(item, "version "+html.EscapeString(info.Version)) {
				t.Errorf("%s: version %q missing", api.Name, info.Version)
			}
			// The description's first words, as text.
			firstWords := strings.Join(strings.Fields(info.Description)[:4], " ")
			if !strings.Contains(strings.Join(strings.Fields(item), " "), html.EscapeString(firstWords)) {
				t.Errorf("%s: description %q… missing", api.Name, firstWords)
			}
			got := links(item)
			for _, l := range []string{"/docs/" + api.Name + "/", "/openapi/" + api.Name + ".yaml", "/openapi/" + api.Name + ".json"} {
				if !slices.Contains(got, l) {
					t.Errorf("%s: no link to %s (links: %q)", api.Name, l, got)
				}
			}
		}
		// The build that serves it.
		if b := html.EscapeString(version.Get().String()); !strings.Contains(page, "Served by "+b+".") {
			t.Errorf("GET %s: no \"Served by %s.\"", path, b)
		}
		// The links to the API pages work.
		for _, l := range links(page) {
			if strings.HasPrefix(l, "/docs/") {
				if rec := get(t, h, l); rec.Code != http.StatusOK {
					t.Errorf("link %s: %d", l, rec.Code)
				}
			}
		}
	}
}

// TestServerServesTheReference checks the reference as the server serves it: every link of the
// index works, the raw documents included.
func TestServerServesTheReference(t *testing.T) {
	srv := apitest.Start(t, "sqlite", apitest.Options{})
	// Not srv.Do: it allows only the operations of the specs and the operational endpoints.
	index := get(t, srv.Handler, "/docs")
	if index.Code != http.StatusOK {
		t.Fatalf("GET /docs: %d %s", index.Code, index.Body)
	}
	got := links(index.Body.String())
	for _, name := range openapi.Names() {
		for _, l := range []string{"/docs/" + name + "/", "/openapi/" + name + ".yaml", "/openapi/" + name + ".json"} {
			if !slices.Contains(got, l) {
				t.Errorf("index has no link to %s", l)
			}
		}
	}
	for _, l := range got {
		rec := get(t, srv.Handler, l)
		if rec.Code != http.StatusOK {
			t.Errorf("link %s: %d", l, rec.Code)
			continue
		}
		if strings.HasSuffix(l, ".json") && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("link %s: Content-Type %q", l, rec.Header().Get("Content-Type"))
		}
	}
	for _, path := range []string{"/docs/", "/docs/xcart/", "/docs/assets/swagger-ui-bundle.js"} {
		rec := get(t, srv.Handler, path)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
	}
	if rec := get(t, srv.Handler, "/docs/unknown/"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /docs/unknown/: %d, want 404", rec.Code)
	}
}

func TestAPIPageLoadsOnlyFromTheServer(t *testing.T) {
	h, apis := reference(t)
	for _, api := range apis {
		for _, path := range []string{"/docs/" + api.Name + "/", "/docs/" + api.Name} {
			rec := get(t, h, path)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", path, rec.Code)
			}
			page := rec.Body.String()
			got := links(page)
			for _, want := range []string{"/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui-standalone-preset.js", "/docs/"} {
				if !slices.Contains(got, want) {
					t.Errorf("GET %s: no reference to %s (links: %q)", path, want, got)
				}
			}
			for _, l := range got {
				// Same origin: an absolute path, not a scheme-relative or absolute URL.
				if !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//") {
					t.Errorf("GET %s: %q is not on the server", path, l)
				}
				if rec := get(t, h, l); rec.Code != http.StatusOK {
					t.Errorf("GET %s: its %s is %d", path, l, rec.Code)
				}
			}
			if want := `"swaggerJsonUrl":"/openapi/` + api.Name + `.json"`; !strings.Contains(page, want) {
				t.Errorf("GET %s: the page does not load %s", path, want)
			}
			// Swagger UI sends the document to validator.swagger.io unless told not to.
			if !strings.Contains(page, "validatorUrl: null") {
				t.Errorf("GET %s: the online validator is not turned off", path)
			}
			if !strings.Contains(page, "<title>"+html.EscapeString(api.Spec.Info.Title)) {
				t.Errorf("GET %s: title is not the API's", path)
			}
		}
	}
}

func TestPagesCarryAPolicyThatAllowsOnlyTheServer(t *testing.T) {
	h, _ := reference(t)
	for _, path := range []string{"/docs", "/docs/xcart/", "/docs/occadmin/", "/docs/assets/swagger-ui-bundle.js", "/docs/unknown/"} {
		rec := get(t, h, path)
		csp := rec.Header().Get("Content-Security-Policy")
		if csp == "" {
			t.Errorf("GET %s: no Content-Security-Policy", path)
			continue
		}
		directives := map[string][]string{}
		for _, d := range strings.Split(csp, ";") {
			f := strings.Fields(d)
			if len(f) > 0 {
				directives[f[0]] = f[1:]
			}
		}
		for _, name := range []string{"default-src", "connect-src", "img-src", "style-src", "script-src", "font-src"} {
			v, ok := directives[name]
			if !ok || v[0] != "'self'" {
				t.Errorf("GET %s: %s is %q, want 'self' first", path, name, v)
			}
			for _, s := range v {
				if strings.Contains(s, "http") || s == "*" || strings.Contains(s, "eval") {
					t.Errorf("GET %s: %s allows %s", path, name, s)
				}
			}
		}
		if slices.Contains(directives["script-src"], "'unsafe-inline'") {
			t.Errorf("GET %s: script-src allows 'unsafe-inline'", path)
		}
		if !strings.HasPrefix(path, "/docs/") || path == "/docs/unknown/" || strings.Contains(path, "assets") {
			continue
		}
		// Swagger UI starts from inline scripts: the policy must allow exactly those.
		scripts := inlineScript.FindAllStringSubmatch(rec.Body.String(), -1)
		if len(scripts) == 0 {
			t.Fatalf("GET %s: no inline script", path)
		}
		for _, m := range scripts {
			sum := sha256.Sum256([]byte(m[1]))
			hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			if !slices.Contains(directives["script-src"], hash) {
				t.Errorf("GET %s: script-src %q does not allow the inline script %s", path, directives["script-src"], hash)
			}
		}
	}
}

func TestAssetsAreServed(t *testing.T) {
	h, _ := reference(t)
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/docs/assets/swagger-ui-bundle.js", "javascript", "SwaggerUIBundle"},
		{"/docs/assets/swagger-ui-standalone-preset.js", "javascript", "SwaggerUIStandalonePreset"},
		{"/docs/assets/swagger-ui.css", "text/css", ".swagger-ui"},
		{"/docs/assets/favicon-32x32.png", "image/png", "PNG"},
	} {
		// As a browser asks (compressed), and as a plain client does.
		for _, gz := range []bool{true, false} {
			var rec *httptest.ResponseRecorder
			if gz {
				rec = get(t, h, tc.path, "Accept-Encoding", "gzip, deflate, br")
			} else {
				rec = get(t, h, tc.path)
			}
			if rec.Code != http.StatusOK {
				t.Errorf("GET %s (gzip %v): %d", tc.path, gz, rec.Code)
				continue
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, tc.contentType) {
				t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
			}
			var body io.Reader = rec.Body
			if rec.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatalf("GET %s: %v", tc.path, err)
				}
				body = zr
			} else if gz && !strings.HasSuffix(tc.path, ".png") {
				t.Errorf("GET %s: not compressed for a client that accepts gzip", tc.path)
			}
			raw, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			if !strings.Contains(string(raw), tc.contains) {
				t.Errorf("GET %s (gzip %v): body (%d bytes) has no %q", tc.path, gz, len(raw), tc.contains)
			}
		}
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	h, _ := reference(t)
	for _, path := range []string{
		"/docs/unknown/", "/docs/unknown", "/docs/xcart/unknown", "/docs/xcart/swagger-ui-bundle.js",
		"/docs/assets/", "/docs/assets/unknown.js", "/docs/assets/../xcart/", "/docsx", "/other",
	} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
}

func TestDescriptionIsRenderedAsText(t *testing.T) {
	h, err := docs.New([]docs.API{{Name: "demo", Spec: &openapi3.T{Info: &openapi3.Info{
		Title:       "Demo <API>",
		Version:     "1.0.0",
		Description: "Creates `a <b>` **user**.\n\n<script>alert(1)</script> second paragraph",
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := get(t, h, "/docs").Body.String()
	for _, want := range []string{
		"Demo &lt;API&gt;",
		"<p>Creates <code>a &lt;b&gt;</code> <strong>user</strong>.</p>",
		"<p>&lt;script&gt;alert(1)&lt;/script&gt; second paragraph</p>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index has no %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("the description's markup reached the page")
	}
}

func TestNewRefusesBadAPIs(t *testing.T) {
	spec := &openapi3.T{Info: &openapi3.Info{Title: "T", Version: "1"}}
	for name, apis := range map[string][]docs.API{
		"empty name":    {{Name: "", Spec: spec}},
		"not a segment": {{Name: "a/b", Spec: spec}},
		"reserved":      {{Name: "assets", Spec: spec}},
		"twice":         {{Name: "a", Spec: spec}, {Name: "a", Spec: spec}},
	} {
		if _, err := docs.New(apis); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAPIWithoutInfoIsListedByName(t *testing.T) {
	h, err := docs.New([]docs.API{{Name: "bare", Spec: &openapi3.T{}}, {Name: "nospec"}})
	if err != nil {
		t.Fatal(err)
	}
	page := get(t, h, "/docs").Body.String()
	for _, name := range []string{"bare", "nospec"} {
		if !strings.Contains(page, `<a class="reference" href="/docs/`+name+`/">`+name+`</a>`) {
			t.Errorf("index does not list %s by name:\n%s", name, page)
		}
		if rec := get(t, h, "/docs/"+name+"/"); rec.Code != http.StatusOK {
			t.Errorf("GET /docs/%s/: %d", name, rec.Code)
		}
	}
}
