package control_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/internal/apitest"
)

// seedHash is a bcrypt hash at the lowest cost, for documents whose passwords nobody checks.
func seedHash(b *testing.B) string {
	h, err := bcrypt.GenerateFromPassword([]byte("bench-password"), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	return string(h)
}

// seed applies rows users per API through the control API, one document per API (100,000 users
// of all five would be over the control API's body limit).
func seed(b *testing.B, c *ctl, prefix string, rows int, hash string) {
	for api, section := range apitest.SeedDocument(prefix, rows, hash) {
		doc, err := json.Marshal(map[string]any{api: section})
		if err != nil {
			b.Fatal(err)
		}
		res := c.Call(b, "POST", "/_provisiond/v1/fixtures", doc, "Authorization", "Bearer "+c.Keys["control"])
		if res.Status != http.StatusOK {
			b.Fatalf("seed %d users of %s: %d %s", rows, api, res.Status, res.Body)
		}
	}
}

// BenchmarkReset is what POST /_provisiond/v1/reset costs with rows users in each of the five
// APIs (5 × rows users, and the OCC store's memberships): the time of the reset alone; seeding
// between resets is not timed. 100,000 rows per API takes minutes per round to seed: run it with
// -benchtime=1x.
//
//	PROVISIOND_TEST_DATABASE_URL=… go test -run '^$' -bench Reset -benchtime 3x ./internal/control/
func BenchmarkReset(b *testing.B) {
	hash := seedHash(b)
	for _, dialect := range apitest.Dialects() {
		for _, rows := range []int{10, 1000, 100000} {
			b.Run(fmt.Sprintf("%s/rows=%d", dialect, rows), func(b *testing.B) {
				c := &ctl{apitest.Start(b, dialect, apitest.Options{})}
				for b.Loop() {
					b.StopTimer()
					seed(b, c, "bench", rows, hash)
					b.StartTimer()
					if res := c.Call(b, "POST", "/_provisiond/v1/reset", nil, "Authorization", "Bearer "+c.Keys["control"]); res.Status != http.StatusOK {
						b.Fatalf("reset: %d %s", res.Status, res.Body)
					}
				}
			})
		}
	}
}

// BenchmarkSeed10k compares loading 10,000 X-Cart profiles with one fixtures document
// (password_hash) with creating the same profiles one by one through X-Cart's API (without a
// password, so that hashing dominates neither): users/s of each, side by side.
//
//	PROVISIOND_TEST_DATABASE_URL=… go test -run '^$' -bench Seed10k -benchtime 3x ./internal/control/
func BenchmarkSeed10k(b *testing.B) {
	const n = 10000
	hash := seedHash(b)
	for _, dialect := range apitest.Dialects() {
		b.Run(dialect+"/fixtures", func(b *testing.B) {
			c := &ctl{apitest.Start(b, dialect, apitest.Options{})}
			profiles := make([]any, n)
			for i := range profiles {
				profiles[i] = map[string]any{"login": fmt.Sprintf("bulk-%d@example.com", i), "password_hash": hash}
			}
			doc, err := json.Marshal(map[string]any{"xcart": map[string]any{"profiles": profiles}})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				c.control(b, "POST", "/reset?api=xcart", nil)
				b.StartTimer()
				if res := c.Call(b, "POST", "/_provisiond/v1/fixtures", doc, "Authorization", "Bearer "+c.Keys["control"]); res.Status != http.StatusOK {
					b.Fatalf("seed: %d %s", res.Status, res.Body)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "users/s")
		})
		b.Run(dialect+"/one-by-one", func(b *testing.B) {
			c := &ctl{apitest.Start(b, dialect, apitest.Options{})}
			for b.Loop() {
				b.StopTimer()
				c.control(b, "POST", "/reset?api=xcart", nil)
				b.StartTimer()
				for i := range n {
					res := c.Call(b, "POST", "/api/profiles", map[string]any{"login": fmt.Sprintf("one-%d@example.com", i)}, "X-Auth-Token", c.Keys["xcart"])
					if res.Status != http.StatusCreated {
						b.Fatalf("create %d: %d %s", i, res.Status, res.Body)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
