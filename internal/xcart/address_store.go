package xcart

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// CreateAddress inserts a, an address of profile a.ProfileID, and sets its ID. In one transaction
// it locks the profile (so that its address writes queue: the flags moved by one are seen by the
// next), takes the billing and shipping flags a sets from the profile's other addresses, and
// inserts a. A profile that does not exist is NotFound.
func (s *DBStore) CreateAddress(ctx context.Context, a *Address) error {
	err := store.Commit(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockProfile(tx, a.ProfileID); err != nil {
			return err
		}
		if err := takeFlags(tx, a.ProfileID, 0, a.IsBilling, a.IsShipping); err != nil {
			return err
		}
		row := toAddressRow(a)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		a.ID = int(row.ID)
		return nil
	})
	if err != nil {
		return store.Classify(err, "insert address", nil, errNotFound)
	}
	return nil
}

// GetAddress reads the address id of profile profileID.
func (s *DBStore) GetAddress(ctx context.Context, profileID, id int) (Address, error) {
	var row addressRow
	if err := s.db.WithContext(ctx).Where("profile_id = ?", profileID).Take(&row, id).Error; err != nil {
		return Address{}, store.Classify(err, "read address", nil, errNotFound)
	}
	return row.address(), nil
}

// ListAddresses reads one page of the addresses of profile profileID in id order: none when the
// profile does not exist.
func (s *DBStore) ListAddresses(ctx context.Context, profileID, offset, limit int) ([]Address, error) {
	var rows []addressRow
	db := s.db.WithContext(ctx)
	filtered := db.Model(&addressRow{}).Where("profile_id = ?", profileID)
	if err := store.PageByID(db.Model(&addressRow{}), filtered, "id", offset, limit).Find(&rows).Error; err != nil {
		return nil, store.Classify(err, "list addresses", nil, nil)
	}
	out := make([]Address, len(rows))
	for i, r := range rows {
		out[i] = r.address()
	}
	return out, nil
}

// CountAddresses is how many addresses profile profileID has: none when it does not exist.
func (s *DBStore) CountAddresses(ctx context.Context, profileID int) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&addressRow{}).Where("profile_id = ?", profileID).Count(&n).Error; err != nil {
		return 0, store.Classify(err, "count addresses", nil, nil)
	}
	return n, nil
}

// UpdateAddress changes the address id of profile profileID in one transaction that locks the
// profile first, as CreateAddress does, then the address (store.Modify): change gets the stored
// address and alters it, or returns an error that leaves it as it was; the flags it sets are
// taken from the profile's other addresses. It returns the address as written.
func (s *DBStore) UpdateAddress(ctx context.Context, profileID, id int, change func(*Address) error) (Address, error) {
	var a Address
	err := store.Commit(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockProfile(tx, profileID); err != nil {
			return err
		}
		return store.Modify(tx, id, func(row *addressRow) error {
			if row.ProfileID != int64(profileID) {
				return gorm.ErrRecordNotFound
			}
			a = row.address()
			if err := change(&a); err != nil {
				return err
			}
			if err := takeFlags(tx, profileID, row.ID, a.IsBilling, a.IsShipping); err != nil {
				return err
			}
			*row = toAddressRow(&a)
			return nil
		}, "id", "profile_id")
	})
	if err != nil {
		return Address{}, store.Classify(err, "update address", nil, errNotFound)
	}
	return a, nil
}

// DeleteAddress removes the address id of profile profileID.
func (s *DBStore) DeleteAddress(ctx context.Context, profileID, id int) error {
	err := store.Write(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Where("profile_id = ?", profileID).Delete(&addressRow{}, id)
		if res.Error == nil && res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return res.Error
	})
	if err != nil {
		return store.Classify(err, "delete address", nil, errNotFound)
	}
	return nil
}

// NamedAddresses returns, for each of profileIDs that has an address, the one X-Cart reads the
// profile's name from (Address.nameRank): its billing address, else its shipping address, else
// its first.
func (s *DBStore) NamedAddresses(ctx context.Context, profileIDs []int) (map[int]Address, error) {
	out := map[int]Address{}
	if len(profileIDs) == 0 {
		return out, nil
	}
	var rows []addressRow
	if err := s.db.WithContext(ctx).Where("profile_id IN ?", profileIDs).Order("id").Find(&rows).Error; err != nil {
		return nil, store.Classify(err, "read named addresses", nil, nil)
	}
	for _, r := range rows {
		a := r.address()
		if cur, ok := out[a.ProfileID]; !ok || a.nameRank() < cur.nameRank() {
			out[a.ProfileID] = a
		}
	}
	return out, nil
}

// lockProfile locks the profile id until tx ends; a missing one is gorm.ErrRecordNotFound.
func lockProfile(tx *gorm.DB, id int) error {
	return store.ForUpdate(tx).Select("id").Take(&profileRow{}, id).Error
}

// takeFlags clears, in tx, the billing flag (when billing) and the shipping flag (when shipping)
// of the addresses of profile profileID other than except, before an address takes them: the
// partial unique indexes allow one of each.
func takeFlags(tx *gorm.DB, profileID int, except int64, billing, shipping bool) error {
	for _, f := range []struct {
		column string
		set    bool
	}{{"is_billing", billing}, {"is_shipping", shipping}} {
		if !f.set {
			continue
		}
		err := tx.Model(&addressRow{}).Where("profile_id = ? AND id <> ? AND "+f.column+" = ?", profileID, except, true).
			Update(f.column, false).Error
		if err != nil {
			return fmt.Errorf("take %s: %w", f.column, err)
		}
	}
	return nil
}

func toAddressRow(a *Address) addressRow {
	return addressRow{
		ID:          int64(a.ID),
		ProfileID:   int64(a.ProfileID),
		IsBilling:   a.IsBilling,
		IsShipping:  a.IsShipping,
		IsWork:      a.IsWork,
		Type:        a.Type,
		Title:       a.Title,
		Firstname:   a.Firstname,
		Lastname:    a.Lastname,
		Phone:       a.Phone,
		Street:      a.Street,
		Zipcode:     a.Zipcode,
		City:        a.City,
		CountryCode: a.CountryCode,
		State:       toInt64(a.State),
		StateName:   a.StateName,
	}
}

func (r addressRow) address() Address {
	return Address{
		ID:          int(r.ID),
		ProfileID:   int(r.ProfileID),
		IsBilling:   r.IsBilling,
		IsShipping:  r.IsShipping,
		IsWork:      r.IsWork,
		Type:        r.Type,
		Title:       r.Title,
		Firstname:   r.Firstname,
		Lastname:    r.Lastname,
		Phone:       r.Phone,
		Street:      r.Street,
		Zipcode:     r.Zipcode,
		City:        r.City,
		CountryCode: r.CountryCode,
		State:       toInt(r.State),
		StateName:   r.StateName,
	}
}
