package scimsql

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/provisiond/provisiond/internal/occ/scim"
)

func fCmp(attr, op string, v any) scim.Comparison {
	return scim.Comparison{Attr: attr, Op: op, Value: v}
}
func fAnd(l, r scim.Filter) scim.And { return scim.And{Left: l, Right: r} }
func fOr(l, r scim.Filter) scim.Or   { return scim.Or{Left: l, Right: r} }

// short abbreviates s for test messages.
func filterShort(s string) string {
	if len(s) <= 80 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:60], len(s))
}

var filterTestColumns = map[string]Column{
	"email":     StringColumn("email"),
	"firstName": StringColumn("first_name"),
	"lastName":  StringColumn("last_name"),
	"active":    BoolColumn("active"),
	"roles":     ListColumn("roles"),
}

// filterSQLTests are filters and the SQL Where renders them as over filterTestColumns.
var filterSQLTests = []struct {
	in   string
	sql  string
	args []any
}{
	// StringColumn: both sides lower-cased; % _ ! escaped with ! in co and sw.
	{`email eq "Amber@Example.COM"`, `(lower(email) = ?)`, []any{"amber@example.com"}},
	{`email eq "50%_off!"`, `(lower(email) = ?)`, []any{"50%_off!"}},
	{`firstName co "Mb"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"%mb%"}},
	{`firstName co "50%_OFF!"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"%50!%!_off!!%"}},
	{`lastName sw "O'Brien"`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{"o'brien%"}},
	{`lastName sw "a\\b%"`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{`a\b!%%`}},
	{`lastName co ""`, `(lower(last_name) LIKE ? ESCAPE '!')`, []any{"%%"}},
	{`firstName eq "JOSÉ"`, `(lower(first_name) = ?)`, []any{"josé"}},
	// Attribute names are looked up case-insensitively.
	{`EMAIL eq "x"`, `(lower(email) = ?)`, []any{"x"}},
	{`FIRSTNAME sw "x"`, `(lower(first_name) LIKE ? ESCAPE '!')`, []any{"x%"}},
	// BoolColumn.
	{`active eq true`, `(active = ?)`, []any{true}},
	{`Active EQ FALSE`, `(active = ?)`, []any{false}},
	// ListColumn.
	{`roles eq "Admin"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,admin,%"}},
	{`roles co "dm"`, `(roles LIKE ? ESCAPE '!')`, []any{"%dm%"}},
	{`roles sw "AD"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,ad%"}},
	{`roles eq "a_b%!"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,a!_b!%!!,%"}},
	{`roles co "a_b"`, `(roles LIKE ? ESCAPE '!')`, []any{"%a!_b%"}},
	{`roles sw "%"`, `(roles LIKE ? ESCAPE '!')`, []any{"%,!%%"}},
	{`roles eq ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,,%"}},
	{`roles co ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,%,%"}},
	{`roles sw ""`, `(roles LIKE ? ESCAPE '!')`, []any{"%,%,%"}},
	{`roles eq "admin,buyer"`, `(1 = 0)`, []any{}},
	{`roles co "n,b"`, `(1 = 0)`, []any{}},
	{`roles sw ","`, `(1 = 0)`, []any{}},
	// Full parenthesization keeps precedence; arguments follow the placeholders' order.
	{`email eq "A" or firstName co "B" and active eq true`,
		`((lower(email) = ?) OR ((lower(first_name) LIKE ? ESCAPE '!') AND (active = ?)))`,
		[]any{"a", "%b%", true}},
	{`(email eq "A" or firstName co "B") and active eq false`,
		`(((lower(email) = ?) OR (lower(first_name) LIKE ? ESCAPE '!')) AND (active = ?))`,
		[]any{"a", "%b%", false}},
	{`email eq "1" or email eq "2" or email eq "3"`,
		`(((lower(email) = ?) OR (lower(email) = ?)) OR (lower(email) = ?))`,
		[]any{"1", "2", "3"}},
	{`email eq "1" and (roles eq "x,y" or roles eq "z")`,
		`((lower(email) = ?) AND ((1 = 0) OR (roles LIKE ? ESCAPE '!')))`,
		[]any{"1", "%,z,%"}},
}

func TestWhere(t *testing.T) {
	for _, tc := range filterSQLTests {
		f, err := scim.ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		sql, args, err := Where(f, filterTestColumns)
		if err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("Where(%q):\n got %q %#v %v\nwant %q %#v", tc.in, sql, args, err, tc.sql, tc.args)
		}
	}
}

func TestWhereErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{`phone eq "1"`, `unknown attribute "phone"`},
		{`email eq "a" and (active eq true or Phone co "1")`, `unknown attribute "Phone"`},
		{`email eq true`, `attribute "email" takes a string`},
		{`EMAIL co 1`, `attribute "EMAIL" takes a string`},
		{`lastName sw false`, `attribute "lastName" takes a string`},
		{`active eq "true"`, `attribute "active" takes true or false`},
		{`active eq 1`, `attribute "active" takes true or false`},
		{`active co "t"`, `attribute "active" does not support operator "co"`},
		{`active sw true`, `attribute "active" does not support operator "sw"`},
		{`roles eq false`, `attribute "roles" takes a string`},
		{`roles co 2`, `attribute "roles" takes a string`},
		{`email eq "a" or roles eq true`, `attribute "roles" takes a string`},
		{`a` + strings.Repeat("b", 3000) + ` eq "x"`, `unknown attribute "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"...`},
	}
	for _, tc := range tests {
		f, err := scim.ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", filterShort(tc.in), err)
			continue
		}
		sql, args, err := Where(f, filterTestColumns)
		var fe *scim.FilterError
		if !errors.As(err, &fe) || fe.Msg != tc.msg || fe.Pos != 0 {
			t.Errorf("Where(%q): got %q %v %v, want a *scim.FilterError at 0 %q", filterShort(tc.in), sql, args, err, tc.msg)
		}
	}
}

// TestWhereTrees renders trees built by hand: pointers, a nil filter, unknown operators and value
// types, and column keys that differ only in case.
func TestWhereTrees(t *testing.T) {
	upper := func(op string, value any) (string, []any, error) { return "UPPER = ?", []any{value}, nil }
	lower := func(op string, value any) (string, []any, error) { return "lower = ?", []any{value}, nil }
	failing := func(op string, value any) (string, []any, error) { return "", nil, errors.New("boom") }
	columns := map[string]Column{"Name": upper, "name": lower, "NAME": upper, "x": StringColumn("x"), "f": failing, "nil": nil}
	tests := []struct {
		f    scim.Filter
		sql  string
		args []any
		err  string
	}{
		{f: fCmp("name", "eq", "v"), sql: "(lower = ?)", args: []any{"v"}},
		{f: fCmp("nAmE", "eq", "v"), sql: "(UPPER = ?)", args: []any{"v"}}, // NAME < Name
		{f: &scim.And{Left: &scim.Comparison{Attr: "x", Op: "eq", Value: "A"}, Right: &scim.Or{Left: fCmp("x", "co", "B"), Right: fCmp("x", "sw", "C")}},
			sql: "((lower(x) = ?) AND ((lower(x) LIKE ? ESCAPE '!') OR (lower(x) LIKE ? ESCAPE '!')))", args: []any{"a", "%b%", "c%"}},
		{f: nil, err: "missing filter"},
		{f: (*scim.And)(nil), err: "missing filter"},
		{f: (*scim.Comparison)(nil), err: "missing filter"},
		{f: fOr(fCmp("x", "eq", "a"), nil), err: "missing filter"},
		{f: fAnd((*scim.Or)(nil), fCmp("x", "eq", "a")), err: "missing filter"},
		{f: fCmp("x", "gt", "a"), err: `attribute "x" does not support operator "gt"`},
		{f: fCmp("x", "EQ", "a"), err: `attribute "x" does not support operator "EQ"`},
		{f: fCmp("x", "eq", 3), err: `attribute "x" takes a string`},
		{f: fCmp("x", "eq", nil), err: `attribute "x" takes a string`},
		{f: fCmp("f", "eq", "a"), err: `attribute "f": boom`},
		{f: fCmp("nil", "eq", "a"), err: `unknown attribute "nil"`},
		{f: fCmp("name", "eq", "a"), sql: "(lower = ?)", args: []any{"a"}},
	}
	for _, tc := range tests {
		sql, args, err := Where(tc.f, columns)
		var fe *scim.FilterError
		switch {
		case tc.err != "":
			if !errors.As(err, &fe) || fe.Msg != tc.err {
				t.Errorf("Where(%#v): got %q %v %v, want a *scim.FilterError %q", tc.f, sql, args, err, tc.err)
			}
		case err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args):
			t.Errorf("Where(%#v):\n got %q %#v %v\nwant %q %#v", tc.f, sql, args, err, tc.sql, tc.args)
		}
	}

	deep := scim.Filter(fCmp("x", "eq", "a"))
	for range maxSQLDepth + 1 {
		deep = fAnd(fCmp("x", "eq", "a"), deep)
	}
	if _, _, err := Where(deep, columns); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Where(tree %d deep): got %v, want an error", maxSQLDepth+1, err)
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name  string
		col   Column
		op    string
		value any
		sql   string
		args  []any
		err   string
	}{
		{"string eq", StringColumn("u.email"), "eq", "A_B", "lower(u.email) = ?", []any{"a_b"}, ""},
		{"string co", StringColumn("u.email"), "co", "A_B", "lower(u.email) LIKE ? ESCAPE '!'", []any{"%a!_b%"}, ""},
		{"string sw", StringColumn("u.email"), "sw", "!x", "lower(u.email) LIKE ? ESCAPE '!'", []any{"!!x%"}, ""},
		{"string gt", StringColumn("u.email"), "gt", "x", "", nil, `does not support operator "gt"`},
		{"string number", StringColumn("u.email"), "eq", 1.0, "", nil, "takes a string"},
		{"key eq", KeyColumn("u.email_key"), "eq", "A_B", "u.email_key = ?", []any{"a_b"}, ""},
		{"key co", KeyColumn("u.email_key"), "co", "A_B", "u.email_key LIKE ? ESCAPE '!'", []any{"%a!_b%"}, ""},
		{"key sw", KeyColumn("u.email_key"), "sw", "!X", "u.email_key LIKE ? ESCAPE '!'", []any{"!!x%"}, ""},
		{"key gt", KeyColumn("u.email_key"), "gt", "x", "", nil, `does not support operator "gt"`},
		{"key number", KeyColumn("u.email_key"), "eq", 1.0, "", nil, "takes a string"},
		{"bool eq", BoolColumn("u.active"), "eq", true, "u.active = ?", []any{true}, ""},
		{"bool co", BoolColumn("u.active"), "co", true, "", nil, `does not support operator "co"`},
		{"bool string", BoolColumn("u.active"), "eq", "true", "", nil, "takes true or false"},
		{"list eq", ListColumn("u.roles"), "eq", "Buyer", "u.roles LIKE ? ESCAPE '!'", []any{"%,buyer,%"}, ""},
		{"list co", ListColumn("u.roles"), "co", "UY", "u.roles LIKE ? ESCAPE '!'", []any{"%uy%"}, ""},
		{"list sw", ListColumn("u.roles"), "sw", "b_", "u.roles LIKE ? ESCAPE '!'", []any{"%,b!_%"}, ""},
		{"list comma", ListColumn("u.roles"), "sw", "b,", "1 = 0", []any{}, ""},
		{"list ne", ListColumn("u.roles"), "ne", "b", "", nil, `does not support operator "ne"`},
		{"list bool", ListColumn("u.roles"), "eq", false, "", nil, "takes a string"},
	}
	for _, tc := range tests {
		sql, args, err := tc.col(tc.op, tc.value)
		if tc.err != "" {
			var fe *scim.FilterError
			if !errors.As(err, &fe) || fe.Msg != tc.err {
				t.Errorf("%s: %s %#v: got %q %v %v, want a *scim.FilterError %q", tc.name, tc.op, tc.value, sql, args, err, tc.err)
			}
			continue
		}
		if err != nil || sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%s: %s %#v:\n got %q %#v %v\nwant %q %#v", tc.name, tc.op, tc.value, sql, args, err, tc.sql, tc.args)
		}
	}
}

// envDatabaseURL names the PostgreSQL database the database test also runs on when it is set.
const filterEnvDatabaseURL = "PROVISIOND_TEST_DATABASE_URL"

type filterPerson struct {
	id                         int
	email, firstName, lastName string
	lastNameNull               bool
	active                     bool
	roles                      string
}

var filterPeople = []filterPerson{
	{1, "amber@example.com", "Amber", "Adams", false, true, ",admin,buyer,"},
	{2, "Bob@Example.com", "Bob", "Smith", false, true, ",buyer,"},
	{3, "carol@example.com", "Carol", "Adamson", false, false, ",approver,"},
	{4, "dave@example.org", "Dave", "", true, true, ""},
	{5, "50%off@example.com", "Eve", "Percent", false, false, ",buyer,"},
	{6, "under_score@example.com", "Frank", "O'Neil", false, true, ",admin,"},
	{7, "jose@example.com", "José", "Núñez", false, false, ",account-manager,"},
	{8, "bang!@example.com", "Grace", `Back\slash`, false, true, ",administrator,"},
}

// dbTests are filters and the sorted ids of the people they select.
var filterDBTests = []struct {
	in  string
	ids []int
}{
	{`email eq "Amber@Example.com"`, []int{1}},
	{`email eq "bob@EXAMPLE.com"`, []int{2}},
	{`email eq "nobody@example.com"`, nil},
	{`firstName co "mb"`, []int{1}},
	{`firstName co "A"`, []int{1, 3, 4, 6, 8}},
	{`firstName eq "JOSÉ"`, []int{7}},
	{`firstName co "\u00e9"`, []int{7}},
	{`lastName sw "Ad"`, []int{1, 3}},
	{`lastName co ""`, []int{1, 2, 3, 5, 6, 7, 8}},
	{`lastName co "\\"`, []int{8}},
	{`lastName co "'"`, []int{6}},
	{`active eq false`, []int{3, 5, 7}},
	{`active eq TRUE`, []int{1, 2, 4, 6, 8}},
	{`roles eq "admin"`, []int{1, 6}},
	{`roles eq "ADMIN"`, []int{1, 6}},
	{`roles eq "adm"`, nil},
	{`roles eq "account-manager"`, []int{7}},
	{`roles sw "adm"`, []int{1, 6, 8}},
	{`roles sw "uyer"`, nil},
	{`roles co "uyer"`, []int{1, 2, 5}},
	{`roles co "min"`, []int{1, 6, 8}},
	{`roles co "n,b"`, nil},
	{`roles eq "admin,buyer"`, nil},
	{`roles co ""`, []int{1, 2, 3, 5, 6, 7, 8}},
	{`roles co "_"`, nil},
	{`email co "%"`, []int{5}},
	{`email co "_"`, []int{6}},
	{`email co "!"`, []int{8}},
	{`email sw "50%"`, []int{5}},
	{`email sw "5_"`, nil},
	{`lastName sw "ad" and active eq true`, []int{1}},
	{`lastName sw "ad" or roles eq "buyer"`, []int{1, 2, 3, 5}},
	{`(lastName sw "ad" or roles eq "buyer") and active eq false`, []int{3, 5}},
	{`lastName sw "ad" or roles eq "buyer" and active eq false`, []int{1, 3, 5}},
	{`active eq false and lastName sw "ad" or roles eq "buyer"`, []int{1, 2, 3, 5}},
	{`active eq false and (lastName sw "ad" or roles eq "buyer")`, []int{3, 5}},
	{`email co "@example.org" or (firstName eq "eve" and roles co "buy")`, []int{4, 5}},
	{`EMAIL SW "A" OR Roles Eq "Approver"`, []int{1, 3}},
	{`roles eq "a,b" or email eq "bob@example.com"`, []int{2}},
}

func TestFilterDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "f.db")), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatalf("open SQLite: %v", err)
		}
		t.Cleanup(func() { filterCloseDB(db) })
		runFilterDatabaseTests(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(filterEnvDatabaseURL)
		if base == "" {
			t.Skip(filterEnvDatabaseURL + " is not set")
		}
		cfg := &gorm.Config{Logger: logger.Discard}
		admin, err := gorm.Open(postgres.Open(base), cfg)
		if err != nil {
			t.Fatalf("open %s: %v", filterEnvDatabaseURL, err)
		}
		t.Cleanup(func() { filterCloseDB(admin) })
		schema := "f_" + strings.ToLower(rand.Text())
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", filterEnvDatabaseURL, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := gorm.Open(postgres.Open(u.String()), cfg)
		if err != nil {
			t.Fatalf("open schema %s: %v", schema, err)
		}
		t.Cleanup(func() { filterCloseDB(db) }) // before the schema is dropped
		runFilterDatabaseTests(t, db)
	})
}

func filterCloseDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

func runFilterDatabaseTests(t *testing.T, db *gorm.DB) {
	t.Helper()
	err := db.Exec(`CREATE TABLE people (
		id INTEGER PRIMARY KEY,
		email TEXT NOT NULL,
		first_name TEXT NOT NULL,
		last_name TEXT,
		active BOOLEAN NOT NULL,
		roles TEXT NOT NULL
	)`).Error
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	for _, p := range filterPeople {
		var lastName any = p.lastName
		if p.lastNameNull {
			lastName = nil
		}
		err := db.Exec("INSERT INTO people (id, email, first_name, last_name, active, roles) VALUES (?, ?, ?, ?, ?, ?)",
			p.id, p.email, p.firstName, lastName, p.active, p.roles).Error
		if err != nil {
			t.Fatalf("insert %d: %v", p.id, err)
		}
	}
	for _, tc := range filterDBTests {
		f, err := scim.ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		where, args, err := Where(f, filterTestColumns)
		if err != nil {
			t.Errorf("Where(%q): %v", tc.in, err)
			continue
		}
		var ids []int
		if err := db.Raw("SELECT id FROM people WHERE "+where+" ORDER BY id", args...).Scan(&ids).Error; err != nil {
			t.Errorf("select %q (%s %v): %v", tc.in, where, args, err)
			continue
		}
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("select %q (%s %v): got ids %v, want %v", tc.in, where, args, ids, tc.ids)
		}
	}
}

func TestOrder(t *testing.T) {
	columns := map[string]string{"email": "email_key", "firstName": "first_name", "Name": "upper_name", "name": "lower_name", "NAME": "upper_name", "empty": ""}
	tests := []struct {
		in     scim.Sort
		order  string
		sorted scim.Sort
		ok     bool
	}{
		{scim.Sort{}, "", scim.Sort{}, true},
		{scim.Sort{Property: "email"}, "email_key asc", scim.Sort{Property: "email"}, true},
		{scim.Sort{Property: "firstName", Desc: true}, "first_name desc", scim.Sort{Property: "firstName", Desc: true}, true},
		// Properties are looked up as attributes are: case-insensitively, an exact match first,
		// otherwise the least matching key; the result names the property as the columns do.
		{scim.Sort{Property: "FIRSTNAME"}, "first_name asc", scim.Sort{Property: "firstName"}, true},
		{scim.Sort{Property: "name", Desc: true}, "lower_name desc", scim.Sort{Property: "name", Desc: true}, true},
		{scim.Sort{Property: "nAmE"}, "upper_name asc", scim.Sort{Property: "NAME"}, true},
		{scim.Sort{Property: "password"}, "", scim.Sort{}, false},
		{scim.Sort{Property: "empty"}, "", scim.Sort{}, false},
		{scim.Sort{Desc: true}, "", scim.Sort{}, false},
	}
	for _, tc := range tests {
		order, sorted, ok := Order(tc.in, columns)
		if order != tc.order || sorted != tc.sorted || ok != tc.ok {
			t.Errorf("Order(%+v): got %q %+v %v, want %q %+v %v", tc.in, order, sorted, ok, tc.order, tc.sorted, tc.ok)
		}
	}
}
