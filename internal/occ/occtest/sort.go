package occtest

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/openapi"
)

// SortablesAgree fails t unless the sort parameter of the list operation of api's spec accepts
// exactly the properties columns sorts by, in any letter case (SCIM compares names so), and
// nothing else: a generated client cannot build a sort the server refuses, and the server sorts
// by nothing the spec hides.
func SortablesAgree(t *testing.T, api, operationID string, columns map[string]string) {
	t.Helper()
	_, doc, err := openapi.Load(api)
	if err != nil {
		t.Fatal(err)
	}
	var pattern string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID != operationID {
				continue
			}
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "sort" {
					pattern = p.Value.Schema.Value.Pattern
				}
			}
		}
	}
	if pattern == "" {
		t.Fatalf("%s %s: no sort parameter with a pattern", api, operationID)
	}
	re := regexp.MustCompile(pattern)
	for name := range columns {
		for _, v := range []string{name + ":asc", strings.ToUpper(name) + ":desc"} {
			if !re.MatchString(v) {
				t.Errorf("%s %s: the server sorts by %s, but the spec's pattern %s refuses %q", api, operationID, name, pattern, v)
			}
		}
	}
	// The properties the pattern names: its alternatives, each letter given as [xX].
	m := regexp.MustCompile(`^\^\((.*)\):\(asc\|desc\)\$$`).FindStringSubmatch(pattern)
	if m == nil {
		t.Fatalf("%s %s: the sort pattern %s is not ^(property|…):(asc|desc)$", api, operationID, pattern)
	}
	letter := regexp.MustCompile(`\[(\w)\w\]`)
	var named []string
	for _, alt := range strings.Split(m[1], "|") {
		named = append(named, strings.ToLower(letter.ReplaceAllString(alt, "$1")))
	}
	var sorted []string
	for name := range maps.Keys(columns) {
		sorted = append(sorted, strings.ToLower(name))
	}
	slices.Sort(named)
	slices.Sort(sorted)
	if !slices.Equal(named, sorted) {
		t.Errorf("%s %s: the spec's sort pattern names %v, the server sorts by %v", api, operationID, named, sorted)
	}
}
