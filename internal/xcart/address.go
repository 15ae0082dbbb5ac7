package xcart

import (
	"context"
	"errors"
	"fmt"

	"github.com/provisiond/provisiond/internal/apperr"
)

// The address types: residential or commercial.
const (
	AddressResidential = "R"
	AddressCommercial  = "C"
)

// Address is an address of a profile: where X-Cart keeps a customer's names, phone and postal
// address. State is nil when the address names no state.
type Address struct {
	ID          int
	ProfileID   int
	IsBilling   bool
	IsShipping  bool
	IsWork      bool
	Type        string
	Title       string
	Firstname   string
	Lastname    string
	Phone       string
	Street      string
	Zipcode     string
	City        string
	CountryCode string
	State       *int
	StateName   string
}

// nameRank orders the addresses X-Cart reads a profile's name from (Profile::getName): the
// billing address, else the shipping address, else the first.
func (a Address) nameRank() int {
	switch {
	case a.IsBilling:
		return 0
	case a.IsShipping:
		return 1
	}
	return 2
}

// AddressStore is what the service needs to keep addresses. Errors are apperr errors: NotFound
// for a profile or address that does not exist (or an address of another profile).
type AddressStore interface {
	CreateAddress(ctx context.Context, a *Address) error
	GetAddress(ctx context.Context, profileID, id int) (Address, error)
	ListAddresses(ctx context.Context, profileID, offset, limit int) ([]Address, error)
	// CountAddresses is how many addresses the profile has (none when it does not exist).
	CountAddresses(ctx context.Context, profileID int) (int64, error)
	// UpdateAddress changes the address in one transaction: change gets the stored address and
	// alters it, or returns an error that leaves it unchanged. It returns the address as written.
	UpdateAddress(ctx context.Context, profileID, id int, change func(*Address) error) (Address, error)
	DeleteAddress(ctx context.Context, profileID, id int) error
}

// WithAddresses makes s serve the profiles' addresses from addresses.
func (s *Service) WithAddresses(addresses AddressStore) *Service {
	s.addresses = addresses
	return s
}

// CreateAddress stores a new address of a profile. customFields are the service names of the
// additional fields the request sets; provisiond defines none, so each is a violation.
func (s *Service) CreateAddress(ctx context.Context, a Address, customFields []string) (Address, error) {
	if err := customFieldProblems(customFields); err != nil {
		return Address{}, err
	}
	normalizeAddress(&a)
	if err := s.addresses.CreateAddress(ctx, &a); err != nil {
		return Address{}, err
	}
	return a, nil
}

// GetAddress reads an address of a profile.
func (s *Service) GetAddress(ctx context.Context, profileID, id int) (Address, error) {
	return s.addresses.GetAddress(ctx, profileID, id)
}

// AddressPage is one page of a profile's addresses.
type AddressPage struct {
	Addresses []Address
	Paging
}

// ListAddresses reads a page of a profile's addresses, paged as profiles are (pageOf), and when
// total is set, counts them on all pages.
func (s *Service) ListAddresses(ctx context.Context, profileID int, pageSent, perPageSent *int, total bool) (AddressPage, error) {
	offset, limit := pageOf(pageSent, perPageSent)
	out := AddressPage{Addresses: []Address{}, Paging: pagingOf(pageSent, limit)}
	if total {
		n, err := s.addresses.CountAddresses(ctx, profileID)
		if err != nil {
			return AddressPage{}, err
		}
		out.Total = n
	}
	if limit == 0 {
		return out, nil
	}
	addresses, err := s.addresses.ListAddresses(ctx, profileID, offset, limit)
	if err != nil {
		return AddressPage{}, err
	}
	out.Addresses = addresses
	return out, nil
}

// UpdateAddress applies change to the stored address. The custom fields' violations are
// reported from inside the transaction, once the address is known to exist: an unknown id is a
// 404 whatever else is wrong, as X-Cart reads the address before it reads the body.
func (s *Service) UpdateAddress(ctx context.Context, profileID, id int, change func(*Address), customFields []string) (Address, error) {
	problems := customFieldProblems(customFields)
	return s.addresses.UpdateAddress(ctx, profileID, id, func(a *Address) error {
		if problems != nil {
			return problems
		}
		change(a)
		normalizeAddress(a)
		return nil
	})
}

// DeleteAddress removes an address of a profile.
func (s *Service) DeleteAddress(ctx context.Context, profileID, id int) error {
	return s.addresses.DeleteAddress(ctx, profileID, id)
}

// customFieldProblems reports every custom field, as X-Cart reports one that names no additional
// address field: provisiond defines none.
func customFieldProblems(names []string) error {
	errs := make([]error, len(names))
	for i, name := range names {
		errs[i] = apperr.Invalid(fmt.Sprintf("custom_fields[%d].name", i), "exists", fmt.Sprintf(`Field with "%s" service name not found`, name))
	}
	return errors.Join(errs...)
}

// normalizeAddress applies the rules that shape a stored address: the residential type unless
// another is given, and state 0, X-Cart's "no state", stored as none.
func normalizeAddress(a *Address) {
	if a.Type == "" {
		a.Type = AddressResidential
	}
	if a.State != nil && *a.State == 0 {
		a.State = nil
	}
}
