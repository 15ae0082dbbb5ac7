package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/internal/apperr"
)

// An outage that a store wraps as internal must still be answered as unavailable (503), not as
// the server's own fault (500).
func TestInternalKeepsUnavailable(t *testing.T) {
	outage := apperr.Unavailable(errors.New("connection refused"))
	cases := []struct {
		name string
		err  error
		want apperr.Kind
	}{
		{"plain cause", apperr.Internal(errors.New("bug")), apperr.KindInternal},
		{"unavailable cause", apperr.Internal(outage), apperr.KindUnavailable},
		{"wrapped unavailable cause", apperr.Internal(fmt.Errorf("list: %w", outage)), apperr.KindUnavailable},
	}
	for _, c := range cases {
		if got := apperr.KindOf(c.err); got != c.want {
			t.Errorf("%s: KindOf(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
	if !errors.Is(apperr.Internal(outage), outage) {
		t.Errorf("Internal(%v) does not wrap its cause", outage)
	}
}

func TestHas(t *testing.T) {
	joined := errors.Join(apperr.Invalid("email", "format", "is invalid"), fmt.Errorf("x: %w", apperr.Unavailable(errors.New("down"))))
	if !apperr.Has(joined, apperr.KindUnavailable) {
		t.Errorf("Has(%v, unavailable) = false, want true", joined)
	}
	if apperr.Has(joined, apperr.KindNotFound) {
		t.Errorf("Has(%v, not found) = true, want false", joined)
	}
	if apperr.Has(errors.New("plain"), apperr.KindInternal) {
		t.Errorf("Has(plain error, internal) = true, want false: only *Error values count")
	}
}
