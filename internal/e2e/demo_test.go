package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs `make demo`'s script in its checking mode: every call it prints for the five APIs
// and the control API, run exactly as printed against the server it starts, must succeed.
func TestDemo(t *testing.T) {
	if env.prism {
		t.Skip("the demo's calls go to its own server, not through Prism")
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), filepath.Join(root, ".ci", "demo.sh"))
	cmd.Env = append(os.Environ(), "PROVISIOND_BIN="+env.bin, "DEMO_ADDR="+addr, "DEMO_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "demo: every call succeeded") {
		t.Fatalf("make demo's calls: %v\n%s", err, out)
	}
	for _, api := range []string{"(xcart)", "(occadmin)", "(occstore)", "(platformos)", "(activeplatform)", "(control)"} {
		if !strings.Contains(string(out), api) {
			t.Errorf("the demo shows no call of %s:\n%s", api, out)
		}
	}
}
