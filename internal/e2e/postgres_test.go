package e2e_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// cluster is a PostgreSQL server of the test's own, on a free port, which the test can stop,
// start and freeze as an outage or a stalled disk would — never the shared one of the machine.
type cluster struct {
	bin, dir, port string
	asUser         []string // runuser prefix when the test runs as root (PostgreSQL refuses root)
}

// newCluster initializes and starts a cluster, or skips the test with a notice where PostgreSQL's
// server programs are not installed. It is removed when the test ends.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			bins = []string{p}
		}
	}
	if len(bins) == 0 {
		apitest.SkipGap(t, "the tests that start and stop a PostgreSQL of their own did not run: its server programs (initdb, pg_ctl) are not installed (apt-get install postgresql)")
	}
	c := &cluster{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "provisiond-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c.dir = filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			apitest.SkipGap(t, "the tests that start and stop a PostgreSQL of their own did not run: running as root, and there is no postgres user to run it as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	c.run(t, "initdb", "-D", c.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	t.Cleanup(func() { c.stop(t, "immediate") })
	c.start(t)
	return c
}

func (c *cluster) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	argv := append(append(append([]string{}, c.asUser...), filepath.Join(c.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(c.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// URL is the database URL of the cluster's postgres database.
func (c *cluster) URL() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// start starts the server and waits until it accepts connections.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %s -c listen_addresses=127.0.0.1 -k %s -c fsync=off", c.port, filepath.Dir(c.dir))
	c.run(t, "pg_ctl", "-D", c.dir, "-o", opts, "-l", filepath.Join(filepath.Dir(c.dir), "postgres.log"), "-w", "start")
}

// stop shuts the server down in pg_ctl's mode: "fast" ends every session mid-request (a restart
// or a failover), "immediate" as a crash does.
func (c *cluster) stop(t *testing.T, mode string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err != nil {
		return
	}
	c.thaw()
	c.run(t, "pg_ctl", "-D", c.dir, "-m", mode, "-w", "stop")
}

// freeze stops every process of the server (SIGSTOP): connections stay open and nothing
// answers, as with a stalled disk or a network partition. thaw resumes them.
func (c *cluster) freeze(t *testing.T) {
	t.Helper()
	for _, pid := range c.pids(t) {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("freeze %d: %v", pid, err)
		}
	}
}

func (c *cluster) thaw() {
	for _, pid := range c.pids(nil) {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// pids are the postmaster's and its children's process ids.
func (c *cluster) pids(t *testing.T) []int {
	b, err := os.ReadFile(filepath.Join(c.dir, "postmaster.pid"))
	if err != nil {
		if t != nil {
			t.Fatalf("postmaster.pid: %v", err)
		}
		return nil
	}
	main, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		if t != nil {
			t.Fatalf("postmaster.pid: %v", err)
		}
		return nil
	}
	out := []int{main}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(main) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(s))); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}
