package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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

// TestDoReportsTheViolationsOfItsOwnRequest checks that Do fails the request whose response the
// server's validation found broken, with its body, and no other request.
func TestDoReportsTheViolationsOfItsOwnRequest(t *testing.T) {
	s := &Server{Logs: &SyncBuffer{}, specs: loadSpecs(t)}
	s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "broken" {
			fmt.Fprintf(s.Logs, `{"level":"ERROR","msg":"response violates the spec","violation":"at /id: not an integer","request_id":%q}`+"\n", id)
		}
		w.Header().Set("X-Request-Id", id)
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"id":"x"}`))
	})
	do := func(id string) []string {
		rec := &errorRecorder{TB: t}
		req := httptest.NewRequest(http.MethodGet, "/api/profiles/1", nil)
		req.Header.Set("X-Request-Id", id)
		if res := s.Do(rec, req); res.Operation != "getProfile" {
			t.Errorf("Operation = %q, want getProfile", res.Operation)
		}
		return rec.errs
	}
	if errs := do("fine"); len(errs) != 0 {
		t.Errorf("a request without violations failed: %q", errs)
	}
	errs := do("broken")
	if len(errs) != 1 || !strings.Contains(errs[0], "at /id: not an integer") || !strings.Contains(errs[0], `{"id":"x"}`) {
		t.Errorf("the broken response reported %q, want its violation and body", errs)
	}
	if v := s.Logs.Unclaimed(); len(v) != 0 {
		t.Errorf("a reported violation is still unclaimed: %q", v)
	}
}
