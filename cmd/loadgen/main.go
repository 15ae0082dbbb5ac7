// Command loadgen is a small HTTP load generator for provisiond's X-Cart profiles API.
//
// It runs a fixed number of workers (-c) that send requests back to back over reused
// keep-alive connections, for a duration (-d) or a total number of requests (-n), and then
// prints the number of requests, the answers that were not 2xx counted by status code, the
// transport errors (no HTTP answer at all) counted separately, the throughput and the latency
// percentiles p50, p90, p99 and the maximum. Every latency is recorded, so the percentiles are
// exact, not estimated from a histogram.
//
// Usage:
//
//	loadgen -key KEY [-url URL] [-c N] [-d DURATION | -n N] [-scenario create|get|mixed|search|list]
//	        [-password] [-preload N -control-key KEY]
//
// The key is an X-Cart read/write credential, sent as X-Auth-Token; it may also come from the
// environment variable PROVISIOND_LOAD_KEY. `make load` starts a throwaway server with a known
// key and runs loadgen against it.
//
// Scenarios:
//
//   - create (the default): every request is a POST /api/profiles with a login no other
//     request used ("load-<run>-<worker>-<n>@example.com"), so each one should be a 201.
//     With -password each also sends an 8+ character password, so that the server hashes it
//     with argon2id: this measures the password path, which is CPU and memory bound.
//   - get: a warm-up first creates -warmup profiles (not measured, without passwords); then
//     every request is a GET /api/profiles/{id} of one of them, picked at random.
//   - mixed: the same warm-up, then one create for every four gets (request i is a create when
//     i is a multiple of 5), the gets reading the warm-up profiles.
//   - search: every request is a GET /api/profiles?login=<text> whose text is in exactly one
//     preloaded profile's login (X-Cart's contains-search), picked at random.
//   - list: every request is a GET /api/profiles?page=<p>&itemsPerPage=25 of a page picked at
//     random among those the preloaded profiles fill (deep pages included).
//
// -target kratos sends the same creates to Ory Kratos' admin API instead (POST /admin/identities
// with an email trait, schema "default"): a peer on the same database, for LOAD_COMPARE.
//
// -bound KIND -db URL measures, instead of the server, the database's bound with the same
// workers: gorm and pgx make the insert in process, http-gorm and http-pgx behind a bare HTTP
// handler that loadgen serves itself and drives like the server (see bound.go).
//
// -preload N loads N profiles (without passwords) before the run through the control API's
// POST /_provisiond/v1/fixtures, 10,000 per document, with the control credential -control-key
// (or $PROVISIOND_LOAD_CONTROL_KEY): how lists and searches behave at 10 k, 100 k or 1 M rows.
// search and list need it.
//
// Before measuring, every scenario makes at least one create that must answer 201: a wrong
// URL, a wrong or read-only key stops loadgen there (exit status 2) instead of producing a
// report full of 401s. A run ends when -d has elapsed (or -n requests have been sent, or on
// Ctrl-C); requests in flight then complete and are counted, so the measured time is a little
// longer than -d.
//
// Latencies are measured from sending the request to having read the whole response body, and
// are recorded for every HTTP answer, whatever its status; a transport error records none.
//
// Exit status: 0 when every request got an HTTP answer below 500 (4xx answers are reported but
// do not fail the run), 1 when any answer was a 5xx or any request failed in transport, 2 on a
// usage error or when the check or warm-up failed.
//
// Examples:
//
//	loadgen -url http://127.0.0.1:8080 -key "$KEY"                  # create, 32 workers, 10 s
//	loadgen -key "$KEY" -c 8 -d 30s -password                       # argon2id path
//	PROVISIOND_LOAD_KEY=$KEY loadgen -scenario get -c 64 -n 100000  # reads, 100k requests
//	loadgen -bound http-pgx -db postgres://…/load -c 64              # the HTTP floor on PostgreSQL
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	serverconfig "github.com/provisiond/provisiond/internal/config"
)

// loadPassword is the password every create sends with -password: 8 to 128 characters, as the
// API requires.
const loadPassword = "load-test-Passw0rd"

// maxErrorSamples bounds how many distinct transport error messages are kept to show.
const maxErrorSamples = 5

// op is the kind of one request.
type op int

const (
	opCreate op = iota
	opGet
	opSearch
	opList
	numOps
)

func (o op) String() string {
	return [...]string{"create", "get", "search", "list"}[o]
}

// preloadBatch is how many profiles one preload document holds.
const preloadBatch = 10000

// listPage is the page size of the list scenario.
const listPage = 25

// config is the parsed command line.
type config struct {
	baseURL     string
	key         string
	concurrency int
	duration    time.Duration
	requests    int64
	password    bool
	scenario    string
	warmup      int
	timeout     time.Duration
	preload     int
	controlKey  string
	bound       string
	db          string
	target      string
	conns       int
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs explicit; it returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		// No proxy: the figures are those of the server, not of a proxy in between.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		// Keep one idle connection per worker, so that every worker reuses its own connection
		// instead of opening a new one per request (the default keeps only 2 per host).
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.timeout}

	g := &generator{cfg: cfg, client: client, run: runID()}
	if cfg.bound != "" {
		kind, overHTTP := strings.CutPrefix(cfg.bound, httpBoundPrefix)
		b, err := openBound(ctx, kind, cfg.db, cfg.conns)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen: bound:", err)
			return 2
		}
		defer b.close()
		if !overHTTP {
			g.bound = b
			fmt.Fprintf(stdout, "loadgen: bound=%s concurrency=%d connections=%d %s\n", cfg.bound, cfg.concurrency, cfg.conns, cfg.limit())
			res := &result{}
			g.measure(ctx, res)
			res.print(stdout)
			if res.failed() {
				return 1
			}
			return 0
		}
		// Served here and driven over HTTP like the server: the check and the run below.
		url, stopServer, err := boundServer(b)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen: bound:", err)
			return 2
		}
		defer stopServer()
		g.cfg.baseURL = url
		fmt.Fprintf(stdout, "loadgen: bound=%s url=%s concurrency=%d connections=%d %s\n", cfg.bound, url, cfg.concurrency, cfg.conns, cfg.limit())
	} else {
		fmt.Fprintf(stdout, "loadgen: scenario=%s url=%s concurrency=%d %s password=%t\n",
			cfg.scenario, cfg.baseURL, cfg.concurrency, cfg.limit(), cfg.password)
	}

	if cfg.preload > 0 {
		t0 := time.Now()
		if err := g.preload(ctx); err != nil {
			fmt.Fprintf(stderr, "loadgen: preload: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "preload:      %d profiles in %s (not measured)\n", cfg.preload, round(time.Since(t0)))
	}

	// The check (create, search, list) or warm-up (get, mixed): creates that must all answer 201.
	warm, stage := 1, "check"
	if cfg.scenario == "get" || cfg.scenario == "mixed" {
		warm, stage = cfg.warmup, "warm-up"
	}
	t0 := time.Now()
	ids, err := g.warmUp(ctx, warm)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %s: %v\n", stage, err)
		return 2
	}
	if stage == "warm-up" {
		fmt.Fprintf(stdout, "warm-up:      created %d profiles in %s (not measured)\n", len(ids), round(time.Since(t0)))
	}
	g.ids = ids

	res := &result{dialsBefore: dials.Load()}
	g.measure(ctx, res)
	res.dials = dials.Load() - res.dialsBefore
	res.print(stdout)
	if res.failed() {
		return 1
	}
	return 0
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: loadgen -key KEY [-url URL] [-c N] [-d DURATION | -n N] [-scenario create|get|mixed|search|list]\n               [-password] [-preload N -control-key KEY]\n\n"+
			"Sends requests to provisiond's X-Cart profiles API and reports throughput, latency\npercentiles and errors. See the package documentation (go doc ./cmd/loadgen).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.baseURL, "url", "http://127.0.0.1:8080", "base URL of the server")
	// The key's default is read after parsing, so that -h never prints a secret.
	fs.StringVar(&cfg.key, "key", "", "X-Cart read/write key, sent as X-Auth-Token (default: $PROVISIOND_LOAD_KEY)")
	fs.IntVar(&cfg.concurrency, "c", 32, "concurrency: workers sending requests back to back")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "how long to send requests (ignored with -n)")
	fs.Int64Var(&cfg.requests, "n", 0, "total number of measured requests, instead of a duration")
	fs.BoolVar(&cfg.password, "password", false, "send a password with every measured create (loads argon2id)")
	fs.StringVar(&cfg.scenario, "scenario", "create", "create, get or mixed (1 create per 4 gets)")
	fs.IntVar(&cfg.warmup, "warmup", 200, "profiles created before a get or mixed run, for the gets to read")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.IntVar(&cfg.preload, "preload", 0, "profiles to load through the control API before the run (search and list need them)")
	fs.StringVar(&cfg.target, "target", "provisiond", "provisiond, or kratos: the same creates as Ory Kratos' admin create identity (POST /admin/identities, schema default with an email trait), a peer to compare with")
	fs.StringVar(&cfg.bound, "bound", "", "instead of the server, measure the database's bound: gorm (the server's driver and pragmas) or pgx (bare, PostgreSQL), or http-gorm or http-pgx (the same insert behind a bare HTTP handler that loadgen serves and drives like the server); needs -db")
	fs.IntVar(&cfg.conns, "conns", serverconfig.Default().DBMaxConns, "database connections of -bound: by default the server's default pool (PROVISIOND_DB_MAX_CONNS: 4 per CPU, at least 32), so that the bound and the server share the same limit")
	fs.StringVar(&cfg.db, "db", "", "database URL of -bound (default: $PROVISIOND_LOAD_DATABASE_URL)")
	fs.StringVar(&cfg.controlKey, "control-key", "", "control credential for -preload (default: $PROVISIOND_LOAD_CONTROL_KEY)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.key == "" {
		cfg.key = getenv("PROVISIOND_LOAD_KEY")
	}
	if cfg.controlKey == "" {
		cfg.controlKey = getenv("PROVISIOND_LOAD_CONTROL_KEY")
	}
	if cfg.db == "" {
		cfg.db = getenv("PROVISIOND_LOAD_DATABASE_URL")
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	switch {
	case cfg.target != "provisiond" && cfg.target != "kratos":
		return cfg, fmt.Errorf("-target must be provisiond or kratos, not %q", cfg.target)
	case cfg.target == "kratos" && (cfg.scenario != "create" || cfg.password || cfg.preload > 0 || cfg.bound != ""):
		return cfg, errors.New("-target kratos measures creates only (no -scenario, -password, -preload or -bound)")
	case !slices.Contains([]string{"", "gorm", "pgx", httpBoundPrefix + "gorm", httpBoundPrefix + "pgx"}, cfg.bound):
		return cfg, fmt.Errorf("-bound must be gorm, pgx, http-gorm or http-pgx, not %q", cfg.bound)
	case cfg.bound != "" && (cfg.db == "" || cfg.scenario != "create" || cfg.password || cfg.preload > 0):
		return cfg, errors.New("-bound needs -db and measures creates only (no -scenario, -password or -preload)")
	case cfg.key == "" && cfg.bound == "" && cfg.target == "provisiond":
		return cfg, errors.New("no key: pass -key or set PROVISIOND_LOAD_KEY")
	case cfg.concurrency < 1:
		return cfg, errors.New("-c must be at least 1")
	case explicit["n"] && explicit["d"]:
		return cfg, errors.New("pass -d or -n, not both")
	case explicit["n"] && cfg.requests < 1:
		return cfg, errors.New("-n must be at least 1")
	case cfg.requests == 0 && cfg.duration <= 0:
		return cfg, errors.New("-d must be positive")
	case !slices.Contains([]string{"create", "get", "mixed", "search", "list"}, cfg.scenario):
		return cfg, fmt.Errorf("-scenario must be create, get, mixed, search or list, not %q", cfg.scenario)
	case (cfg.scenario == "search" || cfg.scenario == "list") && cfg.preload < 1:
		return cfg, fmt.Errorf("-scenario %s needs -preload N", cfg.scenario)
	case cfg.preload < 0:
		return cfg, errors.New("-preload must not be negative")
	case cfg.preload > 0 && cfg.controlKey == "":
		return cfg, errors.New("-preload needs a control credential: pass -control-key or set PROVISIOND_LOAD_CONTROL_KEY")
	case (cfg.scenario == "get" || cfg.scenario == "mixed") && cfg.warmup < 1:
		return cfg, errors.New("-warmup must be at least 1")
	case cfg.timeout <= 0:
		return cfg, errors.New("-timeout must be positive")
	}
	cfg.baseURL = strings.TrimSuffix(cfg.baseURL, "/")
	if !strings.HasPrefix(cfg.baseURL, "http://") && !strings.HasPrefix(cfg.baseURL, "https://") {
		return cfg, fmt.Errorf("-url must start with http:// or https://, not %q", cfg.baseURL)
	}
	return cfg, nil
}

// limit describes what ends the run.
func (c config) limit() string {
	if c.requests > 0 {
		return fmt.Sprintf("requests=%d", c.requests)
	}
	return "duration=" + c.duration.String()
}

// runID is a random tag that keeps this run's logins apart from earlier runs' on the same database.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// generator sends the requests of one run.
type generator struct {
	cfg    config
	client *http.Client
	run    string
	ids    []int64 // profiles the gets read
	logins atomic.Int64
	bound  bound // with -bound: what the workers measure instead of the server
}

// createBody is the JSON body of a create with a login never used before.
func (g *generator) createBody(worker int, password bool) []byte {
	n := g.logins.Add(1)
	b := make([]byte, 0, 96)
	b = append(b, `{"login":"load-`...)
	b = append(b, g.run...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(worker), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `@example.com"`...)
	if password {
		b = append(b, `,"password":"`+loadPassword+`"`...)
	}
	return append(b, '}')
}

// newRequest builds one request of kind o.
func (g *generator) newRequest(o op, worker int, password bool, rng *mrand.Rand) (*http.Request, error) {
	var req *http.Request
	var err error
	switch {
	case o == opCreate && g.cfg.target == "kratos":
		n := g.logins.Add(1)
		body := `{"schema_id":"default","traits":{"email":"load-` + g.run + "-" + strconv.Itoa(worker) + "-" + strconv.FormatInt(n, 10) + `@example.com"}}`
		req, err = http.NewRequest(http.MethodPost, g.cfg.baseURL+"/admin/identities", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case o == opCreate:
		req, err = http.NewRequest(http.MethodPost, g.cfg.baseURL+"/api/profiles", bytes.NewReader(g.createBody(worker, password)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case o == opSearch:
		// "-<run>-<i>@" is in exactly one preloaded login: preloadLogin(i).
		text := "-" + g.run + "-" + strconv.Itoa(rng.IntN(g.cfg.preload)) + "@"
		req, err = http.NewRequest(http.MethodGet, g.cfg.baseURL+"/api/profiles?login="+url.QueryEscape(text), nil)
	case o == opList:
		pages := max(1, (g.cfg.preload+listPage-1)/listPage)
		req, err = http.NewRequest(http.MethodGet, g.cfg.baseURL+"/api/profiles?itemsPerPage="+strconv.Itoa(listPage)+"&page="+strconv.Itoa(1+rng.IntN(pages)), nil)
	default:
		id := g.ids[rng.IntN(len(g.ids))]
		req, err = http.NewRequest(http.MethodGet, g.cfg.baseURL+"/api/profiles/"+strconv.FormatInt(id, 10), nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Token", g.cfg.key)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// warmUp creates n profiles without passwords, with up to cfg.concurrency at once, and returns
// their ids. Any answer but 201 is an error that names the status and shows the body.
func (g *generator) warmUp(ctx context.Context, n int) ([]int64, error) {
	var (
		mu    sync.Mutex
		ids   []int64
		first error
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	workers := min(g.cfg.concurrency, n)
	for w := range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				id, err := g.createOne(ctx, w)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					ids = append(ids, id)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return ids, first
}

// createOne creates one profile (without a password) and returns its id.
func (g *generator) createOne(ctx context.Context, worker int) (int64, error) {
	req, err := g.newRequest(opCreate, worker, false, nil)
	if err != nil {
		return 0, err
	}
	res, err := g.client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST %s answered %s, expected 201 Created: %s", req.URL, res.Status, bytes.TrimSpace(body))
	}
	if g.cfg.target == "kratos" {
		return 0, nil // a UUID; only the gets read ids, and kratos runs creates only
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID == 0 {
		return 0, fmt.Errorf("POST /api/profiles: no id in the 201 body %q", body)
	}
	return created.ID, nil
}

// preloadLogin is the login of the i-th preloaded profile of run.
func preloadLogin(run string, i int) string {
	return "pre-" + run + "-" + strconv.Itoa(i) + "@example.com"
}

// preload loads cfg.preload profiles through the control API, preloadBatch per fixtures document.
func (g *generator) preload(ctx context.Context) error {
	for from := 0; from < g.cfg.preload; from += preloadBatch {
		n := min(preloadBatch, g.cfg.preload-from)
		profiles := make([]map[string]string, n)
		for i := range profiles {
			profiles[i] = map[string]string{"login": preloadLogin(g.run, from+i)}
		}
		doc, err := json.Marshal(map[string]any{"xcart": map[string]any{"profiles": profiles}})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.baseURL+"/_provisiond/v1/fixtures", bytes.NewReader(doc))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+g.cfg.controlKey)
		res, err := g.client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s/_provisiond/v1/fixtures answered %s: %s", g.cfg.baseURL, res.Status, bytes.TrimSpace(body))
		}
	}
	return nil
}

// workerStats is what one worker records; workers share nothing while they run.
type workerStats struct {
	latencies [numOps][]time.Duration // every latency, by kind of request
	status    map[int]int64           // answers that were not 2xx, by status code
	transport int64                   // requests without an HTTP answer
	samples   []string                // a few distinct transport error messages
}

// measure runs the workers until the duration has elapsed, n requests were sent or ctx ends,
// and records their outcome in r.
func (g *generator) measure(ctx context.Context, r *result) {
	var (
		stop atomic.Bool
		next atomic.Int64 // index of the next request, over all workers
		wg   sync.WaitGroup
	)
	stats := make([]workerStats, g.cfg.concurrency)
	start := time.Now()
	if g.cfg.requests == 0 {
		timer := time.AfterFunc(g.cfg.duration, func() { stop.Store(true) })
		defer timer.Stop()
	}
	go func() {
		<-ctx.Done() // Ctrl-C: stop sending, report what was measured
		stop.Store(true)
	}()
	for w := range g.cfg.concurrency {
		st := &stats[w]
		st.status = map[int]int64{}
		// Room for the expected number of requests, so that appends rarely copy during the run.
		for o := range numOps {
			st.latencies[o] = make([]time.Duration, 0, 4096)
		}
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for !stop.Load() {
				i := next.Add(1) - 1
				if g.cfg.requests > 0 && i >= g.cfg.requests {
					return
				}
				g.do(g.opFor(i), w, rng, st)
			}
		})
	}
	wg.Wait()
	r.elapsed, r.status = time.Since(start), map[int]int64{}
	for w := range stats {
		st := &stats[w]
		for o := range numOps {
			r.latencies[o] = append(r.latencies[o], st.latencies[o]...)
		}
		for code, n := range st.status {
			r.status[code] += n
		}
		r.transport += st.transport
		for _, s := range st.samples {
			if len(r.samples) < maxErrorSamples && !slices.Contains(r.samples, s) {
				r.samples = append(r.samples, s)
			}
		}
	}
	for o := range numOps {
		slices.Sort(r.latencies[o])
	}
}

// opFor is the kind of the i-th request of the run.
func (g *generator) opFor(i int64) op {
	switch g.cfg.scenario {
	case "create":
		return opCreate
	case "get":
		return opGet
	case "search":
		return opSearch
	case "list":
		return opList
	}
	if i%5 == 0 { // mixed: 1 create, then 4 gets
		return opCreate
	}
	return opGet
}

// do sends one request (with -bound: makes one insert) and records its outcome in st.
func (g *generator) do(o op, worker int, rng *mrand.Rand, st *workerStats) {
	if g.bound != nil {
		t0 := time.Now()
		if _, err := g.bound.insert(context.Background(), boundLogin(g.run, worker, g.logins.Add(1))); err != nil {
			st.transportError(err)
			return
		}
		st.latencies[opCreate] = append(st.latencies[opCreate], time.Since(t0))
		return
	}
	req, err := g.newRequest(o, worker, g.cfg.password, rng)
	if err != nil {
		st.transportError(err)
		return
	}
	t0 := time.Now()
	res, err := g.client.Do(req)
	if err != nil {
		st.transportError(err)
		return
	}
	// Read the whole body: the latency includes it, and a fully read body lets the
	// connection go back to the pool for the next request.
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		st.transportError(err)
		return
	}
	st.latencies[o] = append(st.latencies[o], time.Since(t0))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		st.status[res.StatusCode]++
	}
}

func (st *workerStats) transportError(err error) {
	st.transport++
	msg := err.Error()
	if len(st.samples) < maxErrorSamples && !slices.Contains(st.samples, msg) {
		st.samples = append(st.samples, msg)
	}
}

// result is the merged outcome of a run.
type result struct {
	elapsed   time.Duration
	latencies [numOps][]time.Duration // sorted
	status    map[int]int64
	transport int64
	samples   []string
	// Connections dialled before the measured run (by the check or the warm-up; the workers
	// reuse them) and during it: with keep-alive working, at most about -c in all.
	dialsBefore, dials int64
}

// answered is the number of requests that got an HTTP answer.
func (r *result) answered() int64 {
	var n int64
	for o := range numOps {
		n += int64(len(r.latencies[o]))
	}
	return n
}

// failed tells whether the run saw a 5xx or a transport error.
func (r *result) failed() bool {
	if r.transport > 0 {
		return true
	}
	for code, n := range r.status {
		if code >= 500 && n > 0 {
			return true
		}
	}
	return false
}

func (r *result) print(w io.Writer) {
	answered := r.answered()
	total := answered + r.transport
	var kinds []string
	for o := range numOps {
		if n := len(r.latencies[o]); n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", o, n))
		}
	}
	fmt.Fprintf(w, "requests:     %d", total)
	if len(kinds) > 0 {
		fmt.Fprintf(w, " (answered: %s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "elapsed:      %s\n", round(r.elapsed))
	fmt.Fprintf(w, "throughput:   %.1f req/s\n", float64(total)/r.elapsed.Seconds())
	fmt.Fprintf(w, "connections:  %d opened during the run, %d before it\n", r.dials, r.dialsBefore)

	codes := make([]int, 0, len(r.status))
	for code := range r.status {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	var errs []string
	for _, code := range codes {
		errs = append(errs, fmt.Sprintf("%d %s: %d", code, http.StatusText(code), r.status[code]))
	}
	if len(errs) == 0 {
		errs = append(errs, "none")
	}
	fmt.Fprintf(w, "non-2xx:      %s\n", strings.Join(errs, ", "))
	fmt.Fprintf(w, "transport:    %d errors\n", r.transport)
	for _, s := range r.samples {
		fmt.Fprintf(w, "              e.g. %s\n", s)
	}

	all := make([]time.Duration, 0, answered)
	for o := range numOps {
		all = append(all, r.latencies[o]...)
	}
	slices.Sort(all)
	fmt.Fprintf(w, "latency:      %s\n", percentiles(all))
	if len(kinds) > 1 {
		for o := range numOps {
			fmt.Fprintf(w, "  %-10s  %s\n", o.String()+":", percentiles(r.latencies[o]))
		}
	}
	if r.failed() {
		fmt.Fprintln(w, "FAILED: 5xx answers or transport errors")
	}
}

// percentiles formats p50, p90, p99 and the maximum of sorted latencies.
func percentiles(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "no answers"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s",
		round(quantile(sorted, 0.50)), round(quantile(sorted, 0.90)),
		round(quantile(sorted, 0.99)), round(sorted[len(sorted)-1]))
}

// quantile is the nearest-rank q-quantile of sorted, which is not empty: the smallest
// latency that at least q of all requests did not exceed.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// round shortens a duration for display: microseconds below 10 ms, else 0.1 ms.
func round(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}
