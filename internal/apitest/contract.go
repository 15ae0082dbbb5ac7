package apitest

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/store"
)

// EnvRaceRounds sets how many rounds each case of an UpdateContract races (default 3, so that
// `make test` stays fast; the closing figures of issue 10 use 100).
const EnvRaceRounds = "PROVISIOND_RACE_ROUNDS"

// HashKeys is how many concurrent updates the hash case of an UpdateContract sends, each
// adding its own key to the same record's hash.
const HashKeys = 50

// HashKey is the key the i-th update of the hash case adds; an adapter whose API accepts only
// defined keys defines these.
func HashKey(i int) string { return fmt.Sprintf("k%02d", i) }

// Updater is one API's adapter for an UpdateContract, over one running server. Records and
// changes are in a neutral shape, field name → JSON value, and the hash field an object of key →
// string; the adapter turns them into the API's own requests and responses.
type Updater interface {
	// Create creates a record and returns its id as the update's path spells it.
	Create(t testing.TB) string
	// Update sends one update of record id that sets exactly the fields of change, and returns the
	// answer. It is called from many goroutines at once, so it must not call t.Fatal.
	Update(t testing.TB, id string, change map[string]any) *Response
	// Read reads record id back, through the API or, where the API has no read, the database.
	Read(t testing.TB, id string) map[string]any
}

// UpdateContract is what the update of every API promises, the same on every database: an update
// changes only the fields it sends, so that concurrent updates of different fields all persist,
// as do concurrent updates that each add a key to a hash the update merges by key. An API's
// contract_test.go supplies the adapter and the fields, and Run checks the promise.
type UpdateContract struct {
	// Start starts the API's server on a fresh database of dialect and returns its adapter.
	Start func(t *testing.T, dialect string) Updater
	// Fields are fields that an update changes independently of each other, each with its
	// value in round r (which must differ from the value of round r-1).
	Fields map[string]func(r int) any
	// Hash names the field whose object an update merges by key (a key sent replaces the stored
	// one, the others stay), or "" when the API has none.
	Hash string
}

// Text is a field value for UpdateContract.Fields: prefix and the round.
func Text(prefix string) func(r int) any {
	return func(r int) any { return prefix + " " + strconv.Itoa(r) }
}

// Toggle is a field value for UpdateContract.Fields that alternates between a and b.
func Toggle(a, b any) func(r int) any {
	return func(r int) any {
		if r%2 == 0 {
			return a
		}
		return b
	}
}

// RaceRounds is the number of rounds that PROVISIOND_RACE_ROUNDS sets, 3 by default.
func RaceRounds(t testing.TB) int {
	t.Helper()
	s := os.Getenv(EnvRaceRounds)
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", EnvRaceRounds, s)
	}
	return n
}

// Run checks the contract on every database of Dialects: over RaceRounds rounds, one update per
// field sent at once, each changing its own field; and, when there is a hash, HashKeys updates
// sent at once, each adding its own key. After each round, every change that was acknowledged
// (2xx) must read back; every update must be acknowledged.
func (c UpdateContract) Run(t *testing.T) {
	rounds := RaceRounds(t)
	names := make([]string, 0, len(c.Fields))
	for name := range c.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	ForEachDialect(t, func(t *testing.T, dialect string) {
		u := c.Start(t, dialect)
		t.Run("different fields", func(t *testing.T) {
			id := u.Create(t)
			race(t, u, id, rounds, len(names), func(r, i int) (string, map[string]any, any) {
				return names[i], map[string]any{names[i]: c.Fields[names[i]](r)}, c.Fields[names[i]](r)
			}, func(got map[string]any, i int) any { return got[names[i]] })
		})
		if c.Hash == "" {
			return
		}
		t.Run("hash keys", func(t *testing.T) {
			id := u.Create(t)
			race(t, u, id, rounds, HashKeys, func(r, i int) (string, map[string]any, any) {
				v := fmt.Sprintf("r%d-%d", r, i)
				return c.Hash + "." + HashKey(i), map[string]any{c.Hash: map[string]any{HashKey(i): v}}, v
			}, func(got map[string]any, i int) any {
				hash, _ := got[c.Hash].(map[string]any)
				return hash[HashKey(i)]
			})
		})
	})
}

// race sends n updates of record id at once in each of rounds rounds: change(r, i) is the i-th
// update of round r (a name for messages, the change, the value it sets), and field(got, i) the
// value that update set as read back. It reports every update not acknowledged and every
// acknowledged change lost, the first few in detail, and the totals.
func race(t *testing.T, u Updater, id string, rounds, n int,
	change func(r, i int) (string, map[string]any, any), field func(got map[string]any, i int) any) {
	t.Helper()
	const detailed = 5
	failed, lost := 0, 0
	report := func(format string, args ...any) {
		t.Helper()
		if failed+lost <= detailed {
			t.Errorf(format, args...)
		}
	}
	for r := 1; r <= rounds; r++ {
		res := Concurrently(n, func(i int) *Response {
			_, ch, _ := change(r, i)
			return u.Update(t, id, ch)
		})
		got := u.Read(t, id)
		for i, res := range res {
			name, ch, want := change(r, i)
			if res.Status/100 != 2 {
				failed++
				report("round %d, update %s of %d at once: answered %d %s; want 2xx", r, JSONText(ch), n, res.Status, res.Body)
				continue
			}
			if v := field(got, i); !equalJSON(v, want) {
				lost++
				report("round %d, update %s of %d at once: answered %d, then %s read back %s; want %s", r, JSONText(ch), n, res.Status, name, JSONText(v), JSONText(want))
			}
		}
	}
	if failed+lost > 0 {
		t.Errorf("%d rounds of %d concurrent updates: %d not acknowledged, %d acknowledged changes lost; want 0 and 0", rounds, n, failed, lost)
	} else {
		t.Logf("%d rounds of %d concurrent updates: all acknowledged, no change lost", rounds, n)
	}
}

// equalJSON reports whether a and b are the same JSON value, whatever Go types hold them (a
// float64 or a json.Number, a []string or a []any).
func equalJSON(a, b any) bool {
	norm := func(v any) any {
		js, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("unencodable %#v", v)
		}
		m, err := DecodeObject([]byte(`{"v":` + string(js) + `}`))
		if err != nil {
			return fmt.Sprintf("undecodable %s", js)
		}
		return Canonical(m["v"])
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// Creator is one API's adapter for a CreateContract, over one running server.
type Creator interface {
	// CreateWith sends one create whose unique key (the email, or X-Cart's login) is key, and
	// returns the answer. It is called from many goroutines at once, so it must not call t.Fatal.
	CreateWith(t testing.TB, key string) *Response
	// Taken reports whether r is the API's own answer to a create whose key another record holds.
	Taken(t testing.TB, r *Response) bool
	// Stored is how many records hold key, in any letter case, as the database says.
	Stored(t testing.TB, key string) int64
	// Database is the server's database.
	Database() *gorm.DB
}

// ConcurrentCreates is how many creates of one key a CreateContract sends at once.
const ConcurrentCreates = 50

// CreateContract is what the create of every API promises, the same on every database: keys are
// unique in any letter case, and concurrent creates of one key, sent in two letter cases, make
// exactly one record; every other create is answered with the API's own "already taken".
type CreateContract struct {
	// Start starts the API's server on a fresh database of dialect and returns its adapter.
	Start func(t *testing.T, dialect string) Creator
	// Created is the status of a create that made a record.
	Created int
}

// Run checks the contract on every database of Dialects.
func (c CreateContract) Run(t *testing.T) {
	ForEachDialect(t, func(t *testing.T, dialect string) {
		cr := c.Start(t, dialect)
		keys := [2]string{"race@example.com", "RACE@example.com"}
		answers := Concurrently(ConcurrentCreates, func(i int) *Response { return cr.CreateWith(t, keys[i%2]) })
		created, taken := 0, 0
		for i, r := range answers {
			switch {
			case r.Status == c.Created:
				created++
			case cr.Taken(t, r):
				taken++
			default:
				t.Errorf("create %d of %s: answered %d %s; want %d, or the API's answer to a key taken", i, keys[i%2], r.Status, r.Body, c.Created)
			}
		}
		if stored := cr.Stored(t, keys[0]); created != 1 || taken != ConcurrentCreates-1 || stored != 1 {
			t.Errorf("%d concurrent creates of %s in two letter cases: %d created, %d answered taken, %d records stored; want 1, %d, 1",
				ConcurrentCreates, keys[0], created, taken, stored, ConcurrentCreates-1)
		}
		c.shareCommits(t, cr)
	})
}

// shareCommits checks that concurrent creates of distinct keys are each stored, and that each
// is one write of the database's group commits (on SQLite, where concurrent writes share one
// commit and so one fsync; on PostgreSQL a create is a statement of its own).
func (c CreateContract) shareCommits(t *testing.T, cr Creator) {
	db := cr.Database()
	before := store.GroupCommitted(db)
	answers := Concurrently(ConcurrentCreates, func(i int) *Response { return cr.CreateWith(t, fmt.Sprintf("group%d@example.com", i)) })
	for i, r := range answers {
		if r.Status != c.Created {
			t.Errorf("create %d of group%d@example.com: answered %d %s; want %d", i, i, r.Status, r.Body, c.Created)
		} else if n := cr.Stored(t, fmt.Sprintf("group%d@example.com", i)); n != 1 {
			t.Errorf("group%d@example.com: %d records stored after its create; want 1", i, n)
		}
	}
	after := store.GroupCommitted(db)
	writes, want := after.Writes-before.Writes, int64(0)
	if db.Name() == "sqlite" {
		want = ConcurrentCreates
	}
	if writes != want {
		t.Errorf("%d concurrent creates made %d writes of group commits; want %d", ConcurrentCreates, writes, want)
	}
	t.Logf("%d concurrent creates: %d group commits", ConcurrentCreates, after.Groups-before.Groups)
}

// Stored is how many rows of table hold key, lower-cased, in column: the records a Creator's key
// names in any letter case, since every API keeps its unique key lower-cased in such a column.
func Stored(t testing.TB, db *gorm.DB, table, column, key string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Where(column+" = ?", strings.ToLower(key)).Count(&n).Error; err != nil {
		t.Fatalf("count %s in %s: %v", key, table, err)
	}
	return n
}
