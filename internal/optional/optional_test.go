package optional

import "testing"

func TestSet(t *testing.T) {
	name, given := "old", "new"
	Set(&name, nil)
	if name != "old" {
		t.Errorf("Set(%q, nil) left %q, want %q", "old", name, "old")
	}
	Set(&name, &given)
	if name != "new" {
		t.Errorf("Set(%q, &%q) left %q, want %q", "old", given, name, "new")
	}
}
