package xcart

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// The media types of X-Cart's formats (config/packages/api_platform.yaml, `formats`): json first,
// so that it wins a tie, then jsonld.
const (
	mediaJSON   = "application/json"
	mediaJSONLD = "application/ld+json"
)

// The format suffixes API Platform's routes take (`/profiles.{_format}`), by the format they name.
var suffixes = map[string]bool{"json": false, "jsonld": true}

// rewritePath drops API Platform's ".json" or ".jsonld" suffix from a path under /api/, so that
// the request reaches the route without it (Echo cannot tell "/profiles/:profile_id" from
// "/profiles/:profile_id.json"); the format it names is read from the path as sent (asksJSONLD).
// A path with another suffix is left alone, to be answered 404 (notFound).
func rewritePath(p string) string {
	if !strings.HasPrefix(p, "/api/") {
		return p
	}
	if format, ok := suffix(p); ok {
		if _, known := suffixes[format]; known {
			return strings.TrimSuffix(p, "."+format)
		}
	}
	return p
}

// suffix is the format suffix of p's last segment ("json" of "/api/profiles/1.json"), if any.
func suffix(p string) (string, bool) {
	ext := path.Ext(p)
	if ext == "" || strings.Contains(ext, "/") {
		return "", false
	}
	return ext[1:], true
}

// unsupportedFormat is the format of a profile or address path with a suffix API Platform does
// not know (`/api/profiles.xml`, `/api/profiles/1/addresses/2.xml`): such a request is a 404 naming it. The html
// format X-Cart also declares renders its API documentation, which provisiond does not serve.
func unsupportedFormat(p string) (string, bool) {
	format, ok := suffix(p)
	if !ok {
		return "", false
	}
	if _, known := suffixes[format]; known {
		return "", false
	}
	if resourcePath.MatchString(strings.TrimSuffix(p, "."+format)) {
		return format, true
	}
	return "", false
}

// resourcePath matches the paths of X-Cart's profile and address operations without their suffix
// (API Platform's routes require digits for the ids).
var resourcePath = regexp.MustCompile(`^/api/profiles(/[0-9]+(/addresses(/[0-9]+)?)?)?$`)

// dateFilters are the query parameters of X-Cart's IntegerDateFilter, and dateKeys their keys.
var (
	dateFilters = []string{"added", "first_login"}
	dateKeys    = []string{"before", "strictly_before", "after", "strictly_after"}
)

// prepare is the API's httpserver.API.Prepare: ignoreDateNoise, then readJSONLDAsJSON.
func prepare(req *http.Request) (*http.Request, error) {
	req, err := ignoreDateNoise(req)
	if err != nil {
		return nil, err
	}
	return readJSONLDAsJSON(req), nil
}

// readJSONLDAsJSON has an application/ld+json body read as the JSON it is to X-Cart, whose JSON-LD
// decoder is its JSON decoder (@context, @id and @type aside, ignored as every attribute the
// resource does not have): both media types of a body have the same schema in the spec, and the
// generated handler binds a JSON body with encoding/json's errors, which name the attribute of a
// number it cannot hold (unboundNumber), where it answers such an ld+json body with a bare 415.
// The request as sent, which the journal keeps, is left as it was. The login, which takes JSON
// only, is left to refuse JSON-LD with its 415.
func readJSONLDAsJSON(req *http.Request) *http.Request {
	media, params, _ := strings.Cut(req.Header.Get(echo.HeaderContentType), ";")
	if !strings.EqualFold(strings.TrimSpace(media), mediaJSONLD) || !strings.HasPrefix(req.URL.Path, "/api/profiles") {
		return req
	}
	out := req.Clone(req.Context()) // the body stays the one the validator read
	if params != "" {
		out.Header.Set(echo.HeaderContentType, mediaJSON+";"+params)
	} else {
		out.Header.Set(echo.HeaderContentType, mediaJSON)
	}
	return out
}

// ignoreDateNoise drops from a request's query what X-Cart's date filters ignore, before the
// query is validated and bound: a filter sent as a plain value ("added=2024-05-01"), a key that
// is none of DateFilter's ("added[sometime]"), a nested value ("added[after][]"); and of a key
// sent twice, all but the last value, as PHP reads a query (httpserver.API.Prepare). The rest of
// the query stays as sent, in its order, which the JSON-LD paging links repeat.
func ignoreDateNoise(req *http.Request) (*http.Request, error) {
	raw := req.URL.RawQuery
	if !strings.Contains(raw, "added") && !strings.Contains(raw, "first_login") {
		return req, nil
	}
	parts := strings.Split(raw, "&")
	names := make([]string, len(parts))
	last := map[string]int{}
	for i, part := range parts {
		k, _, _ := strings.Cut(part, "=")
		if name, err := url.QueryUnescape(k); err == nil {
			names[i] = name
			last[name] = i
		}
	}
	kept := parts[:0:0]
	for i, part := range parts {
		if !isDateNoise(names[i]) && (!isDateFilter(names[i]) || last[names[i]] == i) {
			kept = append(kept, part)
		}
	}
	if len(kept) == len(parts) {
		return req, nil
	}
	out := req.Clone(req.Context())
	out.URL.RawQuery = strings.Join(kept, "&")
	return out, nil
}

// isDateFilter reports whether the query parameter name is one of X-Cart's date filters with one
// of DateFilter's keys ("added[after]").
func isDateFilter(name string) bool {
	for _, filter := range dateFilters {
		if key, ok := strings.CutPrefix(name, filter+"["); ok {
			key, closed := strings.CutSuffix(key, "]")
			return closed && slices.Contains(dateKeys, key)
		}
	}
	return false
}

// isDateNoise reports whether the query parameter name is one of X-Cart's date filters in a form
// the filter ignores.
func isDateNoise(name string) bool {
	for _, filter := range dateFilters {
		if name == filter || strings.HasPrefix(name, filter+"[") {
			return !isDateFilter(name)
		}
	}
	return false
}

// asksJSONLD reports whether the request asks for JSON-LD: by a ".jsonld" suffix on the path as
// sent, which outranks Accept, as API Platform's format suffix does (a ".json" suffix asks for
// JSON whatever Accept says); otherwise by Accept, where application/ld+json must rank above
// application/json (JSON wins a tie, being X-Cart's first format).
func asksJSONLD(req *http.Request, sent string) bool {
	if format, ok := suffix(sent); ok && strings.HasPrefix(sent, "/api/") {
		if ld, known := suffixes[format]; known {
			return ld
		}
	}
	return preferred(req.Header.Get(echo.HeaderAccept), mediaJSONLD, mediaJSON)
}

// preferred reports whether the Accept header accept ranks media a above media b: each is given
// the q-value of the most specific range that matches it (type/subtype, then type/*, then */*).
func preferred(accept, a, b string) bool {
	if accept == "" {
		return false
	}
	qa, qb := quality(accept, a), quality(accept, b)
	return qa > qb
}

// quality is the q-value Accept gives media (0 when no range matches it).
func quality(accept, media string) float64 {
	typ, _, _ := strings.Cut(media, "/")
	best, specificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		rng, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		s := -1
		switch {
		case rng == media:
			s = 2
		case rng == typ+"/*":
			s = 1
		case rng == "*/*":
			s = 0
		}
		if s < 0 || s < specificity {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		if s > specificity {
			best, specificity = q, s
		} else {
			best = max(best, q)
		}
	}
	return best
}

// representation is what a request asks of its answer: JSON-LD or not, and for a JSON-LD
// collection, the path as sent and the query that its paging links repeat.
type representation struct {
	jsonld      bool
	path, query string
}

type representationKey struct{}

// negotiate is the strict middleware that tells the handlers, through the request's context, the
// representation the request asks for.
func negotiate(f gen.StrictHandlerFunc, _ string) gen.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		req := c.Request()
		sent := httpserver.SentPath(c)
		r := representation{jsonld: asksJSONLD(req, sent), path: sent, query: req.URL.RawQuery}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), representationKey{}, r)))
		return f(c, request)
	}
}

// representationOf is the representation the request of ctx asks for.
func representationOf(ctx context.Context) representation {
	r, _ := ctx.Value(representationKey{}).(representation)
	return r
}

// negotiateError answers an error in JSON-LD to a request that asks for it (httpserver.API.Negotiate):
// API Platform's hydra:Error for a problem, its ConstraintViolationList for violations.
func negotiateError(reply httpserver.Reply, req *http.Request, sent string) httpserver.Reply {
	if !asksJSONLD(req, sent) {
		return reply
	}
	switch b := reply.Body.(type) {
	case gen.Problem:
		reply.Body = gen.HydraError{
			Context: gen.ApicontextsError, Type: gen.HydraErrorTypeHydraError,
			HydraTitle: b.Title, HydraDescription: b.Detail.MustGet(),
			Code: b.Code, Message: b.Message,
		}
	case gen.ConstraintViolationList:
		reply.Body = gen.ConstraintViolationListJsonld{
			Context: gen.ApicontextsConstraintViolationList, Type: gen.ConstraintViolationListJsonldTypeConstraintViolationList,
			HydraTitle: b.Title, HydraDescription: b.Detail.MustGet(),
			Violations: b.Violations,
		}
	default:
		return reply
	}
	reply.ContentType = mediaJSONLD
	return reply
}
