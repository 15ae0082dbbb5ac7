// Package golden compares what a test produces with a file under testdata/, so that a wire format
// is reviewed as a file and every change to it shows in a diff. `go test -update` rewrites the
// files from what the tests produce.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests produce")

// Response is one HTTP response as a golden file records it: the body is the JSON sent, re-indented.
type Response struct {
	Status      int             `json:"status"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

// NewResponse records a response whose body is sent as body's JSON encoding.
func NewResponse(t testing.TB, status int, contentType string, body any) Response {
	t.Helper()
	js, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("body %v: %v", body, err)
	}
	return Response{Status: status, ContentType: contentType, Body: js}
}

// JSON compares v, as indented JSON, with the file at path; with -update it writes the file.
func JSON(t testing.TB, path string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	got := buf.Bytes()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (go test -update writes it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("golden %s differs (go test -run '%s' -update rewrites it after review)\n got:\n%s\nwant:\n%s", path, t.Name(), got, want)
	}
}
