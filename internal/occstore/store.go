package occstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/occ/scimsql"
	"github.com/provisiond/provisiond/internal/store"
)

// DBStore keeps organizations, members and memberships in the database.
type DBStore struct{ db *gorm.DB }

// NewStore returns a DBStore over db.
func NewStore(db *gorm.DB) *DBStore { return &DBStore{db: db} }

var errEmailTaken = apperr.Conflict("/email", CodeEmailInUse, "A member with this email already exists.")

func notFound(id string) error { return apperr.NotFound(fmt.Sprintf("No member has the id %s.", id)) }

// Create inserts m, a member of its parent organization, and sets its ID.
func (s *DBStore) Create(ctx context.Context, m *Member) error {
	row, err := toRow(m)
	if err != nil {
		return err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Create(&membershipRow{MemberID: row.ID, OrganizationID: row.ParentOrganizationID}).Error
	})
	if err != nil {
		return store.Classify(err, "insert member", errEmailTaken, nil)
	}
	m.ID = row.ID
	return nil
}

// Get reads the member with id.
func (s *DBStore) Get(ctx context.Context, id int64) (Member, error) {
	var row memberRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	return s.fromResult(row, err, fmt.Sprint(id))
}

// EmailFree is errEmailTaken when a member other than self holds email in any letter case.
func (s *DBStore) EmailFree(ctx context.Context, email string, self int64) error {
	return store.Free(ctx, s.db, &memberRow{}, "email_key", strings.ToLower(email), self, errEmailTaken)
}

// GetByEmail reads the member whose email is email in any letter case.
func (s *DBStore) GetByEmail(ctx context.Context, email string) (Member, error) {
	var row memberRow
	err := s.db.WithContext(ctx).Where("email_key = ?", strings.ToLower(email)).Take(&row).Error
	return s.fromResult(row, err, "")
}

func (s *DBStore) fromResult(row memberRow, err error, id string) (Member, error) {
	if err != nil {
		return Member{}, store.Classify(err, "read member", nil, notFound(id))
	}
	return row.member()
}

// Update changes the member id in one transaction that locks it first (store.Update), so that no
// concurrent change is lost: change gets the stored member and alters it, or returns an error that
// leaves it as it was. Read-modify-write rather than an UPDATE of the sent columns with a JSON
// merge in the database: the checks need the member as stored (its parent organization) and as
// changed (the reserved property names), and SQLite's json_patch would merge nested objects and
// delete keys sent as null, where a dynamic property sent replaces the stored one whole.
func (s *DBStore) Update(ctx context.Context, id int64, change func(*Member) error) (Member, error) {
	m, err := store.Update(ctx, s.db, id, memberRow.member, toRow, change, "id", "created_at", "parent_organization_id")
	if err != nil {
		return Member{}, store.Classify(err, "update member", errEmailTaken, notFound(fmt.Sprint(id)))
	}
	return m, nil
}

// Organizations reads the organizations member belongs to, in id order.
func (s *DBStore) Organizations(ctx context.Context, member int64) ([]Organization, error) {
	var rows []organizationRow
	err := s.db.WithContext(ctx).
		Where("id IN (?)", s.db.Model(&membershipRow{}).Select("organization_id").Where("member_id = ?", member)).
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("read organizations: %w", err))
	}
	out := make([]Organization, len(rows))
	for i, r := range rows {
		out[i] = Organization(r)
	}
	return out, nil
}

// Organization reads one organization.
func (s *DBStore) Organization(ctx context.Context, id string) (Organization, error) {
	var row organizationRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return Organization{}, store.Classify(err, "read organization", nil, apperr.NotFound("no organization "+id))
	}
	return Organization(row), nil
}

// InOrganization reports whether member belongs to organization.
func (s *DBStore) InOrganization(ctx context.Context, member int64, organization string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&membershipRow{}).Where("member_id = ? AND organization_id = ?", member, organization).Count(&n).Error
	if err != nil {
		return false, apperr.Internal(fmt.Errorf("read membership: %w", err))
	}
	return n > 0, nil
}

// listColumns are the columns behind the attributes a list filters and sorts by.
var listColumns = occ.Columns{
	Filter: map[string]scimsql.Column{
		"email":     scimsql.StringColumn("email_key"),
		"firstName": scimsql.StringColumn("first_name"),
		"lastName":  scimsql.StringColumn("last_name"),
		"active":    scimsql.BoolColumn("active"),
		"roles":     scimsql.ListColumn("roles"),
	},
	Sort: map[string]string{"id": "id", "email": "email_key", "firstName": "first_name", "lastName": "last_name"},
}

// List reads the members of q's organization that q selects, one page, and how many it selects.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]Member, int64, scim.Sort, error) {
	c, err := listColumns.SQL(q.Filter, q.Sort)
	if err != nil {
		return nil, 0, scim.Sort{}, err
	}
	tx := s.db.WithContext(ctx).Model(&memberRow{}).
		Where("id IN (?)", s.db.Model(&membershipRow{}).Select("member_id").Where("organization_id = ?", q.Organization))
	if c.Where != "" {
		tx = tx.Where(c.Where, c.Args...)
	}
	var total int64
	if err := tx.Count(&total).Error; err != nil {
		return nil, 0, scim.Sort{}, apperr.Internal(fmt.Errorf("count members: %w", err))
	}
	order := "id"
	if c.Order != "" {
		order = c.Order + ", id"
	}
	var rows []memberRow
	if err := tx.Order(order).Offset(q.Offset).Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, 0, scim.Sort{}, apperr.Internal(fmt.Errorf("list members: %w", err))
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		m, err := r.member()
		if err != nil {
			return nil, 0, scim.Sort{}, err
		}
		out[i] = m
	}
	return out, total, c.Sort, nil
}

// LoadOrganization stores an organization and makes each of members (with a password hash) a
// member of it: a new member, or an existing one (found by email) that joins the organization,
// gains the given roles and takes the given names and password. A member deactivated through the
// API stays deactivated. An existing member is locked before it is read, as an update locks it,
// so that the roles it gains cannot overwrite a concurrent update's.
func (s *DBStore) LoadOrganization(ctx context.Context, org Organization, members []Member) error {
	return store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		row := organizationRow(org)
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"name", "active"})}).Create(&row).Error; err != nil {
			return fmt.Errorf("organization %s: %w", org.ID, err)
		}
		for _, a := range members {
			var existing memberRow
			err := store.ForUpdate(tx).Where("email_key = ?", strings.ToLower(a.Email)).Take(&existing).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				a.ParentOrganization = org.ID
				r, err := toRow(&a)
				if err != nil {
					return err
				}
				if err := tx.Create(&r).Error; err != nil {
					return fmt.Errorf("administrator of %s: %w", org.ID, err)
				}
				existing = r
			case err != nil:
				return err
			default:
				m, err := existing.member()
				if err != nil {
					return err
				}
				m.FirstName, m.LastName, m.PasswordHash = a.FirstName, a.LastName, a.PasswordHash
				for _, r := range a.Roles {
					if !m.HasRole(r) {
						m.Roles = append(m.Roles, r)
					}
				}
				r, err := toRow(&m)
				if err != nil {
					return err
				}
				if err := tx.Model(&memberRow{ID: r.ID}).Select("first_name", "last_name", "password_hash", "roles").Updates(&r).Error; err != nil {
					return err
				}
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&membershipRow{MemberID: existing.ID, OrganizationID: org.ID}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

func toRow(m *Member) (memberRow, error) {
	dyn := m.Dynamic
	if dyn == nil {
		dyn = map[string]any{}
	}
	js, err := json.Marshal(dyn)
	if err != nil {
		return memberRow{}, apperr.Internal(fmt.Errorf("encode dynamic properties: %w", err))
	}
	var hash *string
	if m.PasswordHash != "" {
		hash = &m.PasswordHash
	}
	return memberRow{
		ID: m.ID, Email: m.Email, EmailKey: strings.ToLower(m.Email), FirstName: m.FirstName, LastName: m.LastName,
		Active: m.Active, ReceiveEmail: m.ReceiveEmail, Roles: "," + strings.Join(m.Roles, ",") + ",",
		Locale: m.Locale, PasswordHash: hash, Dynamic: string(js), ParentOrganizationID: m.ParentOrganization,
		CreatedAt: m.CreatedAt,
	}, nil
}

func (r memberRow) member() (Member, error) {
	m := Member{
		ID: r.ID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Active: r.Active,
		ReceiveEmail: r.ReceiveEmail, Locale: r.Locale, ParentOrganization: r.ParentOrganizationID, CreatedAt: r.CreatedAt.UTC(),
	}
	for _, f := range strings.Split(strings.Trim(r.Roles, ","), ",") {
		if f != "" {
			m.Roles = append(m.Roles, f)
		}
	}
	if r.PasswordHash != nil {
		m.PasswordHash = *r.PasswordHash
	}
	// Numbers are decoded as json.Number, so they go back out exactly as they came in.
	dec := json.NewDecoder(bytes.NewReader([]byte(r.Dynamic)))
	dec.UseNumber()
	if err := dec.Decode(&m.Dynamic); err != nil {
		return Member{}, apperr.Internal(fmt.Errorf("decode dynamic properties of member %d: %w", r.ID, err))
	}
	return m, nil
}
