// Command rsspeak measures the peak resident memory of provisiond under a burst of password
// creates: it starts the server binary on a fresh SQLite database in a temporary directory, with
// a known X-Cart key loaded as a fixture, sends -n X-Cart creates with a password at once
// (POST /api/profiles, each with a login of its own), waits for every answer, and prints the
// answers by status and the server's VmHWM (peak resident set size) from /proc/<pid>/status
// before it stops the server with SIGTERM. Linux only; a measurement, not a test.
//
// Usage:
//
//	rsspeak [-bin bin/provisiond] [-n 512] [-addr 127.0.0.1:18282] [NAME=VALUE...]
//
// NAME=VALUE arguments reach the server's environment (PROVISIOND_PASSWORD_CONCURRENCY=2,
// GOMEMLIMIT=100MiB, …) besides the address, database, fixtures and log level set here.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rsspeak:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin/provisiond", "the provisiond binary")
	n := flag.Int("n", 512, "password creates sent at once")
	addr := flag.String("addr", "127.0.0.1:18282", "address the server listens on (must be free)")
	logFile := flag.String("log", "", "file to write the server's output to")
	flag.Parse()

	dir, err := os.MkdirTemp("", "rsspeak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := rand.Text()
	fixtures := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(fixtures, []byte("credentials:\n  - {api: xcart, secret: "+key+"}\n"), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(*bin, "serve")
	cmd.Env = append(os.Environ(), flag.Args()...)
	cmd.Env = append(cmd.Env, "PROVISIOND_ADDR="+*addr, "PROVISIOND_DATABASE_URL="+filepath.Join(dir, "db"),
		"PROVISIOND_FIXTURES="+fixtures, "PROVISIOND_LOG_LEVEL=warn", "PROVISIOND_LOG_FORMAT=text")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + *addr
	if err := waitReady(base + "/readyz"); err != nil {
		return fmt.Errorf("%w; server log:\n%s", err, logs.String())
	}
	idle, err := status(cmd.Process.Pid)
	if err != nil {
		return err
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *n, DisableCompression: true}, Timeout: 2 * time.Minute}
	start := make(chan struct{})
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i := range *n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"login":"rss%d@example.com","password":"rss-passw0rd-%d"}`, i, i)
			req, _ := http.NewRequest("POST", base+"/api/profiles", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Auth-Token", key)
			<-start
			answer := "transport error"
			if res, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				answer = res.Status
			}
			mu.Lock()
			answers[answer]++
			mu.Unlock()
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	after, err := status(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("rsspeak: %d password creates at once in %v\n", *n, elapsed.Round(time.Millisecond))
	for _, a := range slices.Sorted(maps.Keys(answers)) {
		fmt.Printf("  %4d × %s\n", answers[a], a)
	}
	fmt.Printf("  idle:  VmRSS %s (anonymous %s, file %s)\n", idle["VmRSS"], idle["RssAnon"], idle["RssFile"])
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err == nil {
		// The fields after the command's name, which ends at the last ')': minflt is the 10th field.
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 7 {
			fmt.Printf("  minor page faults: %s\n", f[7])
		}
	}
	fmt.Printf("  after: VmRSS %s (anonymous %s, file %s); peak VmHWM %s\n", after["VmRSS"], after["RssAnon"], after["RssFile"], after["VmHWM"])
	if *logFile != "" {
		return os.WriteFile(*logFile, logs.Bytes(), 0o644)
	}
	return nil
}

func waitReady(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if res, err := http.Get(url); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready in 60s", url)
}

// status reads the memory lines of /proc/<pid>/status.
func status(pid int) (map[string]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && (strings.HasPrefix(k, "Vm") || strings.HasPrefix(k, "Rss")) {
			out[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return out, sc.Err()
}
