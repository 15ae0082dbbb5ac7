package apitest

import (
	"fmt"
	"strings"
	"testing"
)

// errorRecorder is a testing.TB that keeps what Errorf reports instead of failing.
type errorRecorder struct {
	testing.TB
	errs []string
}

func (r *errorRecorder) Helper() {}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckViolationsFailsOnTheServersOwnFindings checks that a response violation the server
// logs in its response-validation mode fails the test, and that other log lines do not.
func TestCheckViolationsFailsOnTheServersOwnFindings(t *testing.T) {
	logs := `{"level":"INFO","msg":"request","route":"/api/profiles","status":201}` + "\n" +
		`{"level":"INFO","msg":"a message quoting response violates the spec"}` + "\n"
	rec := &errorRecorder{TB: t}
	FailOnViolations(rec, logs)
	if len(rec.errs) != 0 {
		t.Fatalf("a log without violations failed the test: %q", rec.errs)
	}

	logs += `{"level":"ERROR","msg":"response violates the spec","operation":"createProfile","status":201,"violation":"status is not supported","request_id":"R1"}` + "\n"
	FailOnViolations(rec, logs)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `"request_id":"R1"`) {
		t.Errorf("a logged violation reported %q, want one failure naming request R1", rec.errs)
	}
}
