// Package module is the shape every vendor API takes towards the rest of the program: one value
// per API (internal/<api>.Module) says its name, its migrations, how it is built from the one
// shared dependency set, which credentials it takes and how it reads and applies its section of
// a fixtures file. internal/app lists the modules once; everything that lists the APIs (the
// wiring, the migrations, the fixtures loader, the command line, credential bootstrap) derives
// from that list.
package module

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
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
	return Mount(m.Name, api)
}

// Mount completes api with the name and the spec of the API name: the spec as written in
// openapi/, not oapi-codegen's embedded copy (gen.GetSwagger), whose operationIds are rewritten
// in Go's capitalization.
func Mount(name string, api httpserver.API) (*httpserver.API, error) {
	yaml, spec, err := openapi.Load(name)
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
	check      func(any) []error
	prepare    func(context.Context, any) (Write, error)
}

// Write is an API's part of applying a fixtures file: it runs under the start-up lock
// (store.WithStartupLock) in the file's one transaction tx. With overwrite, rows with the same
// id take the file's values; without, rows that exist are left alone.
type Write func(ctx context.Context, tx *gorm.DB, overwrite bool) error

// Section is the Fixtures of an API whose section decodes (YAML, unknown keys refused) into S.
// check lists the problems of a decoded section, each message starting with the path within the
// section ("roles[0]: name is required"); the loader prefixes "fixtures: <api>.". prepare does
// the slow work that needs no lock (hashing passwords) and returns the write.
func Section[S any](check func(*S) []error, prepare func(context.Context, *S) (Write, error)) *Fixtures {
	return &Fixtures{
		newSection: func() any { return new(S) },
		check:      func(s any) []error { return check(s.(*S)) },
		prepare:    func(ctx context.Context, s any) (Write, error) { return prepare(ctx, s.(*S)) },
	}
}

// New returns a pointer to an empty section, for the decoder.
func (f *Fixtures) New() any { return f.newSection() }

// Check lists the problems of section, a pointer New returned and the decoder filled.
func (f *Fixtures) Check(section any) []error { return f.check(section) }

// Prepare does the work of applying section that needs no lock and returns the rest.
func (f *Fixtures) Prepare(ctx context.Context, section any) (Write, error) {
	return f.prepare(ctx, section)
}
