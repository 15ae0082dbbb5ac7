// Package cli is provisiond's command line: serve (the default), migrate, credentials (create,
// list, revoke), fixtures load, reset, openapi, healthcheck and version. It parses flags and environment into a config.Config and calls
// internal/app.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/internal/version"
	"github.com/provisiond/provisiond/openapi"
)

const usage = `provisiond serves vendors' user-provisioning APIs exactly as their documentation describes
them, with persistent state in SQLite or PostgreSQL.

APIs served:
%s
Usage:
  provisiond [serve] [flags]                      run the server (the default command)
  provisiond migrate [flags]                      apply pending database migrations
  provisiond credentials create --api NAME [--read-only] [flags]
                                                  create an API credential; prints only its secret
  provisiond credentials list [flags]             list the credentials (never a secret)
  provisiond credentials revoke [flags] ID...     delete credentials by the ids the list shows
  provisiond fixtures load [flags] FILE           load reference data and credentials from YAML
  provisiond reset [--api NAME]... [--drop-credentials] [flags]
                                                  empty the APIs' data and apply the fixtures again
  provisiond openapi [--format yaml|json] NAME    print an API's OpenAPI document
  provisiond healthcheck [--url URL]              exit 0 when the server at PROVISIOND_ADDR is ready
  provisiond version                              print the version, commit and build date

Every flag also reads an environment variable (named in each command's --help); a flag wins.
Run "provisiond COMMAND --help" for a command's flags.
`

// printUsage prints the usage with the APIs of app.Modules, each with its spec's title.
func printUsage(w io.Writer) {
	var apis strings.Builder
	for _, name := range app.Modules.Names() {
		title := "(no spec)"
		if _, doc, err := openapi.Load(name); err == nil {
			title = doc.Info.Title
		}
		fmt.Fprintf(&apis, "  %-16s %s\n", name, title)
	}
	fmt.Fprintf(w, usage, apis.String())
}

// Run runs the command in args. getenv reads the environment; stdout receives only a command's
// result (a secret, a document), stderr the logs.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && isHelp(args[0]) {
		printUsage(stdout)
		return flag.ErrHelp
	} else if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		cmd = "version"
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "credentials":
		return credentials(ctx, args, getenv, stdout, stderr)
	case "fixtures":
		if len(args) == 0 || args[0] != "load" {
			return errors.New(`fixtures: the only subcommand is "load"`)
		}
		return loadFixtures(ctx, args[1:], getenv, stdout, stderr)
	case "reset":
		return reset(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return printSpec(args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, version.Get())
		return err
	case "help":
		printUsage(stdout)
		return nil
	}
	return fmt.Errorf("unknown command %q (see provisiond --help)", cmd)
}

// parseNoArgs parses a command that takes flags only: a stray word is an error, not ignored.
func parseNoArgs(set *config.Set, cfg *config.Config, args []string, getenv func(string) string) error {
	if err := set.Parse(cfg, args, getenv); err != nil {
		return err
	}
	if rest := set.Args(); len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go after the command: provisiond COMMAND [flags])", rest)
	}
	return nil
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("serve", "Usage: provisiond [serve] [flags]\n\nRuns the server. On the first start with an empty database it creates one read/write\ncredential per API and prints it once on stdout.", stderr)
	set := config.NewSet(fs)
	set.Serve(&cfg)
	if err := parseNoArgs(set, &cfg, args, getenv); err != nil {
		return err
	}
	logger := app.NewLogger(cfg, stderr)
	ln, err := app.Listen(cfg)
	if err != nil {
		return err
	}
	return app.Serve(ctx, cfg, ln, stdout, logger, app.Deps{})
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("migrate", "Usage: provisiond migrate [flags]\n\nApplies pending migrations and prints the id of each one applied.", stderr)
	set := config.NewSet(fs)
	set.Database(&cfg)
	if err := parseNoArgs(set, &cfg, args, getenv); err != nil {
		return err
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db)
	applied, err := store.Migrate(ctx, db, app.Migrations())
	for _, id := range applied {
		fmt.Fprintln(stdout, id)
	}
	return err
}

// openPrepared opens the database with migrations and default reference data applied.
func openPrepared(ctx context.Context, cfg config.Config, stderr io.Writer, run func(*credential.Store) error) error {
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db)
	if err := app.Prepare(ctx, cfg, db, app.NewLogger(cfg, stderr)); err != nil {
		return err
	}
	return run(credential.NewStore(db))
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

const credentialsUsage = `Usage:
  provisiond credentials create --api NAME [--read-only] [flags]
                                      create a credential for one API; prints only its secret
  provisiond credentials list [flags] list the credentials: id, API, read-only, created, last used
                                      (to within a minute); never a secret, which is not stored
  provisiond credentials revoke [flags] ID...
                                      delete the credentials with these ids; a running server
                                      refuses them within PROVISIOND_CREDENTIAL_CACHE_TTL

Run "provisiond credentials COMMAND --help" for a command's flags.
`

// credentials runs a credentials subcommand.
func credentials(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, credentialsUsage)
		if len(args) == 0 {
			return errors.New("credentials: a subcommand is needed: create, list or revoke")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "create":
		return createCredential(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return listCredentials(ctx, args[1:], getenv, stdout, stderr)
	case "revoke":
		return revokeCredentials(ctx, args[1:], getenv, stdout, stderr)
	}
	return fmt.Errorf("credentials: unknown subcommand %q: create, list or revoke", args[0])
}

// listCredentials prints a table of the credentials.
func listCredentials(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("credentials list", "Usage: provisiond credentials list [flags]\n\nLists the credentials: id, API, read-only, created, and last used (to within a minute;\n\"never\" when no request presented it yet). Secrets are stored only as hashes: none is shown.", stderr)
	set := config.NewSet(fs)
	set.Database(&cfg)
	if err := parseNoArgs(set, &cfg, args, getenv); err != nil {
		return err
	}
	return openPrepared(ctx, cfg, stderr, func(creds *credential.Store) error {
		list, err := creds.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tAPI\tREAD-ONLY\tCREATED\tLAST USED")
		for _, c := range list {
			used := "never"
			if c.LastUsedAt != nil {
				used = c.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%t\t%s\t%s\n", c.ID, c.API, c.ReadOnly, c.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return w.Flush()
	})
}

// revokeCredentials deletes the credentials whose ids are given.
func revokeCredentials(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("credentials revoke", "Usage: provisiond credentials revoke [flags] ID...\n\nDeletes the credentials with these ids (as credentials list shows them). A running server\nrefuses a revoked credential within PROVISIOND_CREDENTIAL_CACHE_TTL (5s by default).", stderr)
	set := config.NewSet(fs)
	set.Database(&cfg)
	if err := set.Parse(&cfg, args, getenv); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("credentials revoke takes the ids of the credentials to revoke")
	}
	ids := make([]uint64, 0, fs.NArg())
	for _, a := range fs.Args() {
		id, err := strconv.ParseUint(a, 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("credentials revoke: %q is not a credential id (a positive whole number, as credentials list shows)", a)
		}
		ids = append(ids, id)
	}
	return openPrepared(ctx, cfg, stderr, func(creds *credential.Store) error {
		missing, err := creds.Revoke(ctx, ids...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(missing, id) {
				fmt.Fprintf(stdout, "revoked %d\n", id)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no credential with id %v", missing)
		}
		return nil
	})
}

func createCredential(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	keyed, readOnlyAPIs := app.Modules.Keyed(), app.Modules.ReadOnly()
	var readOnlyMeans []string
	for _, m := range app.Modules {
		if slices.Contains(readOnlyAPIs, m.Name) {
			readOnlyMeans = append(readOnlyMeans, m.Name+": "+m.Credentials.ReadOnly)
		}
	}
	fs := newFlagSet("credentials create", "Usage: provisiond credentials create --api NAME [--read-only] [flags]\n\nCreates a credential for one API and prints its secret, and nothing else, on stdout.\nThe secret is stored only as a hash: it cannot be shown again.\nAPIs: "+strings.Join(keyed, ", "), stderr)
	api := fs.String("api", "", "the API the credential is for (required)")
	readOnly := fs.Bool("read-only", false, "a read-only credential ("+strings.Join(readOnlyMeans, "; ")+"); for "+strings.Join(readOnlyAPIs, " and ")+" only")
	set := config.NewSet(fs)
	set.Database(&cfg)
	if err := parseNoArgs(set, &cfg, args, getenv); err != nil {
		return err
	}
	if !slices.Contains(keyed, *api) {
		return fmt.Errorf("--api must be one of %s", strings.Join(keyed, ", "))
	}
	if *readOnly && !slices.Contains(readOnlyAPIs, *api) {
		return fmt.Errorf("--read-only: %s has no read-only credentials (only %s)", *api, strings.Join(readOnlyAPIs, ", "))
	}
	return openPrepared(ctx, cfg, stderr, func(creds *credential.Store) error {
		secret, err := creds.Create(ctx, *api, *readOnly)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, secret)
		return err
	})
}

// reset does what the control API's POST /_provisiond/v1/reset does, against the database.
func reset(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	data := app.Modules.Data()
	fs := newFlagSet("reset", "Usage: provisiond reset [--api NAME]... [--drop-credentials] [flags]\n\nReturns the database to the baseline, as POST /_provisiond/v1/reset does: removes all data of\nthe named APIs (every API without --api), restarts their ids, and applies the built-in reference\ndata and the fixtures file (PROVISIOND_FIXTURES) again, in one transaction. Credentials are kept\nunless --drop-credentials. APIs: "+strings.Join(data, ", "), stderr)
	var apis []string
	fs.Func("api", "an API whose data to reset (repeat for several; default every API)", func(v string) error {
		if !slices.Contains(data, v) {
			return fmt.Errorf("must be one of %s", strings.Join(data, ", "))
		}
		apis = append(apis, v)
		return nil
	})
	drop := fs.Bool("drop-credentials", false, "also delete the credentials of those APIs")
	set := config.NewSet(fs)
	set.Database(&cfg)
	set.Fixtures(&cfg)
	if err := parseNoArgs(set, &cfg, args, getenv); err != nil {
		return err
	}
	if len(apis) == 0 {
		apis = data
	}
	prepared := cfg
	prepared.FixturesFile = "" // the reset applies it
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db)
	if err := app.Prepare(ctx, prepared, db, app.NewLogger(cfg, stderr)); err != nil {
		return err
	}
	if err := app.FixturesFor(cfg).Reset(ctx, db, fixtures.Reset{APIs: apis, DropCredentials: *drop, File: cfg.FixturesFile}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "reset %s\n", strings.Join(apis, ", "))
	return err
}

func loadFixtures(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("fixtures load", "Usage: provisiond fixtures load [flags] FILE\n\nLoads reference data and credentials from a YAML file (format in docs/fixtures.md).\nRows with an id that exists take the file's values.", stderr)
	set := config.NewSet(fs)
	set.Database(&cfg)
	if err := set.Parse(&cfg, args, getenv); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("fixtures load takes one FILE")
	}
	cfg.FixturesFile = fs.Arg(0)
	return openPrepared(ctx, cfg, stderr, func(*credential.Store) error {
		_, err := fmt.Fprintf(stdout, "loaded %s\n", cfg.FixturesFile)
		return err
	})
}

// printSpec prints an API's spec as the server serves it: adjusted to the configuration the
// environment gives (module.API.Spec: PROVISIOND_PASSWORD_POLICY for ActivePlatform's).
func printSpec(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	names := openapi.Names()
	fs := newFlagSet("openapi", "Usage: provisiond openapi [--format yaml|json] NAME\n\nPrints an API's OpenAPI document. APIs: "+strings.Join(names, ", "), stderr)
	format := fs.String("format", "yaml", "yaml or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(names, fs.Arg(0)) {
		return fmt.Errorf("openapi takes one API name: %s", strings.Join(names, ", "))
	}
	cfg := config.Default()
	if v := getenv("PROVISIOND_PASSWORD_POLICY"); v != "" {
		cfg.PasswordPolicy = v
	}
	m, ok := app.Modules.Named(fs.Arg(0))
	if !ok {
		m = module.API{Name: fs.Arg(0)}
	}
	doc, err := m.SpecText(cfg)
	if err != nil {
		return err
	}
	switch *format {
	case "yaml":
	case "json":
		if doc, err = openapi.JSON(doc); err != nil {
			return err
		}
	default:
		return errors.New("--format must be yaml or json")
	}
	_, err = stdout.Write(doc)
	return err
}

// healthcheck probes /readyz, for container health checks in images without a shell or curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg := config.Default()
	if v := getenv("PROVISIOND_ADDR"); v != "" {
		cfg.Addr = v
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("PROVISIOND_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	fs := newFlagSet("healthcheck", "Usage: provisiond healthcheck [--url URL]\n\nExits 0 when URL answers 200, 1 otherwise. The default URL is /readyz on PROVISIOND_ADDR.", stderr)
	url := fs.String("url", "http://"+net.JoinHostPort(host, port)+"/readyz", "the readiness URL to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, res.Status)
	}
	return nil
}
