package occstore_test

import (
	"testing"

	"github.com/provisiond/provisiond/internal/occ/occtest"
	"github.com/provisiond/provisiond/internal/occstore"
)

// The spec's sort parameter names exactly the properties the server sorts by.
func TestSortablesAgree(t *testing.T) {
	occtest.SortablesAgree(t, "occstore", "listMembers", occstore.SortColumns)
}
