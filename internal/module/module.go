// Package module is the shape every API (the five vendor APIs and the control API) takes towards the rest of the program: one value
// per API (internal/<api>.Module) says its name, its migrations, how it is built from the one
// shared dependency set, which credentials it takes and how it reads and applies its section of
// a fixtures file. internal/app lists the modules once; everything that lists the APIs (the
// wiring, the migrations, the fixtures loader, the command line, credential bootstrap) derives
// from that list.
package module

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/openapi"
)

// API is one vendor API as the program registers it.
type API struct {
	// Name is the API's short name: its spec is openapi/<Name>.yaml, its generated code
	// gen/<Name>, its tables carry its prefix, its fixtures section is keyed by it.
	Name string
	// Migrations are the API's schema history, in order.
	Migrations func() []store.Migration
	// Credentials says which API credentials it takes.
	Credentials Credentials
	// New builds the API's routes, authentication and renderer from the shared dependencies;
	// Build adds the name and the spec.
	New func(Deps) (httpserver.API, error)
	// Fixtures reads and applies the API's section of a fixtures file; nil when it has none.
	Fixtures *Fixtures
	// Defaults is the API's built-in reference data: its section of a fixtures file, in YAML
	// (the package embeds it from its default.yaml), applied at every start without overwriting
	// what an operator changed; nil when it has none.
	Defaults []byte
	// Users reads back the users (profiles, members) the API stored, in one neutral shape, for
	// the control API's inspection; nil when it stores none.
	Users *Users
	// Spec, when set, returns the text of the API's spec for the configuration: openapi/<Name>.yaml
	// adjusted to it (ActivePlatform's password policy), which the server validates requests by
	// and serves, and "provisiond openapi" prints. Nil: the text as written.
	Spec func(config.Config) ([]byte, error)
	// Off reports whether the configuration switches the API off: it is then not mounted, and
	// its paths answer 404. Nil: always on.
	Off func(config.Config) bool
}

// Tables is the prefix of every table of the API's data ("<name>_"): a reset empties the
// tables whose names start with it.
func (m API) Tables() string { return m.Name + "_" }

// Users reads the users of one API. Both run in db, which may be a transaction.
type Users struct {
	// List returns the users ordered by id, from offset, at most limit, and how many there are.
	List func(ctx context.Context, db *gorm.DB, offset, limit int) ([]User, int64, error)
	// Get returns the user whose id (as the vendor shows it) is id, or ErrNoUser, also when id
	// cannot be one of the API's ids.
	Get func(ctx context.Context, db *gorm.DB, id string) (User, error)
}

// ErrNoUser is Users.Get's answer for an id that names no user.
var ErrNoUser = errors.New("no such user")

// User is a stored user of any API, in the control API's neutral shape. It never holds a password
// or a password's hash.
type User struct {
	// ID is the id as the vendor API shows it (X-Cart's profile_id, OCC's repositoryId, …).
	ID string
	// Email and Login: the API's email and its login name, when it has them (X-Cart's login is
	// its email; "" when the API has none).
	Email, Login string
	// FirstName and LastName, "" when the API keeps no names.
	FirstName, LastName string
	// Status is the API's own status word ("enabled", "active", …), "" when it has none.
	Status    string
	CreatedAt time.Time
	UpdatedAt *time.Time
	// Extra are the API's own fields, by the names its vendor API uses for them.
	Extra map[string]any
}

// Credentials says which credentials of the credential store (internal/credential) an API
// takes.
type Credentials struct {
	// Keys: the API authenticates requests with stored credentials (API keys, tokens,
	// application keys). Without, it has its own login (the OCC store's members).
	Keys bool
	// ReadOnly, when set, says what a read-only credential may do; when empty, the API has no
	// read-only credentials.
	ReadOnly string
}

// Deps is the one dependency set every API is built from.
type Deps struct {
	DB     *gorm.DB
	Hasher *password.Hasher
	// SigningKey signs the tokens the APIs issue (Signer).
	SigningKey []byte
	// Now is the clock, never nil: the APIs do not default it.
	Now    func() time.Time
	Config config.Config
	// Credentials checks the API credentials of the APIs that take them.
	Credentials *credential.Store
	// Modules are all the registered APIs, this one among them (the control API works on the
	// others' data).
	Modules List
	// Journal is the request journal of the APIs that hold data (the vendor APIs), which the
	// HTTP server fills and the control API reads; it keeps nothing when configured off.
	Journal *journal.Journal
	// Faults are the fault rules the HTTP server applies to the vendor APIs' requests, which the
	// control API manages.
	Faults *fault.Rules
}

// Signer is a token signer over the shared key whose tokens live for ttl.
func (d Deps) Signer(ttl time.Duration) *credential.Signer {
	return credential.NewSigner(d.SigningKey, ttl, d.Now)
}

// Build builds the API for the HTTP server.
func (m API) Build(d Deps) (*httpserver.API, error) {
	api, err := m.New(d)
	if err != nil {
		return nil, err
	}
	yaml, err := m.SpecText(d.Config)
	if err != nil {
		return nil, err
	}
	return mount(m.Name, yaml, api)
}

// SpecText is the text of the API's spec for cfg (API.Spec).
func (m API) SpecText(cfg config.Config) ([]byte, error) {
	if m.Spec == nil {
		return openapi.FS.ReadFile(m.Name + ".yaml")
	}
	return m.Spec(cfg)
}

// Mount completes api with the name and the spec of the API name: the spec as written in
// openapi/, not oapi-codegen's embedded copy (gen.GetSwagger), whose operationIds are rewritten
// in Go's capitalization.
func Mount(name string, api httpserver.API) (*httpserver.API, error) {
	yaml, err := openapi.FS.ReadFile(name + ".yaml")
	if err != nil {
		return nil, err
	}
	return mount(name, yaml, api)
}

func mount(name string, yaml []byte, api httpserver.API) (*httpserver.API, error) {
	spec, err := openapi.Parse(name, yaml)
	if err != nil {
		return nil, err
	}
	api.Name, api.Spec, api.SpecYAML = name, spec, yaml
	return &api, nil
}

// List is the program's APIs, in the order they are migrated, mounted and loaded.
type List []API

// Names are the APIs' names.
func (l List) Names() []string {
	out := make([]string, len(l))
	for i, m := range l {
		out[i] = m.Name
	}
	return out
}

// On are the APIs cfg does not switch off (API.Off).
func (l List) On(cfg config.Config) List {
	var out List
	for _, m := range l {
		if m.Off == nil || !m.Off(cfg) {
			out = append(out, m)
		}
	}
	return out
}

// Data are the names of the APIs that keep data of their own (they have migrations): those a
// reset empties.
func (l List) Data() []string {
	var out []string
	for _, m := range l {
		if len(m.Migrations()) > 0 {
			out = append(out, m.Name)
		}
	}
	return out
}

// Named returns the API called name.
func (l List) Named(name string) (API, bool) {
	for _, m := range l {
		if m.Name == name {
			return m, true
		}
	}
	return API{}, false
}

// Keyed are the names of the APIs that take stored credentials: those a credential may be
// scoped to.
func (l List) Keyed() []string {
	var out []string
	for _, m := range l {
		if m.Credentials.Keys {
			out = append(out, m.Name)
		}
	}
	return out
}

// ReadOnly are the names of the APIs whose credentials may be read-only.
func (l List) ReadOnly() []string {
	var out []string
	for _, m := range l {
		if m.Credentials.Keys && m.Credentials.ReadOnly != "" {
			out = append(out, m.Name)
		}
	}
	return out
}

// Migrations are the APIs' schema histories after base, in order.
func (l List) Migrations(base ...store.Migration) []store.Migration {
	all := [][]store.Migration{base}
	for _, m := range l {
		all = append(all, m.Migrations())
	}
	return slices.Concat(all...)
}

// Fixtures is how an API reads and applies its section of a fixtures file (the section under
// the API's name). Build one with Section.
type Fixtures struct {
	newSection func() any
	check      func(Env, any) []error
	prepare    func(context.Context, Env, any) (Write, error)
}

// Env is what reading and applying fixtures may use of the server: its configuration (an API's
// rules that depend on it, such as ActivePlatform's password policy), its password hasher (plain
// passwords are hashed with the server's parameters and concurrency) and its clock (the
// timestamps of what a file creates).
type Env struct {
	Config config.Config
	Hasher *password.Hasher
	Now    func() time.Time
}

// Write is an API's part of applying a fixtures file: it runs under the start-up lock
// (store.WithStartupLock) in the file's one transaction tx. With overwrite, rows with the same
// id (or unique key) take the file's values; without, rows that exist are left alone. It adds
// each row it creates or updates to applied.
type Write func(ctx context.Context, tx *gorm.DB, overwrite bool, applied Applied) error

// Applied counts what applying fixtures created and updated, by kind of row in the API's own
// words ("profiles", "roles").
type Applied map[string]*Count

// Count is how many rows of one kind were created and updated.
type Count struct{ Created, Updated int }

// Add counts one row of kind: created, or else updated.
func (a Applied) Add(kind string, created bool) {
	c := a[kind]
	if c == nil {
		c = &Count{}
		a[kind] = c
	}
	if created {
		c.Created++
	} else {
		c.Updated++
	}
}

// Section is the Fixtures of an API whose section decodes (YAML, unknown keys refused) into S.
// check lists the problems of a decoded section, each message starting with the path within the
// section ("roles[0]: name is required"); the loader prefixes "fixtures: <api>.". prepare does
// the slow work that needs no lock (hashing passwords) and returns the write.
func Section[S any](check func(Env, *S) []error, prepare func(context.Context, Env, *S) (Write, error)) *Fixtures {
	return &Fixtures{
		newSection: func() any { return new(S) },
		check:      func(env Env, s any) []error { return check(env, s.(*S)) },
		prepare:    func(ctx context.Context, env Env, s any) (Write, error) { return prepare(ctx, env, s.(*S)) },
	}
}

// New returns a pointer to an empty section, for the decoder.
func (f *Fixtures) New() any { return f.newSection() }

// Check lists the problems of section, a pointer New returned and the decoder filled.
func (f *Fixtures) Check(env Env, section any) []error { return f.check(env, section) }

// Prepare does the work of applying section that needs no lock and returns the rest.
func (f *Fixtures) Prepare(ctx context.Context, env Env, section any) (Write, error) {
	return f.prepare(ctx, env, section)
}
