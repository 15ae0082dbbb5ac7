package xcart

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
)

// negotiateError words every error reply in API Platform's JSON-LD shapes for a request that asks
// for JSON-LD, and leaves it alone otherwise.
func TestNegotiateError(t *testing.T) {
	for _, tc := range []struct {
		name, accept, sent string
		err                error
		want               string
	}{
		{"problem", "application/ld+json", "/p", apperr.NotFound("x"),
			`{"@context":"/api/contexts/Error","@type":"hydra:Error","hydra:description":"Not Found","hydra:title":"An error occurred"}`},
		{"by suffix", "", "/api/profiles/9.jsonld", apperr.NotFound("x"),
			`{"@context":"/api/contexts/Error","@type":"hydra:Error","hydra:description":"Not Found","hydra:title":"An error occurred"}`},
		{"firewall", "application/ld+json", "/p", errBadCredentials,
			`{"@context":"/api/contexts/Error","@type":"hydra:Error","code":401,"hydra:description":"Invalid credentials.","hydra:title":"An error occurred","message":"Invalid credentials."}`},
		{"violations", "application/ld+json", "/p", errors.Join(apperr.Invalid("role_ids", "exists", "Role with ID 4 not found"), apperr.Invalid("membership_id", "exists", "Membership with ID 9 not found")),
			`{"@context":"/api/contexts/ConstraintViolationList","@type":"ConstraintViolationList","hydra:description":"role_ids: Role with ID 4 not found\nmembership_id: Membership with ID 9 not found","hydra:title":"An error occurred","violations":[{"message":"Role with ID 4 not found","propertyPath":"role_ids"},{"message":"Membership with ID 9 not found","propertyPath":"membership_id"}]}`},
		{"JSON asked", "application/json", "/p", apperr.NotFound("x"), ""},
		{"JSON by suffix", "application/ld+json", "/api/profiles/9.json", apperr.NotFound("x"), ""},
	} {
		req := httptest.NewRequest("GET", "/p", nil)
		req.Header.Set(echo.HeaderAccept, tc.accept)
		plain := Render(tc.err, "/p")
		got := negotiateError(plain, req, tc.sent)
		if tc.want == "" {
			if got.ContentType != problemMedia {
				t.Errorf("%s: %s, want the problem unchanged", tc.name, got.ContentType)
			}
			continue
		}
		body, _ := json.Marshal(got.Body)
		var gotV, wantV any
		_ = json.Unmarshal(body, &gotV)
		_ = json.Unmarshal([]byte(tc.want), &wantV)
		if got.Status != plain.Status || got.ContentType != mediaJSONLD || !equalJSON(gotV, wantV) {
			t.Errorf("%s: %d %s %s\nwant %d %s %s", tc.name, got.Status, got.ContentType, body, plain.Status, mediaJSONLD, tc.want)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// A path with a format suffix is rewritten onto its route, or answered API Platform's 404.
func TestRewritePath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/profiles.json":              "/api/profiles",
		"/api/profiles.jsonld":            "/api/profiles",
		"/api/profiles/12.json":           "/api/profiles/12",
		"/api/profiles/12/addresses.json": "/api/profiles/12/addresses",
		"/api/profiles.xml":               "/api/profiles.xml",
		"/api/profiles":                   "/api/profiles",
		"/api-login/check.json":           "/api-login/check.json",
	} {
		if got := rewritePath(in); got != want {
			t.Errorf("rewritePath(%q) = %q, want %q", in, got, want)
		}
	}
	for path, detail := range map[string]string{
		"/api/profiles.xml":     `Format "xml" is not supported`,
		"/api/profiles/7.yaml":  `Format "yaml" is not supported`,
		"/api/profiles/x7.yaml": "Not Found",
		"/api/profiles/7":       "Not Found",
	} {
		r := Render(echo.ErrNotFound, path)
		body, _ := json.Marshal(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if r.Status != 404 || m["detail"] != detail {
			t.Errorf("Render(route not found, %q) = %d %s, want 404 %q", path, r.Status, body, detail)
		}
	}
}

// parseDate reads the dates clients send to X-Cart's IntegerDateFilter, as whole seconds, in the
// server's time zone when they have none; anything else is not a date.
func TestParseDate(t *testing.T) {
	loc := time.FixedZone("+02:00", 2*3600)
	now := time.Date(2026, 3, 4, 23, 30, 15, 0, time.UTC) // 01:30 on the 5th at +02:00
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	for in, want := range map[string]time.Time{
		"2026-01-02T03:04:05Z":      utc("2026-01-02T03:04:05Z"),
		"2026-01-02T03:04:05+01:00": utc("2026-01-02T02:04:05Z"),
		"2026-01-02T03:04:05-0130":  utc("2026-01-02T04:34:05Z"),
		"2026-01-02 03:04:05Z":      utc("2026-01-02T03:04:05Z"),
		"2026-01-02T03:04:05.999Z":  utc("2026-01-02T03:04:05Z"),
		"2026-01-02T03:04Z":         utc("2026-01-02T03:04:00Z"),
		"2026-01-02":                utc("2026-01-01T22:00:00Z"),
		"2026-01-02 03:04:05":       utc("2026-01-02T01:04:05Z"),
		"2026-01-02T03:04:05":       utc("2026-01-02T01:04:05Z"),
		"2026-01-02 03:04":          utc("2026-01-02T01:04:00Z"),
		" 2026-01-02 ":              utc("2026-01-01T22:00:00Z"),
		"@1767323045":               utc("2026-01-02T03:04:05Z"),
		"@-1":                       utc("1969-12-31T23:59:59Z"),
		"now":                       now,
		"Today":                     utc("2026-03-04T22:00:00Z"),
		"yesterday":                 utc("2026-03-03T22:00:00Z"),
		"tomorrow":                  utc("2026-03-05T22:00:00Z"),
		"1969-12-31T23:59:59.5Z":    utc("1969-12-31T23:59:59Z"),
	} {
		got, ok := parseDate(in, now, loc)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseDate(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "not a date", "2026-13-01", "2026-01-02T25:00:00Z", "@", "@1.5", "1767323045", "02/01/2026"} {
		if got, ok := parseDate(in, now, loc); ok {
			t.Errorf("parseDate(%q) = %v, want no date", in, got)
		}
	}
}
