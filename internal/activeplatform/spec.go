package activeplatform

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/openapi"
)

// The lines of the spec's Password schema that state the default policy (DefaultPolicy).
const (
	passwordSchema  = "\n    Password:\n"
	minLengthPrefix = "      minLength: "
	patternPrefix   = "      pattern: "
)

// spec is module.API.Spec: the spec's text with the Password schema stating the configured
// password policy.
func spec(cfg config.Config) ([]byte, error) {
	policy, err := ParsePolicy(cfg.PasswordPolicy)
	if err != nil {
		return nil, err
	}
	text, err := openapi.FS.ReadFile(Name + ".yaml")
	if err != nil {
		return nil, err
	}
	return SpecFor(text, policy)
}

// SpecFor is text, the spec as written (which states DefaultPolicy), with the minLength and the
// pattern of its Password schema stating policy instead: the validator then refuses what the
// policy refuses, and the served spec says so.
func SpecFor(text []byte, policy Policy) ([]byte, error) {
	start := bytes.Index(text, []byte(passwordSchema))
	if start < 0 {
		return nil, fmt.Errorf("%s spec: no Password schema", Name)
	}
	min, pattern := policy.Schema()
	values := map[string]string{minLengthPrefix: strconv.Itoa(min), patternPrefix: "'" + pattern + "'"}
	head := start + len(passwordSchema)
	lines := bytes.SplitAfter(text[head:], []byte("\n"))
	found := map[string]int{}
	// The schema's lines are those indented below its name.
	for i := 0; i < len(lines) && bytes.HasPrefix(lines[i], []byte("      ")); i++ {
		for prefix, v := range values {
			if bytes.HasPrefix(lines[i], []byte(prefix)) {
				lines[i] = []byte(prefix + v + "\n")
				found[prefix]++
			}
		}
	}
	for prefix := range values {
		if found[prefix] != 1 {
			return nil, fmt.Errorf("%s spec: the Password schema has %d %q lines, want 1", Name, found[prefix], prefix)
		}
	}
	return append(slices.Clone(text[:head]), bytes.Join(lines, nil)...), nil
}
