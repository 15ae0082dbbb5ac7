// Package openapi holds provisiond's OpenAPI documents, one per API, embedded so that the
// server can serve them as written.
package openapi

import (
	"embed"
	"encoding/json"

	"github.com/getkin/kin-openapi/openapi3"
)

// FS holds every <api>.yaml of this folder.
//
//go:embed *.yaml
var FS embed.FS

// JSON converts a YAML document of this folder to JSON.
func JSON(yamlDoc []byte) ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(yamlDoc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
