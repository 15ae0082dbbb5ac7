package occ

import (
	"context"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/password"
)

// ErrBadLogin is the answer to a refused password login (grant_type=password) of either OCC API:
// an unknown username, a wrong password, an account without a password or a deactivated one, all
// alike so that the answer does not tell which accounts exist.
var ErrBadLogin = apperr.Unauthenticated("The username or password is invalid.")

// Account is what a password login needs of a stored account (an admin profile, a member).
type Account struct {
	ID     int64
	Hash   string // empty: no password
	Active bool
}

// LogIn checks a password login (grant_type=password) of either OCC API and answers the id of the
// account logged in: find reads the account whose username is email (an apperr.KindNotFound error
// when none has it), and replace stores a new hash (checkPassword).
func LogIn(ctx context.Context, hasher *password.Hasher, email, pw string,
	find func(ctx context.Context, email string) (Account, error),
	replace func(ctx context.Context, id int64, old, hash string) error) (int64, error) {
	acct, err := find(ctx, email)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return 0, err
	}
	if err := checkPassword(ctx, hasher, pw, acct, err == nil, replace); err != nil {
		return 0, err
	}
	return acct.ID, nil
}

// checkPassword checks pw against acct, found by its username (ok false when none has it: an
// empty hash then costs a verification all the same). A password whose stored hash is an
// imported bcrypt one (password.NeedsRehash) is stored again with the server's hasher through
// replace, which must change the hash only if it is still the one read.
func checkPassword(ctx context.Context, hasher *password.Hasher, pw string, acct Account, ok bool,
	replace func(ctx context.Context, id int64, old, hash string) error) error {
	if !ok {
		acct = Account{}
	}
	match, err := hasher.Check(ctx, pw, acct.Hash)
	if err != nil {
		return err
	}
	if !match || !acct.Active {
		return ErrBadLogin
	}
	if password.NeedsRehash(acct.Hash) {
		hash, err := hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		return replace(ctx, acct.ID, acct.Hash, hash)
	}
	return nil
}
