package password

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/internal/apperr"
)

// cheap are parameters small enough for tests that hash many times.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := New(OWASP, 2)
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil {
		t.Errorf("Verify(right password) = %v, want nil", err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
		if err := h.Verify(ctx, wrong, encoded); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want ErrMismatch", wrong, err)
		}
	}
}

func TestHashFormat(t *testing.T) {
	h := New(OWASP, 1)
	encoded, err := h.Hash(context.Background(), "pässwörd")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	// OWASP: 19 MiB, two passes, one lane; 16-byte salt and 32-byte key in unpadded base64.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)
	m := re.FindStringSubmatch(encoded)
	if m == nil {
		t.Fatalf("Hash = %q, want $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", encoded)
	}
	for i, want := range []int{OWASP.SaltLen, int(OWASP.KeyLen)} {
		b, err := base64.RawStdEncoding.DecodeString(m[i+1])
		if err != nil {
			t.Fatalf("part %q: %v", m[i+1], err)
		}
		if len(b) != want {
			t.Errorf("part %q decodes to %d bytes, want %d", m[i+1], len(b), want)
		}
	}
}

func TestHashSalted(t *testing.T) {
	ctx := context.Background()
	h := New(cheap, 1)
	a, err := h.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of one password are equal: %q", a)
	}
	saltOf := func(s string) string { return strings.Split(s, "$")[4] }
	if saltOf(a) == saltOf(b) {
		t.Errorf("two hashes share the salt %q", saltOf(a))
	}
	for _, enc := range []string{a, b} {
		if err := h.Verify(ctx, "same password", enc); err != nil {
			t.Errorf("Verify(%q) = %v", enc, err)
		}
	}
}

func TestVerifyOtherParameters(t *testing.T) {
	ctx := context.Background()
	other := Params{Memory: 256, Time: 3, Threads: 2, SaltLen: 24, KeyLen: 20}
	encoded, err := New(other, 1).Hash(ctx, "secret password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=256,t=3,p=2$") {
		t.Fatalf("Hash = %q, want parameters m=256,t=3,p=2", encoded)
	}
	h := New(OWASP, 1) // a hasher configured otherwise still verifies it
	if err := h.Verify(ctx, "secret password", encoded); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	if err := h.Verify(ctx, "other password", encoded); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify(wrong) = %v, want ErrMismatch", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	ctx := context.Background()
	valid, err := New(cheap, 1).Hash(ctx, "password")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, "$")
	salt, key := parts[4], parts[5]
	join := func(p ...string) string { return strings.Join(p, "$") }
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"plain text", "password"},
		{"dollar only", "$"},
		{"too few parts", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt)},
		{"too many parts", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, key, "x")},
		{"text before", "x" + valid},
		{"argon2i", join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"argon2d", join("", "argon2d", "v=19", "m=64,t=1,p=1", salt, key)},
		{"bcrypt with an unknown version", "$3a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"old version", join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"version missing", join("", "argon2id", "", "m=64,t=1,p=1", salt, key)},
		{"version not a number", join("", "argon2id", "v=x", "m=64,t=1,p=1", salt, key)},
		{"parameters missing", join("", "argon2id", "v=19", "", salt, key)},
		{"parameters reordered", join("", "argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"parameter not a number", join("", "argon2id", "v=19", "m=64,t=x,p=1", salt, key)},
		{"lanes overflow", join("", "argon2id", "v=19", "m=64,t=1,p=256", salt, key)},
		{"memory negative", join("", "argon2id", "v=19", "m=-64,t=1,p=1", salt, key)},
		{"salt not base64", join("", "argon2id", "v=19", "m=64,t=1,p=1", "!!!!", key)},
		{"salt padded", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key)},
		{"key not base64", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, "#"+key)},
		// These once made Verify panic inside argon2 or accept a malformed hash.
		{"no passes", join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"no lanes", join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"empty key", join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, "")},
		{"empty salt", join("", "argon2id", "v=19", "m=64,t=1,p=1", "", key)},
		{"parameters trailing text", join("", "argon2id", "v=19", "m=64,t=1,p=1x", salt, key)},
		{"version trailing text", join("", "argon2id", "v=19x", "m=64,t=1,p=1", salt, key)},
	}
	h := New(cheap, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.Verify(ctx, "password", tt.encoded)
			if err == nil {
				t.Fatalf("Verify(%q) = nil, want an error", tt.encoded)
			}
			if errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(%q) = ErrMismatch, want a format error", tt.encoded)
			}
		})
	}
}

func TestVerifyAbsent(t *testing.T) {
	h := New(cheap, 1)
	for _, pw := range []string{"", "any password"} {
		if err := h.VerifyAbsent(context.Background(), pw); !errors.Is(err, ErrMismatch) {
			t.Errorf("VerifyAbsent(%q) = %v, want ErrMismatch", pw, err)
		}
	}
}

// TestCheck: a match, a mismatch, an absent hash (one derivation spent, no match) and a stored
// hash that cannot be read, and the kinds of Check's errors.
func TestCheck(t *testing.T) {
	h := New(cheap, 1)
	ctx := context.Background()
	stored, err := h.Hash(ctx, "right")
	if err != nil {
		t.Fatal(err)
	}
	derivations := 0
	h.kdf = func(password, salt []byte, p Params) []byte {
		derivations++
		return idKey(password, salt, p)
	}
	cases := []struct {
		name, pw, hash string
		ok             bool
		kind           apperr.Kind // of the error; KindInternal with wantErr false means none
		wantErr        bool
	}{
		{"match", "right", stored, true, apperr.KindInternal, false},
		{"mismatch", "wrong", stored, false, apperr.KindInternal, false},
		{"absent", "right", "", false, apperr.KindInternal, false},
		{"unreadable", "right", "$argon2id$nope", false, apperr.KindInternal, true},
	}
	for _, c := range cases {
		derivations = 0
		ok, err := h.Check(ctx, c.pw, c.hash)
		if ok != c.ok || (err != nil) != c.wantErr || err != nil && apperr.KindOf(err) != c.kind {
			t.Errorf("Check(%q, %q) = %v, %v; want %v, error %v of kind %v", c.pw, c.hash, ok, err, c.ok, c.wantErr, c.kind)
		}
		if want := map[bool]int{true: 0, false: 1}[c.wantErr]; derivations != want {
			t.Errorf("Check(%q, %q) spent %d derivations, want %d", c.pw, c.hash, derivations, want)
		}
	}

	// A caller whose context ends while every slot is taken is refused as unavailable, with or
	// without a stored hash.
	release, err := h.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, hash := range []string{stored, ""} {
		if ok, err := h.Check(done, "right", hash); ok || apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("Check(cancelled, %q) = %v, %v; want false and an unavailable error", hash, ok, err)
		}
	}
}

// TestVerifyAbsentUsesHasherParameters checks that VerifyAbsent spends one derivation with the
// hasher's own parameters, as a real Verify of one of its hashes would.
func TestVerifyAbsentUsesHasherParameters(t *testing.T) {
	h := New(cheap, 1)
	var calls []Params
	h.kdf = func(password, salt []byte, p Params) []byte {
		calls = append(calls, p)
		return idKey(password, salt, p)
	}
	if err := h.VerifyAbsent(context.Background(), "x"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("VerifyAbsent = %v, want ErrMismatch", err)
	}
	if len(calls) != 1 || calls[0] != cheap {
		t.Errorf("kdf calls = %+v, want one with %+v", calls, cheap)
	}
}

// instrument replaces h's key derivation by one that counts the derivations in flight and
// records the peak. Until wait derivations have been in flight together (or a second has passed
// without that happening), each derivation holds its slot, so that a hasher allowing wait
// derivations at once reliably gets there, while one allowing fewer still finishes. Only counts
// are asserted on, never durations.
func instrument(h *Hasher, wait int32) (peak *atomic.Int32) {
	var inFlight atomic.Int32
	peak = new(atomic.Int32)
	done := make(chan struct{})
	var once sync.Once
	h.kdf = func(password, salt []byte, p Params) []byte {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		if n >= wait {
			once.Do(func() { close(done) })
		}
		select {
		case <-done:
		case <-time.After(time.Second):
			// The limit is never reached: stop waiting for it, and let the peak tell.
			once.Do(func() { close(done) })
		}
		time.Sleep(time.Millisecond) // overlap with the others
		return make([]byte, p.KeyLen)
	}
	return peak
}

func TestHashConcurrencyLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("limit", limit), func(t *testing.T) {
			h := New(cheap, limit)
			peak := instrument(h, int32(limit))
			const callers = 64
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for range callers {
				wg.Go(func() {
					if _, err := h.Hash(context.Background(), "password"); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("Hash: %v", err)
			}
			if got := peak.Load(); got > int32(limit) {
				t.Errorf("peak derivations in flight = %d, want at most %d", got, limit)
			} else if got != int32(limit) {
				t.Errorf("peak derivations in flight = %d, want the limit %d to be used", got, limit)
			}
		})
	}
}

// TestVerifyConcurrencyLimit checks that Verify and VerifyAbsent share Hash's slots.
func TestVerifyConcurrencyLimit(t *testing.T) {
	ctx := context.Background()
	h := New(cheap, 2)
	encoded, err := h.Hash(ctx, "password")
	if err != nil {
		t.Fatal(err)
	}
	peak := instrument(h, 2)
	var wg sync.WaitGroup
	for i := range 48 {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				_, _ = h.Hash(ctx, "password")
			case 1:
				_ = h.Verify(ctx, "password", encoded)
			default:
				_ = h.VerifyAbsent(ctx, "password")
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Errorf("peak derivations in flight = %d, want 2", got)
	}
}

func TestNewLimitAtLeastOne(t *testing.T) {
	for _, limit := range []int{0, -1} {
		h := New(cheap, limit)
		if cap(h.slots) != 1 {
			t.Errorf("New(limit %d) has %d slots, want 1", limit, cap(h.slots))
		}
		if _, err := h.Hash(context.Background(), "password"); err != nil {
			t.Errorf("New(limit %d).Hash: %v", limit, err)
		}
	}
}

// TestHashContextCancelledWhileWaiting fills every slot, then checks that callers waiting for
// one give up with an error wrapping context.Canceled once their context ends, and that no
// derivation starts for them.
func TestHashContextCancelledWhileWaiting(t *testing.T) {
	h := New(cheap, 1)
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	var derivations atomic.Int32
	h.kdf = func(password, salt []byte, p Params) []byte {
		derivations.Add(1)
		started <- struct{}{}
		<-release
		return make([]byte, p.KeyLen)
	}
	holderDone := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "holder")
		holderDone <- err
	}()
	<-started // the only slot is taken

	calls := map[string]func(context.Context) error{
		"Hash": func(ctx context.Context) error {
			_, err := h.Hash(ctx, "password")
			return err
		},
		"Verify": func(ctx context.Context) error {
			return h.Verify(ctx, "password", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw")
		},
		"VerifyAbsent": func(ctx context.Context) error { return h.VerifyAbsent(ctx, "password") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			time.Sleep(5 * time.Millisecond) // most likely waiting for the slot by now
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s = %v, want an error wrapping context.Canceled", name, err)
				}
			case <-time.After(10 * time.Second): // a hang, not a timing measurement
				t.Fatalf("%s did not return after its context was cancelled", name)
			}
		})
	}
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
			t.Errorf("Hash = %v, want an error wrapping context.Canceled", err)
		}
	})
	t.Run("cause", func(t *testing.T) {
		cause := errors.New("client went away")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		if _, err := h.Hash(ctx, "password"); !errors.Is(err, cause) {
			t.Errorf("Hash = %v, want an error wrapping the cancel cause", err)
		}
	})

	close(release)
	if err := <-holderDone; err != nil {
		t.Errorf("holder Hash: %v", err)
	}
	if got := derivations.Load(); got != 1 {
		t.Errorf("derivations = %d, want 1 (the cancelled callers must not derive)", got)
	}
	// The slot is free again.
	if _, err := h.Hash(context.Background(), "after"); err != nil {
		t.Errorf("Hash after release: %v", err)
	}
}

// BenchmarkHash is Hash with the OWASP parameters and as many slots as CPUs, the production
// setting: sequential, and with 8 callers per CPU competing for the slots. Compare with
// BenchmarkArgon2id in internal/xcart, the bare derivation.
func BenchmarkHash(b *testing.B) {
	ctx := context.Background()
	h := New(OWASP, runtime.NumCPU())
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// TestHoldMakesCallersWait checks that a held slot makes a hash wait, that OnWait is called with
// the waiting caller's context at that point, and that the hash runs once the slot is released.
func TestHoldMakesCallersWait(t *testing.T) {
	h := New(cheap, 1)
	release, err := h.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	waiting := make(chan any, 1)
	h.OnWait(func(ctx context.Context) { waiting <- ctx.Value(key{}) })
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.WithValue(context.Background(), key{}, "caller"), "password")
		done <- err
	}()
	if got := <-waiting; got != "caller" {
		t.Errorf("OnWait got a context carrying %v, want the caller's", got)
	}
	select {
	case err := <-done:
		t.Fatalf("Hash returned %v while the only slot was held, want it to wait", err)
	default:
	}
	release()
	if err := <-done; err != nil {
		t.Errorf("Hash after the slot was released: %v, want success", err)
	}
}

// A caller that cannot get a slot within the Hasher's wait is refused with ErrBusy, classified
// unavailable (503 with Retry-After), instead of queueing past its client's patience; a Hasher
// made WithWait shares the slots of the one it came from.
func TestWaitIsBounded(t *testing.T) {
	h := New(cheap, 1)
	bounded := h.WithWait(20 * time.Millisecond)
	release, err := h.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = bounded.Hash(context.Background(), "pw")
	if !errors.Is(err, ErrBusy) || apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("Hash with the only slot held: %v, want ErrBusy of kind unavailable", err)
	}
	release()
	if _, err := bounded.Hash(context.Background(), "pw"); err != nil {
		t.Errorf("Hash with the slot free: %v, want nil", err)
	}
}

// phpHash is the hash of "rasmuslerdorf" in PHP's password_verify documentation: what a user
// migrating from X-Cart (PHP password_hash) brings.
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

func TestImport(t *testing.T) {
	ctx := context.Background()
	h := New(cheap, 1)
	argon, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	b2a, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	b2b := "$2b$" + strings.TrimPrefix(string(b2a), "$2a$")
	for _, tc := range []struct {
		name, hash, password string
		rehash               bool
	}{
		{"argon2id", argon, "correct horse", false},
		{"bcrypt 2a", string(b2a), "correct horse", true},
		{"bcrypt 2b", b2b, "correct horse", true},
		{"bcrypt 2y from PHP", phpHash, "rasmuslerdorf", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Import(tc.hash)
			if err != nil || got != tc.hash {
				t.Fatalf("Import = %q, %v; want the hash as given", got, err)
			}
			if ok, err := h.Check(ctx, tc.password, got); !ok || err != nil {
				t.Errorf("Check(right password) = %v, %v; want true", ok, err)
			}
			if ok, err := h.Check(ctx, tc.password+"x", got); ok || err != nil {
				t.Errorf("Check(wrong password) = %v, %v; want false, nil", ok, err)
			}
			if NeedsRehash(got) != tc.rehash {
				t.Errorf("NeedsRehash = %v, want %v", !tc.rehash, tc.rehash)
			}
		})
	}
	for _, bad := range []string{"", "plain text", "$2y$10$short", "$2x$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "$argon2id$v=19$m=x$a$b", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"} {
		if _, err := Import(bad); err == nil {
			t.Errorf("Import(%q) accepted it", bad)
		}
	}
}

func TestHashAll(t *testing.T) {
	h := New(cheap, 2)
	pws := []string{"one", "two", "three", "four", "five"}
	hashes, err := h.HashAll(context.Background(), pws)
	if err != nil || len(hashes) != len(pws) {
		t.Fatalf("HashAll = %d hashes, %v", len(hashes), err)
	}
	for i, pw := range pws {
		if err := h.Verify(context.Background(), pw, hashes[i]); err != nil {
			t.Errorf("hash %d does not verify %q: %v", i, pw, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.HashAll(ctx, pws); err == nil {
		t.Errorf("HashAll with a canceled context succeeded")
	}
}

// countDerivations makes h count its derivations.
func countDerivations(h *Hasher) *atomic.Int32 {
	n := new(atomic.Int32)
	h.kdf = func(password, salt []byte, p Params) []byte {
		n.Add(1)
		return idKey(password, salt, p)
	}
	return n
}

// TestEndedContextGetsNoSlot: a caller whose context has ended gets no slot, even a free one, and
// no derivation is spent on it: its client is gone, or its deadline passed. Its error wraps the
// context's cause and is classified unavailable.
func TestEndedContextGetsNoSlot(t *testing.T) {
	h := New(cheap, 1)
	derivations := countDerivations(h)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for name, c := range map[string]struct {
		ctx  context.Context
		want error
	}{"cancelled": {cancelled, context.Canceled}, "deadline passed": {expired, context.DeadlineExceeded}} {
		if _, err := h.Hash(c.ctx, "password"); !errors.Is(err, c.want) || apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("%s: Hash = %v, want an unavailable error wrapping %v", name, err, c.want)
		}
		if ok, err := h.Check(c.ctx, "password", ""); ok || !errors.Is(err, c.want) {
			t.Errorf("%s: Check = %v, %v; want an error wrapping %v", name, ok, err, c.want)
		}
	}
	if n := derivations.Load(); n != 0 {
		t.Errorf("%d derivations for callers whose context had ended, want none", n)
	}
	if _, err := h.Hash(context.Background(), "password"); err != nil || derivations.Load() != 1 {
		t.Errorf("Hash with a live context: %v, %d derivations; want one", err, derivations.Load())
	}
}

// TestSlotFreedAsContextEnds: a waiting caller whose context ends just as a slot comes free, so
// that both are ready when it looks, never takes the slot: no derivation, an error wrapping the
// cancellation, and the slot stays free for the next caller.
func TestSlotFreedAsContextEnds(t *testing.T) {
	h := New(cheap, 1)
	derivations := countDerivations(h)
	for i := range 50 {
		release, err := h.Hold(context.Background())
		if err != nil {
			t.Fatalf("round %d: the slot was not free: %v", i, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		h.OnWait(func(context.Context) {
			cancel()
			release()
		})
		if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Hash = %v, want an error wrapping context.Canceled", i, err)
		}
		h.OnWait(nil)
	}
	if n := derivations.Load(); n != 0 {
		t.Errorf("%d derivations for cancelled callers, want none", n)
	}
}
