package app_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/app"
)

// layers ranks the project's packages, lowest first: a package may import only packages of a
// lower rank (its tests may import anything). The API packages are rank apiLayer, derived from
// app.Modules, and may not import each other: what two APIs share lives below them.
var layers = [][]string{
	{"internal/version"},
	{"openapi", "gen/*", "internal/apperr", "internal/config", "internal/docs", "internal/email", "internal/optional", "internal/golden", "internal/occ/scim", "internal/journal", "internal/fault"},
	{"internal/password", "internal/store"},
	{"internal/credential", "internal/httpserver", "internal/occ/scimsql"},
	{"internal/occ"},
	{"internal/module"},
	{"internal/fixtures"},
	nil, // the APIs
	{"internal/app"},
	{"internal/apitest", "internal/cli"},
	{"cmd/*", "internal/e2e", "internal/occ/occtest"},
}

const apiLayer = 7

// TestImportsGoDown checks the import graph of the whole module with go list: every import of a
// package of this module goes to a lower layer, so there is no cycle and no upward import.
func TestImportsGoDown(t *testing.T) {
	const module = "github.com/provisiond/provisiond/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Skipf("go list is not available: %v", err)
	}
	apis := map[string]bool{}
	for _, name := range app.Modules.Names() {
		apis["internal/"+name] = true
	}
	rank := func(pkg string) int {
		if apis[pkg] {
			return apiLayer
		}
		for r, names := range layers {
			for _, n := range names {
				if n == pkg || strings.HasSuffix(n, "/*") && strings.HasPrefix(pkg, strings.TrimSuffix(n, "*")) {
					return r
				}
			}
		}
		return -1
	}
	edges := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		from := rank(pkg)
		if from < 0 {
			t.Errorf("package %s is in no layer: add it to layers", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			edges++
			if to := rank(dep); to >= from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must go to a lower layer", pkg, from, dep, to)
			}
		}
	}
	if edges == 0 {
		t.Fatalf("go list named no imports within the module:\n%s", out)
	}
	t.Logf("%d imports within the module, all going down", edges)
}
