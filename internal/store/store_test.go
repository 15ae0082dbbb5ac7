package store

import (
	"errors"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
)

func TestClassify(t *testing.T) {
	dup, missing := apperr.Conflict("email", "taken", "taken"), apperr.NotFound("gone")
	passed := apperr.Forbidden("no")
	for _, c := range []struct {
		name          string
		err, dup, mis error
		want          error
		kind          apperr.Kind
	}{
		{"duplicate", fmt.Errorf("insert: %w", gorm.ErrDuplicatedKey), dup, nil, dup, apperr.KindConflict},
		{"duplicate not expected", gorm.ErrDuplicatedKey, nil, nil, nil, apperr.KindInternal},
		{"missing", gorm.ErrRecordNotFound, nil, missing, missing, apperr.KindNotFound},
		{"missing not expected", gorm.ErrRecordNotFound, dup, nil, nil, apperr.KindInternal},
		{"apperr passes", passed, dup, missing, passed, apperr.KindForbidden},
		{"other", errors.New("connection reset"), dup, missing, nil, apperr.KindInternal},
	} {
		got := Classify(c.err, "doing", c.dup, c.mis)
		if apperr.KindOf(got) != c.kind || c.want != nil && got != c.want {
			t.Errorf("%s: Classify(%v) = %v, want kind %v", c.name, c.err, got, c.kind)
		}
		if c.kind == apperr.KindInternal && !errors.Is(got, c.err) {
			t.Errorf("%s: the cause %v is lost in %v", c.name, c.err, got)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{"plain": "plain", "50%": "50!%", "a_b": "a!_b", "wow!": "wow!!"} {
		if got := EscapeLike(in); got != want {
			t.Errorf("EscapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}
