// Package openapi holds provisiond's OpenAPI documents, one per API, embedded so that the
// server can serve them as written.
package openapi

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// FS holds every <api>.yaml of this folder.
//
//go:embed *.yaml
var FS embed.FS

// Load returns the source text and the parsed, validated document of the API name.
func Load(name string) ([]byte, *openapi3.T, error) {
	text, err := FS.ReadFile(name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("%s spec: %w", name, err)
	}
	doc, err := Parse(name, text)
	return text, doc, err
}

// Parse parses and validates text, a document of the API name (as written here, or adjusted to
// the server's configuration: module.API.Spec).
func Parse(name string, text []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(text)
	if err != nil {
		return nil, fmt.Errorf("%s spec: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s spec: %w", name, err)
	}
	return doc, nil
}

// Names lists the APIs whose documents this folder holds, sorted.
func Names() []string {
	entries, _ := FS.ReadDir(".")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, name)
		}
	}
	return out
}

// JSON converts a YAML document of this folder to JSON.
func JSON(yamlDoc []byte) ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(yamlDoc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
