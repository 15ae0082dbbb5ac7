package openapi_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/openapi"
)

// TestEveryOperationIsDocumented checks what SDK generators and readers of the reference rely on:
// every operation has a unique operationId and a summary, and every response that has a body
// shows an example of it in each of its media types.
func TestEveryOperationIsDocumented(t *testing.T) {
	names := openapi.Names()
	if want := generated(t); !slices.Equal(names, want) {
		t.Fatalf("specs = %v, want %v (one per gen/ folder)", names, want)
	}
	for _, name := range names {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				at := name + ": " + method + " " + path
				if op.OperationID == "" {
					t.Errorf("%s has no operationId", at)
				} else if other, dup := ids[op.OperationID]; dup {
					t.Errorf("%s and %s share the operationId %s", at, other, op.OperationID)
				}
				ids[op.OperationID] = at
				if strings.TrimSpace(op.Summary) == "" {
					t.Errorf("%s has no summary", at)
				}
				if op.Responses.Len() == 0 {
					t.Errorf("%s documents no response", at)
				}
				for status, ref := range op.Responses.Map() {
					for mt, content := range ref.Value.Content {
						if content.Example == nil && len(content.Examples) == 0 {
							t.Errorf("%s: response %s (%s) has no example", at, status, mt)
						}
					}
				}
			}
		}
	}
}

// generated lists the folders of gen/ that oapi-codegen fills from a spec of this folder (their
// generate.go names ../../openapi/<folder>.yaml), sorted: each needs its spec, and each spec its
// folder. internal/app checks that the modules it serves are these APIs.
func generated(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("../gen")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		src, err := os.ReadFile(filepath.Join("../gen", e.Name(), "generate.go"))
		if err != nil {
			t.Errorf("gen/%s: %v", e.Name(), err)
			continue
		}
		if spec := "../../openapi/" + e.Name() + ".yaml"; !strings.Contains(string(src), spec) {
			t.Errorf("gen/%s/generate.go does not generate from %s", e.Name(), spec)
		}
		out = append(out, e.Name())
	}
	return out
}
