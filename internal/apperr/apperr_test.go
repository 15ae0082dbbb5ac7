package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/internal/apperr"
)

func TestAllListsEveryErrorOfATree(t *testing.T) {
	a := apperr.Invalid("a", "r", "m")
	b := apperr.Conflict("b", "unique", "m")
	c := apperr.NotFound("gone")
	err := fmt.Errorf("outer: %w", errors.Join(a, fmt.Errorf("mid: %w", b), errors.New("plain"), errors.Join(c)))
	got := apperr.All(err)
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("All = %v, want [%v %v %v]", got, a, b, c)
	}
	if apperr.All(errors.New("plain")) != nil || apperr.All(nil) != nil {
		t.Errorf("All of an unclassified error or nil is not empty")
	}
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want apperr.Kind
	}{
		{errors.New("x"), apperr.KindInternal},
		{fmt.Errorf("w: %w", apperr.Forbidden("no")), apperr.KindForbidden},
		{apperr.Unavailable(errors.New("db")), apperr.KindUnavailable},
		{apperr.Unauthenticated("who"), apperr.KindUnauthenticated},
	} {
		if got := apperr.KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	cause := errors.New("cause")
	if !errors.Is(apperr.Internal(cause), cause) {
		t.Errorf("Internal does not wrap its cause")
	}
}
