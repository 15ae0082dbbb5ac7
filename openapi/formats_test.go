package openapi_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/provisiond/provisiond/openapi"
)

// formatSuffixes are the format suffixes of the vendors whose routes take one: ActivePlatform's
// (Rails) ".json", X-Cart's (API Platform) ".json" and ".jsonld".
var formatSuffixes = map[string][]string{"activeplatform": {".json"}, "xcart": {".json", ".jsonld"}}

// TestFormatSuffixRoutes checks the format-suffixed routes of the APIs whose server rewrites them
// onto the routes without the suffix: every route without a suffix has its operation with each
// suffix, with the same method and parameters; and the server's oapi-codegen configuration
// (gen/<api>/server.cfg.yaml) leaves out exactly the suffixed operations, which no route reaches,
// while the client keeps them.
func TestFormatSuffixRoutes(t *testing.T) {
	for name, suffixes := range formatSuffixes {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		var suffixed []string
		paths := doc.Paths.Map()
		for path, item := range paths {
			if slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(path, s) }) {
				continue
			}
			// Only the routes of resources take a suffix: not ActivePlatform's or X-Cart's login.
			if name == "xcart" && !strings.HasPrefix(path, "/api/profiles") {
				continue
			}
			for _, suffix := range suffixes {
				other := paths[path+suffix]
				if other == nil {
					t.Errorf("%s: %s has no route %s%s", name, path, path, suffix)
					continue
				}
				for method, op := range item.Operations() {
					sop := other.GetOperation(method)
					if sop == nil {
						t.Errorf("%s: %s %s has no operation on %s%s", name, method, path, path, suffix)
						continue
					}
					if len(sop.Parameters) != len(op.Parameters) || len(other.Parameters) != len(item.Parameters) {
						t.Errorf("%s: %s %s%s (%s) does not take the parameters of %s", name, method, path, suffix, sop.OperationID, op.OperationID)
					}
					suffixed = append(suffixed, sop.OperationID)
				}
				if len(other.Operations()) != len(item.Operations()) {
					t.Errorf("%s: %s%s has operations that %s has not", name, path, suffix, path)
				}
			}
		}
		var cfg struct {
			OutputOptions struct {
				ExcludeOperationIDs []string `yaml:"exclude-operation-ids"`
			} `yaml:"output-options"`
		}
		text, err := os.ReadFile(filepath.Join("..", "gen", name, "server.cfg.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(text, &cfg); err != nil {
			t.Fatalf("gen/%s/server.cfg.yaml: %v", name, err)
		}
		slices.Sort(suffixed)
		excluded := slices.Sorted(slices.Values(cfg.OutputOptions.ExcludeOperationIDs))
		if !slices.Equal(excluded, suffixed) {
			t.Errorf("gen/%s/server.cfg.yaml excludes %v, want the suffixed operations %v", name, excluded, suffixed)
		}
	}
}
