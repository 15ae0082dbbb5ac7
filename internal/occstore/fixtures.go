package occstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/openapi"
)

// Fixtures is the OCC store API's section of a fixtures file: B2B organizations with their
// delegated administrators and other members, who log in with email and password.
type Fixtures struct {
	Organizations []OrganizationFixture `yaml:"organizations"`
}

// OrganizationFixture is a B2B organization with its delegated administrators and, optionally,
// other members that can log in (buyers, say).
type OrganizationFixture struct {
	ID      string          `yaml:"id"`
	Name    string          `yaml:"name"`
	Active  *bool           `yaml:"active"`
	Admins  []MemberFixture `yaml:"admins"`
	Members []MemberFixture `yaml:"members"`
}

// MemberFixture is a member of an organization, in the fields of the create member body
// (POST /ccstore/v1/organizationMembers), so that such a body can be pasted: email, firstName,
// lastName, active, receiveEmail, roles, and any other key as a dynamic property. Beyond the
// body it has what the create call cannot set but a test needs: the password (in clear, or
// password_hash, pre-hashed) and the locale (which create takes from X-CCAsset-Language).
// active (default true), receiveEmail (default "no") and roles (default none) may be left out,
// as they always could in this section; an existing member then keeps its own active,
// receiveEmail and locale. Roles are role functions, given as the body gives them
// ({function: buyer}) or by name alone (buyer); admins always get admin besides. A key spelled
// like a field but for case, '_' or '-' (Password_Hash) is refused as a typo rather than kept as
// a dynamic property. One email (in any letter case) listed in several organizations is one
// member of each: its last listing gives its fields and password, and its roles in each
// organization are those listed there (roles belong to an organization, as in OCC).
type MemberFixture struct {
	Email        *string       `yaml:"email"`
	FirstName    *string       `yaml:"firstName"`
	LastName     *string       `yaml:"lastName"`
	Active       *bool         `yaml:"active"`
	ReceiveEmail *string       `yaml:"receiveEmail"`
	Roles        []RoleFixture `yaml:"roles"`
	Locale       *string       `yaml:"locale"`
	Password     *string       `yaml:"password"`
	PasswordHash *string       `yaml:"password_hash"`
	// Dynamic are the entry's other keys: dynamic properties, stored as create stores them.
	Dynamic map[string]yaml.Node `yaml:",inline"`
}

// RoleFixture is one role of a member: {function: admin} as the create body has it, or the
// function alone.
type RoleFixture struct {
	Function string `yaml:"function"`
}

// UnmarshalYAML reads a role in either form.
func (r *RoleFixture) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		r.Function = n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "function" {
				return fmt.Errorf("line %d: field %s not found in a role (known: function)", k.Line, k.Value)
			}
		}
		type plain RoleFixture
		return n.Decode((*plain)(r))
	}
	return fmt.Errorf("line %d: a role is a role function (admin or buyer) or {function: …}", n.Line)
}

// minPassword is the shortest password in clear a member may be given.
const minPassword = 8

var fixtures = module.Section(checkFixtures, prepareFixtures)

// fields are the keys of a member entry, by their form without case, '_' or '-': a dynamic
// property spelled like one of them is a typo, not a property.
var fields = func() map[string]string {
	out := map[string]string{}
	for _, f := range []string{"email", "firstName", "lastName", "active", "receiveEmail", "roles", "locale", "password", "password_hash"} {
		out[fold(f)] = f
	}
	return out
}()

var separators = strings.NewReplacer("_", "", "-", "")

func fold(name string) string { return strings.ToLower(separators.Replace(name)) }

// checkFixtures lists every problem of every organization and member entry, each with its path
// in the section (organizations[0].members[2].email: …). A member entry is checked as the create
// member call checks its body (the spec's MemberCreate schema, OCC's messages, the reserved
// dynamic property names), and its password as below. One email (in any letter case) may be
// listed once per organization; listed in several organizations, it is one member of each.
func checkFixtures(_ module.Env, f *Fixtures) []error {
	sch, err := loadSchemas()
	if err != nil {
		return []error{fmt.Errorf("organizations: %w", err)}
	}
	var errs []error
	orgs := map[string]int{}
	for i, o := range f.Organizations {
		at := fmt.Sprintf("organizations[%d]", i)
		for _, field := range []struct{ name, value string }{{"id", o.ID}, {"name", o.Name}} {
			switch {
			case field.value == "":
				errs = append(errs, fmt.Errorf("%s.%s: is required", at, field.name))
			case strings.ContainsRune(field.value, 0):
				errs = append(errs, fmt.Errorf("%s.%s: must not contain U+0000", at, field.name))
			}
		}
		if j, dup := orgs[o.ID]; dup && o.ID != "" {
			errs = append(errs, fmt.Errorf("%s.id: %s is also the id of organizations[%d]", at, o.ID, j))
		} else {
			orgs[o.ID] = i
		}
		emails := map[string]string{}
		for _, l := range listsOf(o) {
			list := l.name
			for j, m := range l.entries {
				path := fmt.Sprintf("%s.%s[%d]", at, list, j)
				errs = append(errs, checkMember(sch, path, m)...)
				if m.Email == nil || *m.Email == "" {
					continue
				}
				key := strings.ToLower(*m.Email)
				if first, dup := emails[key]; dup {
					errs = append(errs, fmt.Errorf("%s.email: %s is listed twice in %s (also %s)", path, *m.Email, at, first))
				} else {
					emails[key] = fmt.Sprintf("%s[%d]", list, j)
				}
			}
		}
	}
	return errs
}

// memberList is one of an organization's member lists, by its key in the section.
type memberList struct {
	name    string
	entries []MemberFixture
}

// listsOf are an organization's member lists, admins first.
func listsOf(o OrganizationFixture) []memberList {
	return []memberList{{"admins", o.Admins}, {"members", o.Members}}
}

// checkMember lists the problems of the member entry at path, sorted by field.
func checkMember(sch schemas, path string, m MemberFixture) []error {
	type problem struct{ field, message string }
	var ps []problem
	add := func(field, message string) { ps = append(ps, problem{field, message}) }

	dyn := map[string]any{}
	for name, node := range m.Dynamic {
		if known, ok := fields[fold(name)]; ok {
			add(name, fmt.Sprintf("not a field of a member entry (did you mean %s?)", known))
			continue
		}
		v, err := jsonValue(&node)
		if err != nil {
			add(name, err.Error())
			continue
		}
		dyn[name] = v
	}
	for _, e := range apperr.All(checkDynamic(dyn)) {
		add(strings.TrimPrefix(e.Field, "/"), e.Message)
	}
	body := m.body(dyn)
	for _, is := range createIssues(sch.create, body) {
		add(is.Field, dialect.Classify(is).Message)
	}
	if m.Locale != nil {
		if err := sch.locale.VisitJSON(*m.Locale); err != nil {
			add("locale", dialect.Classify(httpserver.Issue{In: "body", Field: "locale", Value: *m.Locale}).Message)
		}
	}
	switch {
	case m.Password != nil && m.PasswordHash != nil:
		add("", "give password or password_hash, not both")
	case m.Password == nil && m.PasswordHash == nil:
		add("password", "is required (or password_hash, pre-hashed)")
	case m.Password != nil && len(*m.Password) < minPassword:
		add("password", fmt.Sprintf("must be at least %d characters long", minPassword))
	case m.PasswordHash != nil:
		if _, err := password.Import(*m.PasswordHash); err != nil {
			add("password_hash", err.Error())
		}
	}

	slices.SortStableFunc(ps, func(a, b problem) int { return strings.Compare(a.field, b.field) })
	out := make([]error, len(ps))
	for i, p := range ps {
		at := path
		if p.field != "" {
			at += "." + p.field
		}
		out[i] = fmt.Errorf("%s: %s", at, p.message)
	}
	return out
}

// body is the entry as a create member body, with the defaults of the fields it leaves out
// that the body requires; dyn are its dynamic properties as JSON values.
func (m MemberFixture) body(dyn map[string]any) map[string]any {
	body := map[string]any{"active": true, "receiveEmail": "no"}
	for k, v := range dyn {
		body[k] = v
	}
	for name, v := range map[string]*string{"email": m.Email, "firstName": m.FirstName, "lastName": m.LastName, "receiveEmail": m.ReceiveEmail} {
		if v != nil {
			body[name] = *v
		}
	}
	if m.Active != nil {
		body["active"] = *m.Active
	}
	roles := make([]any, len(m.Roles))
	for i, r := range m.Roles {
		roles[i] = map[string]any{"function": r.Function}
	}
	body["roles"] = roles
	return body
}

// schemas are the schemas of the spec that a member entry is checked with: the create member
// body's and that of X-CCAsset-Language, the header create takes the locale from.
type schemas struct{ create, locale *openapi3.Schema }

// loadSchemas reads them from the API's spec, once.
var loadSchemas = sync.OnceValues(func() (schemas, error) {
	_, doc, err := openapi.Load(Name)
	if err != nil {
		return schemas{}, err
	}
	return schemas{
		create: doc.Components.Schemas["MemberCreate"].Value,
		locale: doc.Components.Parameters["AssetLanguage"].Value.Schema.Value,
	}, nil
})

// createIssues are the problems the create call's request validation finds in body, in the
// shape the OCC error renderer classifies: the schema's, as the validator finds them (U+0000 in
// a string of the member's fields included; in dynamic properties, checkDynamic finds it).
func createIssues(schema *openapi3.Schema, body map[string]any) []httpserver.Issue {
	return httpserver.SchemaIssues(schema, body)
}

// jsonNumber is a JSON number literal: such a YAML number is kept exactly as written.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// jsonValue is a dynamic property's YAML value as the JSON value the create body would carry:
// numbers as json.Number (as the API keeps them), dates and times as the text written.
func jsonValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return jsonValue(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := jsonValue(c)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not supported in a dynamic property", n.Content[i].Line)
			}
			v, err := jsonValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[n.Content[i].Value] = v
		}
		return out, nil
	case yaml.ScalarNode:
		return jsonScalar(n)
	}
	return nil, fmt.Errorf("line %d: not a JSON value", n.Line)
}

func jsonScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int", "!!float":
		if jsonNumber.MatchString(n.Value) {
			return json.Number(n.Value), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		var i int64
		if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return n.Value, nil
}

// prepareFixtures turns the section into the members to store: one per email (whatever its
// letter case), in the order first listed, with the organizations listing it; the last listing
// gives its fields and password, and its roles in each organization are those of the listings
// there. Passwords in clear
// are hashed here, before the start-up lock is taken, while other instances may hold it;
// pre-hashed ones are stored as given.
func prepareFixtures(ctx context.Context, env module.Env, f *Fixtures) (module.Write, error) {
	seed := Seed{}
	index := map[string]int{}
	plain := map[int]string{}
	now := env.Now().UTC()
	for _, o := range f.Organizations {
		seed.Organizations = append(seed.Organizations, Organization{ID: o.ID, Name: o.Name, Active: o.Active == nil || *o.Active})
		for _, l := range listsOf(o) {
			for _, a := range l.entries {
				key := strings.ToLower(deref(a.Email))
				i, ok := index[key]
				if !ok {
					i = len(seed.Members)
					index[key] = i
					seed.Members = append(seed.Members, SeedMember{Member: Member{
						Active: true, ReceiveEmail: "no", Dynamic: map[string]any{}, ParentOrganization: o.ID, CreatedAt: now,
					}})
				}
				if err := seed.Members[i].take(l.name, o.ID, a); err != nil {
					return nil, err
				}
				if a.Password != nil {
					plain[i] = *a.Password
				} else {
					delete(plain, i)
				}
			}
		}
	}
	if err := hashAll(ctx, env.Hasher, seed.Members, plain); err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, applied module.Applied) error {
		done, err := NewStore(tx).Seed(ctx, seed, overwrite)
		if err != nil {
			return err
		}
		for kind, c := range map[string]module.Count{"organizations": done.Organizations, "members": done.Members} {
			for range c.Created {
				applied.Add(kind, true)
			}
			for range c.Updated {
				applied.Add(kind, false)
			}
		}
		return nil
	}, nil
}

// take applies one listing of the member, in the organization org, to s.
func (s *SeedMember) take(list, org string, a MemberFixture) error {
	m := &s.Member
	m.Email, m.FirstName, m.LastName = deref(a.Email), deref(a.FirstName), deref(a.LastName)
	i := slices.IndexFunc(s.Organizations, func(ms SeedMembership) bool { return ms.Organization == org })
	if i < 0 {
		i = len(s.Organizations)
		s.Organizations = append(s.Organizations, SeedMembership{Organization: org})
	}
	ms := &s.Organizations[i]
	var roles []string
	if list == "admins" {
		roles = append(roles, RoleAdmin)
	}
	for _, r := range a.Roles {
		roles = append(roles, r.Function)
	}
	for _, r := range roles {
		if !slices.Contains(ms.Roles, r) {
			ms.Roles = append(ms.Roles, r)
		}
	}
	if a.Active != nil {
		m.Active, s.SetActive = *a.Active, true
	}
	if a.ReceiveEmail != nil {
		m.ReceiveEmail, s.SetReceiveEmail = *a.ReceiveEmail, true
	}
	if a.Locale != nil {
		locale := *a.Locale
		m.Locale, s.SetLocale = &locale, true
	}
	for name, node := range a.Dynamic {
		v, err := jsonValue(&node)
		if err != nil {
			return err // checked already
		}
		m.Dynamic[name] = v
	}
	if a.PasswordHash != nil {
		hash, err := password.Import(*a.PasswordHash)
		if err != nil {
			return err
		}
		m.PasswordHash = hash
	}
	return nil
}

// hashAll hashes the passwords in clear of members (by index) with the server's hasher.
func hashAll(ctx context.Context, hasher *password.Hasher, members []SeedMember, plain map[int]string) error {
	var at []int
	var pws []string
	for i, pw := range plain {
		at = append(at, i)
		pws = append(pws, pw)
	}
	hashes, err := hasher.HashAll(ctx, pws)
	if err != nil {
		return err
	}
	for k, i := range at {
		members[i].Member.PasswordHash = hashes[k]
	}
	return nil
}

// deref is *p, or "" for nil (a field the check found missing).
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
