package httpserver_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/httpserver"
)

// widgetsSpec has one create whose body schema has a bit of everything SchemaIssues reports:
// required members, nested objects and arrays (of arrays), an enum, types, limits, the email
// format, a readOnly and a writeOnly property, and an object keyed by anything.
const widgetsSpec = `
openapi: 3.0.3
info: {title: widgets, version: "1"}
paths:
  /widgets:
    post:
      operationId: createWidget
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/WidgetCreate"}
      responses:
        "201": {description: created}
components:
  schemas:
    WidgetCreate:
      type: object
      required: [email, name]
      properties:
        id: {type: integer, readOnly: true}
        email: {type: string, format: email}
        name: {type: string, maxLength: 5}
        secret: {type: string, writeOnly: true}
        size: {type: integer, minimum: 1, default: 1}
        owner:
          type: object
          required: [first]
          properties:
            first: {type: string}
            contacts:
              type: array
              items: {type: string, format: email}
        roles:
          type: array
          items:
            type: object
            required: [function]
            properties:
              function: {type: string, enum: [admin, buyer]}
        grid:
          type: array
          items:
            type: array
            items: {type: integer}
        labels:
          type: object
          additionalProperties: {type: string}
`

// problem is what a test compares of an Issue: Schema is checked apart (it is not nil). A
// number's Value is a float64, as kin-openapi reports it (but for readOnly: as decoded).
type problem struct {
	In, Field, Pointer, Rule string
	Value                    any
}

func problems(issues []httpserver.Issue) []problem {
	out := make([]problem, len(issues))
	for i, is := range issues {
		out[i] = problem{is.In, is.Field, strings.Join(is.Pointer, "/"), is.Rule, is.Value}
	}
	slices.SortFunc(out, func(a, b problem) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Rule, b.Rule))
	})
	return out
}

func widgetSchema(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(widgetsSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// body decodes a JSON body as the request validator does (numbers as json.Number).
func body(t *testing.T, js string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

var schemaIssueCases = []struct {
	name, body string
	want       []problem
}{
	{"valid", `{"email": "jane@example.com", "name": "Jane", "secret": "s", "owner": {"first": "J", "contacts": ["a@example.com"]},
		"roles": [{"function": "admin"}], "grid": [[1, 2], [3]], "labels": {"0": "zero"}}`, []problem{}},
	{"required, top level", `{}`, []problem{
		{"body", "email", "email", "required", map[string]any{}}, // Value: the object without it
		{"body", "name", "name", "required", map[string]any{}},
	}},
	{"required, nested", `{"email": "jane@example.com", "name": "Jane", "owner": {}, "roles": [{"function": "admin"}, {}]}`, []problem{
		{"body", "owner.first", "owner/first", "required", map[string]any{}},
		{"body", "roles[1].function", "roles/1/function", "required", map[string]any{}},
	}},
	{"enum in an array of objects", `{"email": "jane@example.com", "name": "Jane", "roles": [{"function": "admin"}, {"function": "root"}]}`, []problem{
		{"body", "roles[1].function", "roles/1/function", "enum", "root"},
	}},
	{"types, nested arrays", `{"email": "jane@example.com", "name": 5, "grid": [[1, "two"], "three"]}`, []problem{
		{"body", "grid[0][1]", "grid/0/1", "type", "two"},
		{"body", "grid[1]", "grid/1", "type", "three"},
		{"body", "name", "name", "type", 5.0},
	}},
	{"limits", `{"email": "jane@example.com", "name": "Janet", "size": 0}`, []problem{
		{"body", "size", "size", "minimum", 0.0},
	}},
	{"maxLength", `{"email": "jane@example.com", "name": "Jane Doe"}`, []problem{
		{"body", "name", "name", "maxLength", "Jane Doe"},
	}},
	// The server's definition (HTML5's): a domain without a dot is not an address.
	{"format email", `{"email": "jane@localhost", "name": "Jane", "owner": {"first": "J", "contacts": ["a@example.com", "not an address"]}}`, []problem{
		{"body", "email", "email", "format", "jane@localhost"},
		{"body", "owner.contacts[1]", "owner/contacts/1", "format", "not an address"},
	}},
	{"readOnly refused, writeOnly accepted", `{"id": 7, "email": "jane@example.com", "name": "Jane", "secret": "s"}`, []problem{
		{"body", "id", "id", "readOnly", json.Number("7")},
	}},
	// A key of digits reads as an index in Field; Pointer tells it from one.
	{"object key of digits", `{"email": "jane@example.com", "name": "Jane", "labels": {"0": 0, "a": "b"}}`, []problem{
		{"body", "labels[0]", "labels/0", "type", 0.0},
	}},
	{"not an object", `["x"]`, []problem{
		{"body", "", "", "type", []any{"x"}},
	}},
	{"null", `null`, []problem{
		{"body", "", "", "nullable", nil},
	}},
}

func TestSchemaIssues(t *testing.T) {
	schema := widgetSchema(t).Components.Schemas["WidgetCreate"].Value
	for _, tc := range schemaIssueCases {
		t.Run(tc.name, func(t *testing.T) {
			value := body(t, tc.body)
			before := fmt.Sprint(value)
			issues := httpserver.SchemaIssues(schema, value)
			if got := problems(issues); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SchemaIssues:\n got %#v\nwant %#v", got, tc.want)
			}
			for _, is := range issues {
				if is.Schema == nil {
					t.Errorf("%s %s: no schema", is.Field, is.Rule)
				}
			}
			if after := fmt.Sprint(value); after != before {
				t.Errorf("the value changed (a default set?): %s → %s", before, after)
			}
		})
	}
}

// TestSchemaIssuesAgreeWithRequests sends each case's body to a server validating the same
// schema: its InvalidRequest lists the same issues as SchemaIssues.
func TestSchemaIssuesAgreeWithRequests(t *testing.T) {
	doc := widgetSchema(t)
	var invalid *httpserver.InvalidRequest
	api := &httpserver.API{
		Name:     "widgets",
		Spec:     doc,
		Prefixes: []string{"/widgets"},
		Register: func(e *echo.Echo) {
			e.POST("/widgets", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
		},
		Render: func(err error, path string) httpserver.Reply {
			if !errors.As(err, &invalid) {
				t.Errorf("not an InvalidRequest: %v", err)
			}
			return httpserver.Reply{Status: http.StatusBadRequest, ContentType: "application/json", Body: map[string]string{"error": "invalid"}}
		},
	}
	e, err := httpserver.New(httpserver.Options{Logger: slog.New(slog.DiscardHandler), APIs: []*httpserver.API{api}})
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["WidgetCreate"].Value
	for _, tc := range schemaIssueCases {
		t.Run(tc.name, func(t *testing.T) {
			invalid = nil
			req := httptest.NewRequest(http.MethodPost, "/widgets", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			var got []problem
			if invalid != nil {
				got = problems(invalid.Issues)
			} else if rec.Code != http.StatusCreated {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			want := problems(httpserver.SchemaIssues(schema, body(t, tc.body)))
			if len(got) != 0 || len(want) != 0 {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("the request's issues:\n got %#v\nSchemaIssues: %#v", got, want)
				}
			}
		})
	}
}

func TestCharacterIssues(t *testing.T) {
	value := map[string]any{
		"name":  "a\x00b",
		"ok":    "fine",
		"roles": []any{"x", map[string]any{"function": "\x00"}},
		"grid":  []any{[]any{"y", "\x00"}},
		"labels": map[string]any{
			"k\x00": "v",
		},
	}
	got := problems(httpserver.CharacterIssues(value))
	want := []problem{
		{"body", "grid[0][1]", "", "characters", "\x00"},
		{"body", "labels", "", "characters", nil},
		{"body", "name", "", "characters", "a\x00b"},
		{"body", "roles[1].function", "", "characters", "\x00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CharacterIssues:\n got %#v\nwant %#v", got, want)
	}
}

// TestSchemaIssuesOfAllOf checks that a schema written as allOf (its fields, plus an anyOf of
// required names, as platformOS's bodies are) lists each part's problems with its own path, as
// the same schema written flat would, not one allOf problem for the whole body.
func TestSchemaIssuesOfAllOf(t *testing.T) {
	var schema openapi3.Schema
	if err := json.Unmarshal([]byte(`{"allOf": [
		{"type": "object", "required": ["form"], "properties": {
			"name": {"type": "string", "maxLength": 3},
			"form": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}}},
		{"anyOf": [{"required": ["name"]}, {"required": ["alias"]}]}]}`), &schema); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, body string
		want       []problem
	}{
		{"valid", `{"name": "abc", "form": {"email": "a"}}`, []problem{}},
		{"both parts", `{"form": {}}`, []problem{
			{"body", "", "", "anyOf", map[string]any{"form": map[string]any{}}},
			{"body", "form.email", "form/email", "required", map[string]any{}},
		}},
		{"fields of the first part", `{"name": "abcd", "form": {"email": 1}}`, []problem{
			{"body", "form.email", "form/email", "type", 1.0},
			{"body", "name", "name", "maxLength", "abcd"},
		}},
	} {
		got := problems(httpserver.SchemaIssues(&schema, body(t, c.body)))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %s:\n got %#v\nwant %#v", c.name, c.body, got, c.want)
		}
	}
}
