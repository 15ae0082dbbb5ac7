package fault_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/fault"
)

var (
	now   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fail  = fault.Action{Type: fault.Status, Status: 503}
	drop  = fault.Action{Type: fault.Drop}
	apis  = []string{"xcart", "occadmin"}
	never = fault.Matcher{API: "nothing"}
)

// newRules is a set covering apis with one rule of each of rules added in order.
func newRules(t testing.TB, rules ...fault.Rule) *fault.Rules {
	t.Helper()
	s := &fault.Rules{}
	for _, api := range apis {
		s.Cover(api)
	}
	for _, r := range rules {
		if _, err := s.Add(r, now); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// rule gets the rule with id from s, failing the test when there is none.
func rule(t *testing.T, s *fault.Rules, id int64) fault.Rule {
	t.Helper()
	r, ok := s.Get(id)
	if !ok {
		t.Fatalf("Get(%d): no rule", id)
	}
	return r
}

// A rule matches a request when every field of its matcher that is set matches: the API, the
// operation and the method, the last without regard to case. An API the rules do not cover
// (the control API) never matches, even a matcher that names it or names nothing.
func TestMatcher(t *testing.T) {
	type request struct{ api, op, method string }
	createXCart := request{"xcart", "createProfile", "POST"}
	for _, c := range []struct {
		match fault.Matcher
		req   request
		want  bool
	}{
		{fault.Matcher{}, createXCart, true},
		{fault.Matcher{}, request{"occadmin", "listAdminProfiles", "GET"}, true},
		{fault.Matcher{API: "xcart"}, createXCart, true},
		{fault.Matcher{API: "occadmin"}, createXCart, false},
		{fault.Matcher{API: "xcart", Operation: "createProfile"}, createXCart, true},
		{fault.Matcher{API: "xcart", Operation: "getProfile"}, createXCart, false},
		{fault.Matcher{Operation: "createProfile"}, createXCart, true},
		{fault.Matcher{Method: "post"}, createXCart, true},
		{fault.Matcher{Method: "Post"}, createXCart, true},
		{fault.Matcher{Method: "GET"}, createXCart, false},
		{fault.Matcher{API: "xcart", Operation: "createProfile", Method: "POST"}, createXCart, true},
		{fault.Matcher{API: "xcart", Operation: "createProfile", Method: "PUT"}, createXCart, false},
		{fault.Matcher{}, request{"control", "reset", "POST"}, false},
		{fault.Matcher{API: "control"}, request{"control", "reset", "POST"}, false},
		{fault.Matcher{}, request{"", "unmatched", "GET"}, false},
	} {
		s := newRules(t, fault.Rule{Match: c.match, Action: fail})
		hit, ok := s.Match(c.req.api, c.req.op, c.req.method)
		if ok != c.want {
			t.Errorf("rule %+v, request %v: matched %v, want %v", c.match, c.req, ok, c.want)
			continue
		}
		if ok && (hit.Rule != 1 || hit.Action != fail) {
			t.Errorf("rule %+v, request %v: hit %+v, want rule 1's %+v", c.match, c.req, hit, fail)
		}
	}
}

// Rules are tried in the order they were added and the first that fires wins; once a rule is
// used up the next that matches fires in its place, and once every matching rule is, none fires.
func TestOrderAndTimes(t *testing.T) {
	s := newRules(t,
		fault.Rule{Match: never, Action: drop},
		fault.Rule{Match: fault.Matcher{API: "xcart"}, Action: fail, Times: 2},
		fault.Rule{Match: fault.Matcher{Method: "POST"}, Action: drop, Times: 1},
	)
	var got []int64
	for range 4 {
		hit, _ := s.Match("xcart", "createProfile", "POST")
		got = append(got, hit.Rule)
	}
	if want := fmt.Sprint([]int64{2, 2, 3, 0}); fmt.Sprint(got) != want {
		t.Errorf("rules fired %v, want %v (0: none)", got, want)
	}
	for _, c := range []struct {
		id               int64
		times, remaining int
		matched, applied int64
	}{
		{id: 1, matched: 0, applied: 0},
		{id: 2, times: 2, remaining: 0, matched: 2, applied: 2},
		{id: 3, times: 1, remaining: 0, matched: 1, applied: 1},
	} {
		r := rule(t, s, c.id)
		if r.Times != c.times || r.Remaining != c.remaining || r.Matched != c.matched || r.Applied != c.applied {
			t.Errorf("rule %d: times %d remaining %d matched %d applied %d, want %d %d %d %d",
				c.id, r.Times, r.Remaining, r.Matched, r.Applied, c.times, c.remaining, c.matched, c.applied)
		}
	}
	if n := len(s.List()); n != 3 {
		t.Errorf("List has %d rules, want the 3 added, used up or not", n)
	}
}

// The remaining count goes down by one for each request a rule fires on, and only those.
func TestRemainingCountsDown(t *testing.T) {
	s := newRules(t, fault.Rule{Match: fault.Matcher{Operation: "createProfile"}, Action: fail, Times: 3})
	if r := rule(t, s, 1); r.Remaining != 3 {
		t.Fatalf("a new rule of times 3 has %d remaining", r.Remaining)
	}
	for i, want := range []int{2, 2, 1, 0, 0} {
		op := "createProfile"
		if i == 1 {
			op = "getProfile"
		}
		s.Match("xcart", op, "POST")
		if r := rule(t, s, 1); r.Remaining != want {
			t.Errorf("after request %d (%s): %d remaining, want %d", i+1, op, r.Remaining, want)
		}
	}
	if r := rule(t, s, 1); r.Matched != 3 || r.Applied != 3 {
		t.Errorf("matched %d applied %d, want 3 and 3: requests after it is used up are not its", r.Matched, r.Applied)
	}
	if s.Active() {
		t.Error("active once its only rule is used up")
	}
}

// A rule fires on about its probability's share of the requests it matches (the bounds are
// nine standard deviations wide: this cannot fail by chance); the requests it lets pass go to
// the next rule. A probability of 1, or none given, fires always.
func TestProbability(t *testing.T) {
	const n = 2000
	s := newRules(t,
		fault.Rule{Match: fault.Matcher{API: "xcart"}, Action: fail, Probability: 0.5},
		fault.Rule{Match: fault.Matcher{API: "xcart"}, Action: drop},
	)
	fired := map[int64]int{}
	for range n {
		hit, ok := s.Match("xcart", "createProfile", "POST")
		if !ok {
			t.Fatal("no rule fired, yet the second fires always")
		}
		fired[hit.Rule]++
	}
	if fired[1] < 800 || fired[1] > 1200 {
		t.Errorf("a rule of probability 0.5 fired on %d of %d requests, want 800 to 1200", fired[1], n)
	}
	first, second := rule(t, s, 1), rule(t, s, 2)
	if first.Matched != n || first.Applied != int64(fired[1]) {
		t.Errorf("first rule: matched %d applied %d, want %d and %d", first.Matched, first.Applied, n, fired[1])
	}
	if second.Matched != int64(fired[2]) || second.Applied != int64(fired[2]) {
		t.Errorf("second rule: matched %d applied %d, want %d for both: the requests the first let pass", second.Matched, second.Applied, fired[2])
	}

	for _, p := range []float64{1, 0, 1.5} {
		s := newRules(t, fault.Rule{Action: fail, Probability: p})
		if r := rule(t, s, 1); r.Probability != 1 {
			t.Errorf("probability %v stored as %v, want 1", p, r.Probability)
		}
		for i := range 200 {
			if _, ok := s.Match("occadmin", "createAdminProfile", "POST"); !ok {
				t.Errorf("probability %v: request %d not faulted", p, i+1)
				break
			}
		}
	}
}

// A delay action's delay is drawn for each request, uniformly between Delay and DelayMax, both
// included; without a DelayMax above Delay, it is Delay.
func TestDelayIsDrawnBetweenItsBounds(t *testing.T) {
	for _, c := range []struct {
		delay, max time.Duration
	}{
		{100 * time.Millisecond, 200 * time.Millisecond},
		{0, 5 * time.Millisecond},
		{100 * time.Millisecond, -1},
		{100 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 50 * time.Millisecond},
	} {
		s := newRules(t, fault.Rule{Action: fault.Action{Type: fault.Delay, Delay: c.delay, DelayMax: c.max}})
		hi := max(c.delay, c.max)
		seen := map[time.Duration]bool{}
		for range 500 {
			hit, _ := s.Match("xcart", "createProfile", "POST")
			if hit.Delay < c.delay || hit.Delay > hi {
				t.Errorf("delay %v to %v: drew %v", c.delay, c.max, hit.Delay)
				break
			}
			seen[hit.Delay] = true
		}
		if wantSpread := hi > c.delay; wantSpread != (len(seen) > 1) {
			t.Errorf("delay %v to %v: %d distinct delays in 500 draws, want them to vary: %v", c.delay, c.max, len(seen), wantSpread)
		}
	}
	// Only a delay action waits.
	s := newRules(t, fault.Rule{Action: fault.Action{Type: fault.Status, Status: 503, Delay: time.Second}})
	if hit, _ := s.Match("xcart", "createProfile", "POST"); hit.Delay != 0 {
		t.Errorf("a status action's hit has delay %v, want 0", hit.Delay)
	}
}

// Add, Get, List, Remove and Clear keep the rules, with ids that never name two rules, also
// across a Clear; at most MaxRules exist at once.
func TestAddGetRemoveClear(t *testing.T) {
	s := newRules(t)
	if s.Active() {
		t.Error("an empty set is active")
	}
	if (*fault.Rules)(nil).Active() {
		t.Error("a nil set is active")
	}
	in := fault.Rule{Match: fault.Matcher{API: "xcart"}, Action: fail, Times: 2, Probability: 0.25, Matched: 7, Applied: 7, Remaining: 9}
	got, err := s.Add(in, now.In(time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 1 || got.Remaining != 2 || got.Matched != 0 || got.Applied != 0 || got.Probability != 0.25 ||
		!got.Created.Equal(now) || got.Created.Location() != time.UTC {
		t.Errorf("Add(%+v) = %+v, want id 1, remaining 2, counts 0, probability 0.25, created %v in UTC", in, got, now)
	}
	if !s.Active() {
		t.Error("a set with a rule in force is not active")
	}
	if r := rule(t, s, 1); r != got {
		t.Errorf("Get(1) = %+v, want %+v", r, got)
	}
	for i := range 3 {
		if _, err := s.Add(fault.Rule{Action: drop}, now); err != nil {
			t.Fatalf("Add %d: %v", i+2, err)
		}
	}
	if !s.Remove(2) || s.Remove(2) || s.Remove(99) {
		t.Error("Remove(2) twice and Remove(99): want true, false, false")
	}
	if _, ok := s.Get(2); ok {
		t.Error("Get finds a removed rule")
	}
	if got := ruleIDs(s); got != "[1 3 4]" {
		t.Errorf("after Remove(2): ids %s, want [1 3 4]", got)
	}
	s.Clear()
	if len(s.List()) != 0 || s.Active() {
		t.Errorf("after Clear: %d rules, active %v", len(s.List()), s.Active())
	}
	if _, ok := s.Match("xcart", "createProfile", "POST"); ok {
		t.Error("a cleared set faults a request")
	}
	if r, _ := s.Add(fault.Rule{Action: drop}, now); r.ID != 5 {
		t.Errorf("first id after Clear: %d, want 5", r.ID)
	}

	// Removing the last rule in force, or a used-up one, leaves the set inactive.
	s = newRules(t, fault.Rule{Action: drop, Times: 1}, fault.Rule{Action: drop})
	s.Match("xcart", "createProfile", "POST")
	s.Remove(2)
	if s.Active() {
		t.Error("active with only a used-up rule left")
	}
}

func ruleIDs(s *fault.Rules) string {
	var ids []int64
	for _, r := range s.List() {
		ids = append(ids, r.ID)
	}
	return fmt.Sprint(ids)
}

// At most MaxRules rules exist at once, used up or not; removing one makes room.
func TestMaxRules(t *testing.T) {
	s := newRules(t)
	for i := range fault.MaxRules {
		if _, err := s.Add(fault.Rule{Action: drop, Times: 1}, now); err != nil {
			t.Fatalf("Add %d: %v", i+1, err)
		}
	}
	if _, err := s.Add(fault.Rule{Action: drop}, now); !errors.Is(err, fault.ErrFull) {
		t.Errorf("Add beyond MaxRules: error %v, want ErrFull", err)
	}
	s.Remove(1)
	if r, err := s.Add(fault.Rule{Action: drop}, now); err != nil || r.ID != fault.MaxRules+1 {
		t.Errorf("Add after a Remove: %+v, %v; want id %d (a refused Add takes no id)", r, err, fault.MaxRules+1)
	}
}

// Requests that race for a rule of times N get exactly N hits between them (go test -race).
func TestConcurrentMatchFiresExactlyTimes(t *testing.T) {
	const times, workers, each = 100, 16, 50
	s := newRules(t, fault.Rule{Match: fault.Matcher{API: "xcart"}, Action: fail, Times: times})
	var mu sync.Mutex
	hits := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			n := 0
			for range each {
				if _, ok := s.Match("xcart", "createProfile", "POST"); ok {
					n++
				}
				s.Active()
				s.List()
			}
			mu.Lock()
			hits += n
			mu.Unlock()
		})
	}
	wg.Wait()
	r := rule(t, s, 1)
	if hits != times || r.Remaining != 0 || r.Applied != times || r.Matched != times {
		t.Errorf("%d requests racing for a rule of times %d: %d hits, rule %+v; want %d hits, remaining 0, matched and applied %d",
			workers*each, times, hits, r, times, times)
	}
	if s.Active() {
		t.Error("active once the only rule is used up")
	}
}

// BenchmarkMatch is the cost of Match for one request to a covered API: with no rule, with 100
// rules of which none matches, and with 100 of which only the last does.
func BenchmarkMatch(b *testing.B) {
	others := func(n int) []fault.Rule {
		rules := make([]fault.Rule, n)
		for i := range rules {
			rules[i] = fault.Rule{Match: fault.Matcher{API: "xcart", Operation: fmt.Sprintf("operation%d", i)}, Action: fail}
		}
		return rules
	}
	last := fault.Rule{Match: fault.Matcher{API: "xcart", Operation: "createProfile", Method: "post"}, Action: fail}
	for _, c := range []struct {
		name  string
		rules []fault.Rule
		hit   bool
	}{
		{"rules=0", nil, false},
		{"rules=100/none-matches", others(100), false},
		{"rules=100/last-matches", append(others(99), last), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newRules(b, c.rules...)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := s.Match("xcart", "createProfile", "POST"); ok != c.hit {
					b.Fatalf("matched %v, want %v", ok, c.hit)
				}
			}
		})
	}
}
