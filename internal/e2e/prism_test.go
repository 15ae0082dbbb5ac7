package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startPrism starts `prism proxy openapi/<api>.yaml upstream` with script (.ci/prism/start.sh,
// which installs the pinned Prism, starts it detached and prints its process id once it listens)
// and returns its URL and how to stop it.
func startPrism(script, api, upstream, dir string) (stop func() error, url string, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	_, port, _ := net.SplitHostPort(addr)
	out := filepath.Join(dir, "prism-"+api+".log")
	cmd := exec.Command(script, api, upstream, port)
	// PRISM_WATCH_PID: the proxy stops by itself should this process die without stopping it.
	cmd.Env = append(os.Environ(), "PRISM_OUT="+out, "PRISM_WATCH_PID="+strconv.Itoa(os.Getpid()))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("start prism for %s: %v\n%s", api, err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(stdout)))
	if err != nil {
		return nil, "", fmt.Errorf("start prism for %s: no process id in %q", api, stdout)
	}
	stop = func() error {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("prism for %s (pid %d) ended early:\n%s", api, pid, tail(out))
		}
		for range 200 {
			if syscall.Kill(pid, 0) != nil {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return fmt.Errorf("prism for %s did not stop within 10s of SIGTERM", api)
	}
	return stop, "http://" + addr, nil
}

// prismViolation is one entry of the sl-violations header Prism's proxy adds to an answer.
type prismViolation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code"`
	Message  string   `json:"message"`
}

func (v prismViolation) String() string {
	return fmt.Sprintf("%s %s: %s (%v)", v.Severity, strings.Join(v.Location, "."), v.Message, v.Code)
}

// checkPrism fails the test for every violation Prism found in an answer but the request
// violations of a request sent invalid on purpose, and for such a request that Prism found valid.
func (d *doer) checkPrism(req *http.Request, res *http.Response, kind requestKind) {
	d.t.Helper()
	at := req.Method + " " + req.URL.Path
	var found []prismViolation
	if h := res.Header.Get("sl-violations"); h != "" {
		if err := json.Unmarshal([]byte(h), &found); err != nil {
			d.t.Errorf("%s: Prism's sl-violations header does not parse (%v): %s", at, err, h)
			return
		}
	}
	var onRequest []prismViolation
	for _, v := range found {
		if len(v.Location) > 0 && v.Location[0] == "request" {
			onRequest = append(onRequest, v)
			continue
		}
		if secondMediaType(res, v) {
			continue
		}
		d.t.Errorf("%s → %d: Prism reports a response violation: %s", at, res.StatusCode, v)
	}
	switch {
	case kind == validRequest && len(onRequest) > 0:
		d.t.Errorf("%s → %d: Prism reports violations in a request meant to be valid: %v", at, res.StatusCode, errors.Join(asErrors(onRequest)...))
	case kind == invalidRequest && len(onRequest) == 0:
		d.t.Errorf("%s → %d: the request is invalid on purpose, but Prism found no violation in it", at, res.StatusCode)
	}
}

// secondMediaType reports whether v is a violation Prism finds in the body of a JSON-LD answer
// (X-Cart's application/ld+json): Prism checks a response body against the schema of the first
// media type its response documents, whatever the answer's Content-Type
// (github.com/stoplightio/prism/issues/2713), and X-Cart documents application/json (or
// problem+json) first. Such a body is still checked against its own schema by the server's
// response-validation mode, which fails the suite on any violation (TestMain).
func secondMediaType(res *http.Response, v prismViolation) bool {
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	return mt == "application/ld+json" && len(v.Location) > 1 && v.Location[0] == "response" && v.Location[1] == "body"
}

func asErrors(vs []prismViolation) []error {
	out := make([]error, len(vs))
	for i, v := range vs {
		out[i] = errors.New(v.String())
	}
	return out
}
