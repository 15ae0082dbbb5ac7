package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/store"
)

// startupFixtures is a fixtures file that writes to every kind of start-up data: reference data
// of each API (over the built-in rows, with overwrite) and an organization with an administrator.
const startupFixtures = `
xcart:
  memberships:
    - {id: 1, name: Wholesale}
    - {id: 3, name: Gold}
  roles:
    - {id: 4, name: Support}
occadmin:
  roles:
    - {id: supportRole, name: Support, privileges: [Support]}
occstore:
  organizations:
    - id: or-startup
      name: Startup
      admins:
        - {email: ada@startup.example, firstName: Ada, lastName: Admin, password: ada-startup-password}
platformos:
  form_configurations:
    - {name: startup_create, kind: create, fields: [email, password], required: [email]}
activeplatform:
  custom_attributes:
    - {key: shoe_size, name: Shoe size, type: integer}
`

// TestInstancesStartingTogether starts several instances at once on one fresh database, each
// with its own connection pool as separate processes have, through what app.Serve does before
// it serves: migrations, built-in reference data, the fixtures file, the bootstrap credentials
// and the JWT signing key. Every start must succeed, the credentials must be created (and so
// printed) once in all, and every instance must sign with the same key.
func TestInstancesStartingTogether(t *testing.T) {
	const instances, rounds = 4, 5
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(path, []byte(startupFixtures), 0o600); err != nil {
		t.Fatal(err)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for round := range rounds {
			t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
				ctx := context.Background()
				cfg := configFor(apitest.DatabaseURL(t, dialect))
				cfg.FixturesFile = path
				type started struct {
					created map[string]string
					key     []byte
					err     error
				}
				results := apitest.Concurrently(instances, func(int) (s started) {
					db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 2})
					if err != nil {
						return started{err: err}
					}
					defer store.Close(db)
					if err := app.Prepare(ctx, cfg, db, discard()); err != nil {
						return started{err: fmt.Errorf("prepare: %w", err)}
					}
					if s.created, err = app.BootstrapCredentials(ctx, cfg, db); err != nil {
						return started{err: fmt.Errorf("bootstrap credentials: %w", err)}
					}
					if s.key, err = credential.SigningKey(ctx, db, ""); err != nil {
						return started{err: fmt.Errorf("signing key: %w", err)}
					}
					return s
				})
				createdBy := map[string][]int{}
				var key []byte
				for i, r := range results {
					if r.err != nil {
						t.Errorf("instance %d of %d starting together: %v, want nil", i, instances, r.err)
						continue
					}
					for api := range r.created {
						createdBy[api] = append(createdBy[api], i)
					}
					if key == nil {
						key = r.key
					} else if !bytes.Equal(r.key, key) {
						t.Errorf("instance %d signs with another JWT key than the instances before it, want one key for all", i)
					}
				}
				db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close(db)
				creds := credential.NewStore(db)
				for _, api := range app.Modules.Keyed() {
					n, err := creds.Count(ctx, api)
					if err != nil {
						t.Fatal(err)
					}
					if len(createdBy[api]) != 1 || n != 1 {
						t.Errorf("%s: credentials created by instances %v, %d stored; want one instance to create (and print) the only one", api, createdBy[api], n)
					}
				}
			})
		}
	})
}
