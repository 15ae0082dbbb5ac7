package occstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/module"
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

// Create inserts m, a member of its parent organization with the roles m.Roles there, and sets
// its ID.
func (s *DBStore) Create(ctx context.Context, m *Member) error {
	row, err := toRow(m)
	if err != nil {
		return err
	}
	err = store.Commit(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return tx.Create(&membershipRow{MemberID: row.ID, OrganizationID: row.ParentOrganizationID, Roles: joinRoles(m.Roles)}).Error
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

// Update changes the member id in one transaction that locks it first (store.Modify), so that no
// concurrent change is lost: change gets the stored member, with its roles in org, and alters it,
// or returns an error that leaves it as it was; the roles it leaves are stored as the member's in
// org. Read-modify-write rather than an UPDATE of the sent columns with a JSON merge in the
// database: the checks need the member as stored (its parent organization) and as changed (the
// reserved property names), and SQLite's json_patch would merge nested objects and delete keys
// sent as null, where a dynamic property sent replaces the stored one whole.
//
// An update that deactivates a delegated administrator, or takes the admin role away from one in
// org, is refused (errLastAdmin) when no other active administrator of that organization would
// remain: the administrators' memberships of each such organization are locked first, so that two
// concurrent updates cannot each leave the other as the last administrator and together leave
// none.
func (s *DBStore) Update(ctx context.Context, id int64, org string, change func(*Member) error) (Member, error) {
	var m Member
	err := store.Commit(ctx, s.db, func(tx *gorm.DB) error {
		var ms membershipRow
		err := store.Modify(tx, id, func(row *memberRow) error {
			if err := tx.Take(&ms, "member_id = ? AND organization_id = ?", id, org).Error; err != nil {
				return err
			}
			var err error
			if m, err = row.member(); err != nil {
				return err
			}
			m.Roles = splitRoles(ms.Roles)
			was := m
			if err := change(&m); err != nil {
				return err
			}
			if err := lastAdmins(tx, was, m, org); err != nil {
				return err
			}
			*row, err = toRow(&m)
			return err
		}, "id", "created_at", "parent_organization_id")
		if err != nil {
			return err
		}
		if roles := joinRoles(m.Roles); roles != ms.Roles {
			return tx.Model(&membershipRow{}).Where("member_id = ? AND organization_id = ?", id, org).Update("roles", roles).Error
		}
		return nil
	})
	if err != nil {
		return Member{}, store.Classify(err, "update member", errEmailTaken, notFound(fmt.Sprint(id)))
	}
	return m, nil
}

// lastAdmins is errLastAdmin when the change from was to now (the member, with its roles in org)
// leaves an organization without an active delegated administrator: a deactivation, in each
// organization where the member administers; losing the admin role, in org.
func lastAdmins(tx *gorm.DB, was, now Member, org string) error {
	if !was.Active {
		return nil
	}
	var orgs []string
	switch {
	case !now.Active:
		if err := tx.Model(&membershipRow{}).Where("member_id = ? AND roles LIKE ?", was.ID, "%,"+RoleAdmin+",%").
			Order("organization_id").Pluck("organization_id", &orgs).Error; err != nil {
			return err
		}
	case was.HasRole(RoleAdmin) && !now.HasRole(RoleAdmin):
		orgs = []string{org}
	}
	if len(orgs) == 0 {
		return nil
	}
	// The administrators' memberships of those organizations are locked (in one order, so that
	// two such updates cannot deadlock), rather than the organizations: a fixtures load locks
	// organizations before members, and this update holds its member already.
	var locked []membershipRow
	if err := store.ForUpdate(tx).Where("organization_id IN ? AND roles LIKE ?", orgs, "%,"+RoleAdmin+",%").
		Order("organization_id, member_id").Find(&locked).Error; err != nil {
		return err
	}
	for _, o := range orgs {
		var others int64
		err := tx.Table("occstore_memberships AS ms").Joins("JOIN occstore_members AS m ON m.id = ms.member_id").
			Where("ms.organization_id = ? AND ms.member_id <> ? AND m.active AND ms.roles LIKE ?", o, was.ID, "%,"+RoleAdmin+",%").
			Count(&others).Error
		if err != nil {
			return err
		}
		if others == 0 {
			return errLastAdmin(o, !now.Active)
		}
	}
	return nil
}

// errLastAdmin refuses an update that would leave the organization org without an active
// delegated administrator (a decision: OCC documents no such rule, and without it an
// organization can lock every one of its members out).
func errLastAdmin(org string, deactivated bool) error {
	if deactivated {
		return apperr.Invalid("/active", CodeInvalidInput, fmt.Sprintf("The member is the last active delegated administrator of the organization %s and cannot be deactivated.", org))
	}
	return apperr.Invalid("/roles", CodeInvalidInput, fmt.Sprintf("The member is the last active delegated administrator of the organization %s and cannot lose the admin role.", org))
}

// Memberships reads the organizations member belongs to, with its roles in each, in id order.
func (s *DBStore) Memberships(ctx context.Context, member int64) ([]Membership, error) {
	out, err := s.MembershipsOf(ctx, []int64{member})
	return out[member], err
}

// Organization reads one organization.
func (s *DBStore) Organization(ctx context.Context, id string) (Organization, error) {
	var row organizationRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return Organization{}, store.Classify(err, "read organization", nil, apperr.NotFound("no organization "+id))
	}
	return Organization(row), nil
}

// MemberOrganization reads the organization id, with member's roles there, when member belongs
// to it, in one statement.
func (s *DBStore) MemberOrganization(ctx context.Context, member int64, id string) (Membership, bool, error) {
	var rows []membershipView
	err := s.memberships(ctx).Where("ms.member_id = ? AND ms.organization_id = ?", member, id).Limit(1).Scan(&rows).Error
	if err != nil {
		return Membership{}, false, store.Classify(err, "read organization", nil, nil)
	}
	if len(rows) == 0 {
		return Membership{}, false, nil
	}
	return rows[0].membership(), true, nil
}

// RolesIn reads the roles of member in organization; in is false when it does not belong to it.
func (s *DBStore) RolesIn(ctx context.Context, member int64, organization string) (roles []string, in bool, err error) {
	var found []string
	err = s.db.WithContext(ctx).Model(&membershipRow{}).Where("member_id = ? AND organization_id = ?", member, organization).Limit(1).Pluck("roles", &found).Error
	if err != nil {
		return nil, false, store.Classify(err, "read membership", nil, nil)
	}
	if len(found) == 0 {
		return nil, false, nil
	}
	return splitRoles(found[0]), true, nil
}

// membershipView is a membership joined with its organization.
type membershipView struct {
	MemberID       int64
	OrganizationID string
	Name           string
	Active         bool
	Roles          string
}

func (v membershipView) membership() Membership {
	return Membership{Organization: Organization{ID: v.OrganizationID, Name: v.Name, Active: v.Active}, Roles: splitRoles(v.Roles)}
}

// memberships is the query of memberships joined with their organizations.
func (s *DBStore) memberships(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("occstore_memberships AS ms").
		Select("ms.member_id, o.id AS organization_id, o.name, o.active, ms.roles").
		Joins("JOIN occstore_organizations AS o ON o.id = ms.organization_id")
}

// joinRoles writes role functions as stored: ",admin,buyer,".
func joinRoles(fs []string) string { return "," + strings.Join(fs, ",") + "," }

// splitRoles reads role functions as joinRoles writes them.
func splitRoles(s string) []string {
	var out []string
	for _, f := range strings.Split(strings.Trim(s, ","), ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// listColumns are the columns behind the attributes a list of org's members filters and sorts
// by; roles are the member's in org.
func listColumns(org string) occ.Columns {
	return occ.Columns{
		Filter: map[string]scimsql.Column{
			"email":     scimsql.KeyColumn("email_key"),
			"firstName": scimsql.StringColumn("first_name"),
			"lastName":  scimsql.StringColumn("last_name"),
			"active":    scimsql.BoolColumn("active"),
			"roles":     rolesIn(org),
		},
		Sort: map[string]string{"id": "id", "email": "email_key", "firstName": "first_name", "lastName": "last_name"},
	}
}

// rolesIn matches the roles a member holds in org, those of its membership there.
func rolesIn(org string) scimsql.Column {
	roles := scimsql.ListColumn("r.roles")
	return func(op string, value any) (string, []any, error) {
		cond, args, err := roles(op, value)
		if err != nil {
			return "", nil, err
		}
		return "EXISTS (SELECT 1 FROM occstore_memberships r WHERE r.member_id = occstore_members.id AND r.organization_id = ? AND " + cond + ")",
			append([]any{org}, args...), nil
	}
}

// List reads the members of q's organization that q selects, one page, with their roles there,
// and how many it selects.
func (s *DBStore) List(ctx context.Context, q ListQuery) ([]Member, int64, scim.Sort, error) {
	c, err := listColumns(q.Organization).SQL(q.Filter, q.Sort)
	if err != nil {
		return nil, 0, scim.Sort{}, err
	}
	// EXISTS, probing the membership's primary key (member, organization) for each member the
	// filter selects, rather than id IN the organization's members: an organization may hold
	// every member, and SQLite then reads all its memberships whatever the filter.
	tx := s.db.WithContext(ctx).Model(&memberRow{}).
		Where("EXISTS (SELECT 1 FROM occstore_memberships ms WHERE ms.member_id = occstore_members.id AND ms.organization_id = ?)", q.Organization)
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
	if err := store.PageByID(s.db.WithContext(ctx).Model(&memberRow{}), tx, order, q.Offset, q.Limit).Find(&rows).Error; err != nil {
		return nil, 0, scim.Sort{}, apperr.Internal(fmt.Errorf("list members: %w", err))
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var roles []struct {
		MemberID int64
		Roles    string
	}
	if len(ids) > 0 {
		err := s.db.WithContext(ctx).Model(&membershipRow{}).Select("member_id, roles").
			Where("organization_id = ? AND member_id IN ?", q.Organization, ids).Scan(&roles).Error
		if err != nil {
			return nil, 0, scim.Sort{}, store.Classify(err, "read roles", nil, nil)
		}
	}
	byID := make(map[int64][]string, len(roles))
	for _, r := range roles {
		byID[r.MemberID] = splitRoles(r.Roles)
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		m, err := r.member()
		if err != nil {
			return nil, 0, scim.Sort{}, err
		}
		m.Roles = byID[m.ID]
		out[i] = m
	}
	return out, total, c.Sort, nil
}

// Seed is what a fixtures file stores: organizations, and members of them.
type Seed struct {
	Organizations []Organization
	// Members have distinct emails (in any letter case).
	Members []SeedMember
}

// SeedMember is a member to store. Member holds a new member's fields, the parent organization
// among them (its Roles are unused: roles are per organization); an existing member (found by
// email, in any letter case) takes its email's letter case, names, password hash and dynamic
// properties (others are kept), and takes its active flag, receiveEmail and locale only when the
// Set fields say so: a member deactivated through the API stays deactivated unless the file says
// otherwise. Its parent organization and creation time stay.
type SeedMember struct {
	Member
	// Organizations are those the member belongs to, with its roles in each: it joins each
	// (memberships are never removed); in one it belongs to already it gains the roles (those it
	// has are kept: a concurrent update's are never lost), with overwrite only.
	Organizations                         []SeedMembership
	SetActive, SetReceiveEmail, SetLocale bool
}

// SeedMembership is an organization of a SeedMember and the role functions it holds there.
type SeedMembership struct {
	Organization string
	Roles        []string
}

// Seeded counts what Seed created and updated.
type Seeded struct {
	Organizations, Members module.Count
}

// seedBatch is how many keys one statement of Seed looks up, and how many rows it writes on
// PostgreSQL: 500 members are 6,000 parameters, far below PostgreSQL's 65,535.
const seedBatch = 500

// insertBatch is how many rows one INSERT of Seed writes. On SQLite it is small: it was sized
// for the previous driver (glebarez/go-sqlite), which bound each parameter by searching the
// arguments for it, in time that grew with the square of a statement's parameters
// (modernc.org/sqlite, the driver now, binds in linear time).
func insertBatch(tx *gorm.DB) int {
	if tx.Name() == "postgres" {
		return seedBatch
	}
	return 64
}

// Seed stores seed in one transaction: the organizations, then the members, a few statements
// per seedBatch rows whatever their number. With overwrite, existing organizations and members
// take the seed's values (SeedMember says how); without, they are left alone. Every member
// joins its organizations either way. Existing members are locked before they are read, as an
// update locks them; a member that a concurrent create inserts meanwhile is found by the
// insert's conflict and updated like the others, so that the seed never fails on it.
func (s *DBStore) Seed(ctx context.Context, seed Seed, overwrite bool) (Seeded, error) {
	var done Seeded
	err := store.Transaction(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if done.Organizations, err = seedOrganizations(tx, seed.Organizations, overwrite); err != nil {
			return fmt.Errorf("organizations: %w", err)
		}
		if done.Members, err = seedMembers(tx, seed.Members, overwrite); err != nil {
			return fmt.Errorf("members: %w", err)
		}
		return nil
	})
	return done, err
}

func seedOrganizations(tx *gorm.DB, orgs []Organization, overwrite bool) (module.Count, error) {
	var c module.Count
	ids := make([]string, len(orgs))
	rows := make([]organizationRow, len(orgs))
	for i, o := range orgs {
		ids[i], rows[i] = o.ID, organizationRow(o)
	}
	existing := map[string]bool{}
	for chunk := range slices.Chunk(ids, seedBatch) {
		var found []string
		if err := tx.Model(&organizationRow{}).Where("id IN ?", chunk).Pluck("id", &found).Error; err != nil {
			return c, err
		}
		for _, id := range found {
			existing[id] = true
		}
	}
	conflict := clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}
	if overwrite {
		conflict = clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"name", "active"})}
	}
	if len(rows) > 0 {
		if err := tx.Clauses(conflict).CreateInBatches(&rows, insertBatch(tx)).Error; err != nil {
			return c, err
		}
	}
	for _, id := range ids {
		switch {
		case !existing[id]:
			c.Created++
		case overwrite:
			c.Updated++
		}
	}
	return c, nil
}

func seedMembers(tx *gorm.DB, members []SeedMember, overwrite bool) (module.Count, error) {
	var c module.Count
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = strings.ToLower(m.Email)
	}
	stored, err := lockMembers(tx, keys)
	if err != nil {
		return c, err
	}
	ids := map[string]int64{}

	// New members, in the seed's order: inserted unless a concurrent create got there first.
	var fresh []memberRow
	for _, m := range members {
		if _, ok := stored[strings.ToLower(m.Email)]; ok {
			continue
		}
		r, err := toRow(&m.Member)
		if err != nil {
			return c, err
		}
		fresh = append(fresh, r)
	}
	var late []string
	for chunk := range slices.Chunk(fresh, insertBatch(tx)) {
		inserted, err := insertMembers(tx, chunk, "ON CONFLICT (email_key) DO NOTHING")
		if err != nil {
			return c, err
		}
		for _, r := range chunk {
			if id, ok := inserted[r.EmailKey]; ok {
				ids[r.EmailKey] = id
				c.Created++
			} else {
				late = append(late, r.EmailKey)
			}
		}
	}
	if len(late) > 0 {
		created, err := lockMembers(tx, late)
		if err != nil {
			return c, err
		}
		maps.Copy(stored, created)
	}

	// Existing members.
	var changed []memberRow
	for _, m := range members {
		key := strings.ToLower(m.Email)
		row, ok := stored[key]
		if !ok {
			continue
		}
		ids[key] = row.ID
		if !overwrite {
			continue
		}
		r, err := m.onto(row)
		if err != nil {
			return c, err
		}
		changed = append(changed, r)
	}
	for chunk := range slices.Chunk(changed, insertBatch(tx)) {
		updated, err := insertMembers(tx, chunk, "ON CONFLICT (email_key) DO UPDATE SET "+updateSet)
		if err != nil {
			return c, err
		}
		if len(updated) != len(chunk) {
			return c, fmt.Errorf("updated %d members of %d", len(updated), len(chunk))
		}
		c.Updated += len(chunk)
	}

	return c, seedMemberships(tx, members, ids, overwrite)
}

// seedMemberships stores the memberships of members (ids by email key, every member locked):
// new ones with their roles; existing ones, with overwrite, gain their roles.
func seedMemberships(tx *gorm.DB, members []SeedMember, ids map[string]int64, overwrite bool) error {
	memberIDs := make([]int64, 0, len(ids))
	for _, id := range ids {
		memberIDs = append(memberIDs, id)
	}
	type key struct {
		member int64
		org    string
	}
	existing := map[key][]string{}
	for chunk := range slices.Chunk(memberIDs, seedBatch) {
		var rows []membershipRow
		if err := tx.Where("member_id IN ?", chunk).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			existing[key{r.MemberID, r.OrganizationID}] = splitRoles(r.Roles)
		}
	}
	var fresh, changed []membershipRow
	for _, m := range members {
		id := ids[strings.ToLower(m.Email)]
		for _, ms := range m.Organizations {
			had, ok := existing[key{id, ms.Organization}]
			if !ok {
				fresh = append(fresh, membershipRow{MemberID: id, OrganizationID: ms.Organization, Roles: joinRoles(ms.Roles)})
				continue
			}
			roles := had
			for _, r := range ms.Roles {
				if !slices.Contains(roles, r) {
					roles = append(roles, r)
				}
			}
			if overwrite && len(roles) != len(had) {
				changed = append(changed, membershipRow{MemberID: id, OrganizationID: ms.Organization, Roles: joinRoles(roles)})
			}
		}
	}
	if len(fresh) > 0 {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&fresh, insertBatch(tx)*4).Error; err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		upsert := clause.OnConflict{Columns: []clause.Column{{Name: "member_id"}, {Name: "organization_id"}}, DoUpdates: clause.AssignmentColumns([]string{"roles"})}
		if err := tx.Clauses(upsert).CreateInBatches(&changed, insertBatch(tx)*4).Error; err != nil {
			return err
		}
	}
	return nil
}

// onto is row, the stored member, changed by m as SeedMember says.
func (m SeedMember) onto(row memberRow) (memberRow, error) {
	cur, err := row.member()
	if err != nil {
		return memberRow{}, err
	}
	cur.Email, cur.FirstName, cur.LastName, cur.PasswordHash = m.Email, m.FirstName, m.LastName, m.PasswordHash
	if m.SetActive {
		cur.Active = m.Active
	}
	if m.SetReceiveEmail {
		cur.ReceiveEmail = m.ReceiveEmail
	}
	if m.SetLocale {
		cur.Locale = m.Locale
	}
	if cur.Dynamic == nil {
		cur.Dynamic = map[string]any{}
	}
	maps.Copy(cur.Dynamic, m.Dynamic)
	return toRow(&cur)
}

// lockMembers reads the members whose email keys are keys, locking them (store.ForUpdate), by
// email key.
func lockMembers(tx *gorm.DB, keys []string) (map[string]memberRow, error) {
	out := map[string]memberRow{}
	for chunk := range slices.Chunk(keys, seedBatch) {
		var rows []memberRow
		if err := store.ForUpdate(tx).Where("email_key IN ?", chunk).Order("id").Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.EmailKey] = r
		}
	}
	return out, nil
}

// memberColumns are the columns insertMembers writes: all but the id.
var memberColumns = []string{"email", "email_key", "first_name", "last_name", "active", "receive_email", "roles", "locale", "password_hash", "dynamic", "parent_organization_id", "created_at"}

// updateSet are the columns an existing member takes from the seed's row (updateSet's rows
// carry the kept values of the others): all but the email key, the parent organization and the
// creation time.
var updateSet = func() string {
	var set []string
	for _, c := range memberColumns {
		if c != "email_key" && c != "parent_organization_id" && c != "created_at" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return strings.Join(set, ", ")
}()

// insertMembers inserts rows in one statement that ends with conflict (an ON CONFLICT clause on
// email_key, the same in SQLite and PostgreSQL) and returns the ids of the rows it inserted or
// updated, by email key. GORM's batch create cannot say which rows an ON CONFLICT DO NOTHING
// skipped; RETURNING can.
func insertMembers(tx *gorm.DB, rows []memberRow, conflict string) (map[string]int64, error) {
	var q strings.Builder
	q.WriteString("INSERT INTO occstore_members (" + strings.Join(memberColumns, ", ") + ") VALUES ")
	marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(memberColumns)), ", ") + ")"
	args := make([]any, 0, len(rows)*len(memberColumns))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(marks)
		args = append(args, r.Email, r.EmailKey, r.FirstName, r.LastName, r.Active, r.ReceiveEmail, r.Roles, r.Locale,
			r.PasswordHash, r.Dynamic, r.ParentOrganizationID, r.CreatedAt)
	}
	q.WriteString(" " + conflict + " RETURNING id, email_key")
	var out []struct {
		ID       int64
		EmailKey string
	}
	if err := tx.Raw(q.String(), args...).Scan(&out).Error; err != nil {
		return nil, err
	}
	ids := make(map[string]int64, len(out))
	for _, r := range out {
		ids[r.EmailKey] = r.ID
	}
	return ids, nil
}

// ReplacePasswordHash stores hash as the password hash of the member id if its hash is still
// old (store.ReplaceHash).
func (s *DBStore) ReplacePasswordHash(ctx context.Context, id int64, old, hash string) error {
	return store.ReplaceHash(ctx, s.db, &memberRow{}, id, old, hash)
}

// Page reads the members of every organization ordered by id, from offset, at most limit, and
// how many there are.
func (s *DBStore) Page(ctx context.Context, offset, limit int) ([]Member, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&memberRow{}).Count(&total).Error; err != nil {
		return nil, 0, store.Classify(err, "count members", nil, nil)
	}
	var rows []memberRow
	if err := store.PageByID(db.Model(&memberRow{}), db.Model(&memberRow{}), "id", offset, limit).Find(&rows).Error; err != nil {
		return nil, 0, store.Classify(err, "list members", nil, nil)
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		m, err := r.member()
		if err != nil {
			return nil, 0, err
		}
		out[i] = m
	}
	return out, total, nil
}

// MembershipsOf reads the organizations each of members belongs to, with its roles in each, in
// id order.
func (s *DBStore) MembershipsOf(ctx context.Context, members []int64) (map[int64][]Membership, error) {
	out := map[int64][]Membership{}
	for chunk := range slices.Chunk(members, seedBatch) {
		var rows []membershipView
		if err := s.memberships(ctx).Where("ms.member_id IN ?", chunk).Order("ms.member_id, o.id").Scan(&rows).Error; err != nil {
			return nil, store.Classify(err, "read memberships", nil, nil)
		}
		for _, r := range rows {
			out[r.MemberID] = append(out[r.MemberID], r.membership())
		}
	}
	return out, nil
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
		Active: m.Active, ReceiveEmail: m.ReceiveEmail, Roles: ",",
		Locale: m.Locale, PasswordHash: hash, Dynamic: string(js), ParentOrganizationID: m.ParentOrganization,
		CreatedAt: m.CreatedAt,
	}, nil
}

func (r memberRow) member() (Member, error) {
	m := Member{
		ID: r.ID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Active: r.Active,
		ReceiveEmail: r.ReceiveEmail, Locale: r.Locale, ParentOrganization: r.ParentOrganizationID, CreatedAt: r.CreatedAt.UTC(),
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
