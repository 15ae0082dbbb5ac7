// Package password hashes and verifies passwords with argon2id in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash). Each hash needs Params.Memory KiB, so a Hasher lets
// only a fixed number run at once; a caller waiting for its turn gives up when its context ends.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/internal/apperr"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// OWASP are the parameters OWASP's password storage cheat sheet recommends for argon2id
// (19 MiB, two passes, one lane).
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrMismatch is returned by Verify when the password does not match.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when no hashing slot came free within the Hasher's wait: the server is
// overloaded with password work, and the request is refused before anything is written, so that
// the client can retry instead of queueing past its own timeout.
var ErrBusy = errors.New("no password-hashing slot came free in time")

// Hasher computes argon2id hashes, at most limit at a time.
type Hasher struct {
	params Params
	slots  chan struct{}
	wait   time.Duration
	kdf    func(password, salt []byte, p Params) []byte
	onWait func(ctx context.Context)
	waited func(time.Duration)
}

// New returns a Hasher with params that runs at most limit hashes at once. A caller waits for a
// free slot until its context ends.
func New(params Params, limit int) *Hasher {
	if limit < 1 {
		limit = 1
	}
	return &Hasher{params: params, slots: make(chan struct{}, limit), kdf: idKey}
}

// WithWait returns a Hasher that shares h's slots and waits for one at most wait (and never past
// the caller's context); it then fails with ErrBusy.
func (h *Hasher) WithWait(wait time.Duration) *Hasher {
	c := *h
	c.wait = wait
	return &c
}

func idKey(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := h.derive(ctx, []byte(password), salt, h.params)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks password against a PHC string made by Hash (with any parameters), or an imported
// bcrypt hash (Import), in constant time. It returns ErrMismatch when the password is wrong.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) error {
	if isBcrypt(encoded) {
		return h.verifyBcrypt(ctx, password, encoded)
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return err
	}
	got, err := h.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

func (h *Hasher) derive(ctx context.Context, password, salt []byte, p Params) ([]byte, error) {
	release, err := h.Hold(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return h.kdf(password, salt, p), nil
}

// queue waits for a slot, at most h.wait and never past ctx. Its errors are classified here, as
// unavailable: whatever wraps them, the request is answered 503 with Retry-After (or, when the
// client has gone, not at all).
func (h *Hasher) queue(ctx context.Context) error {
	var expired <-chan time.Time
	if h.wait > 0 {
		t := time.NewTimer(h.wait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-expired:
		return apperr.Unavailable(ErrBusy)
	case <-ctx.Done():
		return ended(ctx)
	}
}

// ended is the error of a caller whose context ended before its hash could start: classified
// unavailable, and wrapping the context's cause, so that a client that went away is told from a
// deadline that passed.
func ended(ctx context.Context) error {
	return apperr.Unavailable(fmt.Errorf("waiting to hash a password: %w", context.Cause(ctx)))
}

// Hold takes one of h's slots, as a hash does, and keeps it until release is called: meanwhile
// others wait for a slot as they would behind a running hash. Like a hash, it gives up when ctx
// ends first or h's wait has passed (queue). Tests use it to make callers wait.
//
// A caller whose context has ended gets no slot, even a free one: its hash would be thrown away
// (its client gone, or its deadline passed), and the slot's time is better spent on a caller
// still waiting.
func (h *Hasher) Hold(ctx context.Context) (release func(), err error) {
	if ctx.Err() != nil {
		return nil, ended(ctx)
	}
	select {
	case h.slots <- struct{}{}:
		if h.waited != nil {
			h.waited(0)
		}
	default:
		if h.onWait != nil {
			h.onWait(ctx)
		}
		start := time.Now()
		err := h.queue(ctx)
		if h.waited != nil {
			h.waited(time.Since(start))
		}
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil { // a slot came free as ctx ended, and queue's select took the slot
			<-h.slots
			return nil, ended(ctx)
		}
	}
	return func() { <-h.slots }, nil
}

// ObserveWait makes h call f with the time each caller waited for a slot (0 when one was free),
// whether it got one or gave up. Call it before h is used; Hashers made from h by WithWait
// afterwards share it.
func (h *Hasher) ObserveWait(f func(time.Duration)) { h.waited = f }

// OnWait makes h call f, with the caller's context, whenever a caller finds every slot taken and
// is about to wait for one. Call it before h is used. Tests use it to act on a request at exactly
// that point, such as cancelling it.
func (h *Hasher) OnWait(f func(ctx context.Context)) { h.onWait = f }

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("password hash: not an argon2id PHC string")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, errors.New("password hash: unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: parameters: %w", err)
	}
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) || p.Time < 1 || p.Threads < 1 {
		return Params{}, nil, nil, errors.New("password hash: malformed parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: salt: %w", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: key: %w", err)
	}
	if len(salt) == 0 || len(key) == 0 {
		return Params{}, nil, nil, errors.New("password hash: empty salt or key")
	}
	p.SaltLen, p.KeyLen = len(salt), uint32(len(key))
	return p, salt, key, nil
}

// Check reports whether password matches hash, in constant time. An empty hash (no account, or
// one without a password) spends the time of one verification and matches nothing, so that a
// login takes as long whether or not the account exists. Its errors are classified: unavailable
// when no hashing slot came free, internal for a stored hash it cannot read.
func (h *Hasher) Check(ctx context.Context, password, hash string) (ok bool, err error) {
	if hash == "" {
		err = h.VerifyAbsent(ctx, password)
	} else {
		err = h.Verify(ctx, password, hash)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrMismatch):
		return false, nil
	}
	return false, apperr.Internal(err)
}

// VerifyAbsent spends the time of one verification without a stored hash, so that a login for an
// account that does not exist (or has no password) takes as long as one with a wrong password.
func (h *Hasher) VerifyAbsent(ctx context.Context, password string) error {
	salt := make([]byte, h.params.SaltLen)
	if _, err := h.derive(ctx, []byte(password), salt, h.params); err != nil {
		return err
	}
	return ErrMismatch
}

// Import checks a password hash brought from elsewhere (a fixtures file, a migration) and returns
// it as it is stored: an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash, what Hash
// makes), or a bcrypt hash ($2a$, $2b$ or $2y$, what PHP's password_hash and Rails' has_secure_password
// make). A login with a bcrypt hash is verified with bcrypt, and NeedsRehash tells the caller to
// store the password again with Hash.
func Import(encoded string) (string, error) {
	if isBcrypt(encoded) {
		if _, err := bcrypt.Cost([]byte(encoded)); err != nil {
			return "", fmt.Errorf("not a valid bcrypt hash: %w", err)
		}
		return encoded, nil
	}
	if _, _, _, err := decode(encoded); err != nil {
		return "", fmt.Errorf("not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): %w", err)
	}
	return encoded, nil
}

// NeedsRehash reports whether a stored hash should be replaced by Hash's after a successful login:
// true for an imported bcrypt hash.
func NeedsRehash(encoded string) bool { return isBcrypt(encoded) }

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$")
}

// verifyBcrypt checks password against a bcrypt hash, taking a hashing slot like argon2id does.
func (h *Hasher) verifyBcrypt(ctx context.Context, password, encoded string) error {
	release, err := h.Hold(ctx)
	if err != nil {
		return err
	}
	defer release()
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrMismatch
	default:
		return fmt.Errorf("password hash: %w", err)
	}
}

// HashAll hashes passwords, as many at once as the Hasher has slots, and returns their hashes
// in order (for fixtures files, which may hold many). It stops at the first error.
func (h *Hasher) HashAll(ctx context.Context, passwords []string) ([]string, error) {
	out := make([]string, len(passwords))
	errs := make([]error, len(passwords))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cap(h.slots), len(passwords)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = h.Hash(ctx, passwords[i])
			}
		})
	}
	for i := range passwords {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, apperr.Unavailable(err)
	}
	return out, nil
}
