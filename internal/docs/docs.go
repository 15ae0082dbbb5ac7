// Package docs serves provisiond's interactive API reference: an index of the APIs at /docs
// and, for each API, Swagger UI at /docs/<api>/ over the server's own /openapi/<api>.json.
//
// Swagger UI's assets are embedded in the binary (github.com/swaggest/swgui/v5emb) and every
// page carries a Content-Security-Policy that lets it talk to this server only: the reference
// is used with real credentials typed into its Authorize dialog, so neither a CDN nor a
// validator service may see the page or what is typed into it.
package docs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"

	"github.com/provisiond/provisiond/internal/version"
)

// Prefix is the path under which the reference is served.
const Prefix = "/docs"

// assetsPath holds Swagger UI's files, shared by every API's page so that a browser loads them once.
const assetsPath = Prefix + "/assets/"

// API is one API of the reference.
type API struct {
	// Name is the API's short name: its page is /docs/<Name>/ and its document /openapi/<Name>.json.
	Name string
	// Spec is the API's document; the index shows its info (title, version, description), or
	// the name when it has none.
	Spec *openapi3.T
}

// handler serves the index, the API pages and the assets.
type handler struct {
	index  []byte
	pages  map[string]*page // by API name
	assets http.Handler
	// indexCSP is the policy of the index and of everything that is not an API page.
	indexCSP string
}

// page is one API's Swagger UI page, rendered once: it depends on nothing of the request, and
// the hashes of its inline scripts, which its policy lists, must match what is served.
type page struct {
	html []byte
	csp  string
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// New builds the handler of the reference for apis, which must have distinct, path-safe names.
// It answers every path under /docs and 404 for those that are no page of it.
func New(apis []API) (http.Handler, error) {
	h := &handler{pages: map[string]*page{}, indexCSP: policy(nil)}
	entries := make([]indexEntry, 0, len(apis))
	for _, api := range apis {
		switch {
		case !validName.MatchString(api.Name):
			return nil, fmt.Errorf("docs: API name %q is not a path segment", api.Name)
		case api.Name == "assets":
			return nil, errors.New(`docs: API name "assets" is reserved`)
		case h.pages[api.Name] != nil:
			return nil, fmt.Errorf("docs: API %q given twice", api.Name)
		}
		// A document without info is not valid OpenAPI, but the server serves what it is
		// given, and so does its reference.
		info := openapi3.Info{Title: api.Name}
		if api.Spec != nil && api.Spec.Info != nil {
			info = *api.Spec.Info
		}
		p, err := renderPage(api.Name, info.Title)
		if err != nil {
			return nil, err
		}
		h.pages[api.Name] = p
		entries = append(entries, indexEntry{
			Name:        api.Name,
			Title:       info.Title,
			Version:     info.Version,
			Description: describe(info.Description),
		})
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, indexData{APIs: entries, Assets: assetsPath, Build: version.Get()}); err != nil {
		return nil, fmt.Errorf("docs: index: %w", err)
	}
	h.index = buf.Bytes()
	// swgui serves its embedded files for every path of a handler but its own page; this one's
	// page (/docs/assets/) is never routed to it.
	h.assets = v5emb.NewHandlerWithConfig(swgui.Config{BasePath: assetsPath})
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || rest != "" && rest[0] != '/' {
		h.notFound(w)
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		h.serveHTML(w, h.index, h.indexCSP)
		return
	}
	if file, ok := strings.CutPrefix(rest, "assets/"); ok && file != "" && !strings.Contains(file, "/") {
		hdr.Set("Content-Security-Policy", h.indexCSP)
		h.assets.ServeHTTP(w, r)
		return
	}
	name := strings.TrimSuffix(rest, "/")
	if p := h.pages[name]; p != nil {
		h.serveHTML(w, p.html, p.csp)
		return
	}
	h.notFound(w)
}

func (h *handler) serveHTML(w http.ResponseWriter, body []byte, csp string) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// The pages change with the binary only; a browser must not keep one across an upgrade.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (h *handler) notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", h.indexCSP)
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// policy is the Content-Security-Policy of a page whose inline scripts have scriptHashes.
// Styles stay 'unsafe-inline' because Swagger UI sets style attributes as it renders, and its
// stylesheet draws its icons with data: images.
func policy(scriptHashes []string) string {
	script := "script-src 'self'"
	for _, s := range scriptHashes {
		script += " '" + s + "'"
	}
	return strings.Join([]string{
		"default-src 'self'",
		script,
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// settings override swgui's Swagger UI configuration (plain JavaScript values).
var settings = map[string]string{
	// Swagger UI builds "Try it out" URLs from the spec's servers, whose host variable defaults
	// to localhost:8080, and the policy only lets the page call its own origin. So the spec is
	// pointed at the server that served the page as it is loaded, before the servers control
	// first renders: that control resets the variables to their defaults whenever it mounts, so
	// setting the value once the UI is complete (onComplete) races with it. An https page also
	// needs an https server URL, or the browser blocks the calls as mixed content.
	"plugins": `[
				SwaggerUIBundle.plugins.DownloadUrl,
				function () {
					return {statePlugins: {spec: {wrapActions: {updateJsonSpec: function (next) {
						return function (spec) {
							var servers = (spec && spec.servers) || [];
							for (var i = 0; i < servers.length; i++) {
								var s = servers[i], host = s.variables && s.variables.host;
								if (host) {
									host["default"] = window.location.host;
									delete host["enum"];
								}
								if (window.location.protocol === "https:" && typeof s.url === "string" && s.url.indexOf("http://") === 0) {
									s.url = "https://" + s.url.slice("http://".length);
								}
							}
							return next(spec);
						};
					}}}}};
				}
			]`,
	// swgui's default pokes at React internals to pick a scheme and pre-authorizes keys from its
	// config; neither applies here.
	"onComplete": "null",
	// Credentials typed into the Authorize dialog must not outlive the tab in localStorage.
	"persistAuthorization": "false",
	// The vendors' documentation and provisiond's README name operations by their ids.
	"displayOperationId": "true",
}

// nav leads from an API's page back to the index, which Swagger UI's own layout has no place for.
const (
	nav      template.HTML = `<nav class="provisiond-docs-nav"><a href="/docs/">&larr; All provisiond APIs</a></nav>`
	navStyle template.HTML = `<style>
        .provisiond-docs-nav { max-width: 1460px; margin: 0 auto; padding: 12px 20px 0; font-family: sans-serif; font-size: 14px; }
        .provisiond-docs-nav a { color: #4990e2; }
    </style>`
)

// renderPage renders the Swagger UI page of the API name and its policy.
func renderPage(name, title string) (*page, error) {
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:            title,
		SwaggerJSON:      "/openapi/" + name + ".json",
		BasePath:         assetsPath,
		InternalBasePath: Prefix + "/" + name + "/",
		SettingsUI:       settings,
		AppendHead:       navStyle,
		PrependHTML:      nav,
	})
	// The page depends on nothing of a request: render it once, as swgui would serve it.
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Prefix+"/"+name+"/", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("docs: rendering the page of %s: status %d: %s", name, rec.Code, rec.Body.Bytes())
	}
	html := rec.Body.Bytes()
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "sha256-"+base64.StdEncoding.EncodeToString(sum[:]))
	}
	return &page{html: html, csp: policy(hashes)}, nil
}

// inlineScript matches the script elements without attributes, whose text a policy must hash.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

type indexData struct {
	APIs   []indexEntry
	Assets string
	Build  version.Info
}

type indexEntry struct {
	Name, Title, Version string
	Description          template.HTML
}

// describe renders the Markdown that the specs' descriptions use (paragraphs, `code` and
// **strong**) as HTML; anything else stays text.
func describe(md string) template.HTML {
	var out strings.Builder
	for _, para := range blankLines.Split(strings.TrimSpace(md), -1) {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		out.WriteString("<p>")
		out.WriteString(inlineMarkdown(para))
		out.WriteString("</p>\n")
	}
	return template.HTML(out.String())
}

var (
	blankLines = regexp.MustCompile(`\n\s*\n`)
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	strongSpan = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

func inlineMarkdown(s string) string {
	var out strings.Builder
	last := 0
	for _, m := range codeSpan.FindAllStringSubmatchIndex(s, -1) {
		out.WriteString(strongText(s[last:m[0]]))
		out.WriteString("<code>" + template.HTMLEscapeString(s[m[2]:m[3]]) + "</code>")
		last = m[1]
	}
	out.WriteString(strongText(s[last:]))
	return out.String()
}

func strongText(s string) string {
	var out strings.Builder
	last := 0
	for _, m := range strongSpan.FindAllStringSubmatchIndex(s, -1) {
		out.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		out.WriteString("<strong>" + template.HTMLEscapeString(s[m[2]:m[3]]) + "</strong>")
		last = m[1]
	}
	out.WriteString(template.HTMLEscapeString(s[last:]))
	return out.String()
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>provisiond API reference</title>
<link rel="icon" type="image/png" href="{{.Assets}}favicon-32x32.png" sizes="32x32">
<style>
body { margin: 0; background: #fafafa; color: #3b4151; font-family: sans-serif; line-height: 1.5; }
main { max-width: 960px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.8rem; margin-bottom: 0.25rem; }
ul.apis { list-style: none; padding: 0; }
ul.apis > li { background: #fff; border: 1px solid #d9d9d9; border-radius: 4px; padding: 0.25rem 1.25rem; margin: 1rem 0; }
ul.apis h2 { font-size: 1.3rem; margin: 0.75rem 0 0.25rem; }
.meta { margin: 0; color: #6b6b6b; }
code { background: #f0f0f0; padding: 0 0.2em; border-radius: 3px; }
a { color: #4990e2; }
</style>
</head>
<body>
<main>
<h1>provisiond API reference</h1>
<p>Each API below is provisiond's rendition of a vendor's user-provisioning API. Open one to read its
operations; to call them from the page, enter a credential of that API in its <strong>Authorize</strong>
dialog, then use <strong>Try it out</strong>. Calls go to this server.</p>
<ul class="apis">
{{- range .APIs}}
<li class="api" id="api-{{.Name}}">
<h2><a class="reference" href="/docs/{{.Name}}/">{{.Title}}</a></h2>
<p class="meta"><code class="name">{{.Name}}</code> · version {{.Version}} ·
<a class="reference" href="/docs/{{.Name}}/">reference</a> ·
OpenAPI document: <a class="yaml" href="/openapi/{{.Name}}.yaml">YAML</a>, <a class="json" href="/openapi/{{.Name}}.json">JSON</a></p>
<div class="description">
{{.Description}}</div>
</li>
{{- end}}
</ul>
<p class="meta build">Served by {{.Build}}.</p>
</main>
</body>
</html>
`))
