package apitest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvGaps names the folder where the tests leave one file per gap (Gap), for `make test` to print
// a notice line for each after the run; EnvStrict, set to 1 (`make test-all`, CI), makes a gap fail
// the test that meets it.
const (
	EnvGaps   = "PROVISIOND_TEST_GAPS"
	EnvStrict = "PROVISIOND_TEST_STRICT"
)

// PostgresGap is the notice of the tests that did not run on PostgreSQL.
const PostgresGap = "the PostgreSQL variants of the tests did not run: set " + EnvDatabaseURL + "=postgres://… (see docs/development.md, Tests)"

// Gap records that a part of the suite cannot run on this machine, saying why and how to make it
// run: in strict mode the test fails; otherwise the notice is left for `make test` to print and
// the test goes on (Skip afterwards if it cannot).
func Gap(t testing.TB, notice string) {
	t.Helper()
	if os.Getenv(EnvStrict) == "1" {
		t.Fatalf("%s (%s=1 allows no gap)", notice, EnvStrict)
	}
	dir := os.Getenv(EnvGaps)
	if _, seen := recorded.LoadOrStore(notice, true); seen || dir == "" {
		return // written once per test binary: ForEachDialect meets the same gap in every test
	}
	sum := sha256.Sum256([]byte(notice))
	// One file per notice: the packages' test binaries meet the same gaps.
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:8])), []byte(notice+"\n"), 0o644); err != nil {
		t.Logf("recording the gap: %v", err)
	}
}

// recorded are the notices this test binary has written (Gap).
var recorded sync.Map

// SkipGap is Gap, then t.Skip.
func SkipGap(t testing.TB, notice string) {
	t.Helper()
	Gap(t, notice)
	t.Skip(notice)
}

// RequirePostgres skips the test, as a gap, unless the tests run on PostgreSQL too.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvDatabaseURL) == "" {
		SkipGap(t, PostgresGap)
	}
}
