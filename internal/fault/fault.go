// Package fault keeps the fault rules of the control API (/_provisiond/v1/faults): rules that make
// the vendor APIs fail on purpose, so that a team can test how its client copes with a vendor
// answering errors, answering late or not at all. The rules live in memory, per instance; the
// HTTP server asks Rules.Match for each request to a vendor API and applies the action it gets.
package fault

import (
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The actions a rule can take.
const (
	// Status answers a status with the vendor's own error body for it.
	Status = "status"
	// Delay waits, then serves the request as usual.
	Delay = "delay"
	// Drop closes the connection without an answer.
	Drop = "drop"
)

// MaxRules is how many rules exist at once at most.
const MaxRules = 1000

// MaxDelay is the longest delay a rule may ask for.
const MaxDelay = time.Minute

// Matcher selects requests: every field that is not empty must match.
type Matcher struct {
	API, Operation, Method string
}

func (m Matcher) matches(api, op, method string) bool {
	return (m.API == "" || m.API == api) && (m.Operation == "" || m.Operation == op) &&
		(m.Method == "" || strings.EqualFold(m.Method, method))
}

// Action is what a rule does to a request it fires on.
type Action struct {
	Type string
	// Status of a Status action, and its Retry-After in seconds (nil: none).
	Status     int
	RetryAfter *int
	// Delay of a Delay action, or its lower bound when DelayMax is above it; negative when not
	// given.
	Delay, DelayMax time.Duration
}

// Rule is a fault rule and what is left of it.
type Rule struct {
	ID     int64
	Match  Matcher
	Action Action
	// Times limits the rule to that many requests it fires on (0: unlimited); Remaining is how many
	// are left.
	Times, Remaining int
	// Probability is the chance that the rule fires on a matching request, in (0, 1].
	Probability float64
	// Matched counts the matching requests the rule met while it was in force; Applied those it
	// fired on.
	Matched, Applied int64
	Created          time.Time
}

func (r *Rule) inForce() bool { return r.Times == 0 || r.Remaining > 0 }

// Hit is a rule that fired on a request: the action to take, with its delay drawn.
type Hit struct {
	Rule   int64
	Action Action
	// Delay is how long a Delay action waits for this request.
	Delay time.Duration
}

// Rules is the set of fault rules, tried in the order they were added. Its zero value is an empty
// set, ready to use.
type Rules struct {
	// n is how many rules are in force: a request skips the lock when there is none.
	n atomic.Int64
	// apis are the APIs the rules may fault (Cover); set before any request.
	apis map[string]bool

	mu     sync.Mutex
	rules  []*Rule
	nextID int64
}

// Cover makes the rules apply to the requests to api: the vendor APIs, never the control API. It
// is called while the server is built, before any request.
func (s *Rules) Cover(api string) {
	if s.apis == nil {
		s.apis = map[string]bool{}
	}
	s.apis[api] = true
}

// Covers reports whether the rules apply to the requests to api.
func (s *Rules) Covers(api string) bool { return s.apis[api] }

// Active reports whether any rule is in force: when none is, no request needs Match.
func (s *Rules) Active() bool { return s != nil && s.n.Load() > 0 }

// ErrFull is the error of Add when MaxRules rules exist.
var ErrFull = errFull{}

type errFull struct{}

func (errFull) Error() string { return "too many fault rules" }

// Add adds r (already checked) as the last rule to try, with the next id, and returns it as
// stored.
func (s *Rules) Add(r Rule, now time.Time) (Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rules) >= MaxRules {
		return Rule{}, ErrFull
	}
	s.nextID++
	r.ID, r.Remaining, r.Matched, r.Applied, r.Created = s.nextID, r.Times, 0, 0, now.UTC()
	if r.Probability <= 0 || r.Probability > 1 {
		r.Probability = 1
	}
	s.rules = append(s.rules, &r)
	s.count()
	return r, nil
}

// List is every rule, used up or not, in the order they are tried.
func (s *Rules) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rule, len(s.rules))
	for i, r := range s.rules {
		out[i] = *r
	}
	return out
}

// Get is the rule with id.
func (s *Rules) Get(id int64) (Rule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.ID == id {
			return *r, true
		}
	}
	return Rule{}, false
}

// Remove removes the rule with id and reports whether there was one.
func (s *Rules) Remove(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.ID == id {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			s.count()
			return true
		}
	}
	return false
}

// Clear removes every rule; ids go on from where they were.
func (s *Rules) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	s.count()
}

// count updates n; s.mu is held.
func (s *Rules) count() {
	n := 0
	for _, r := range s.rules {
		if r.inForce() {
			n++
		}
	}
	s.n.Store(int64(n))
}

// Match is the action for a request to api's operation op with method, if a rule fires on it:
// the first rule in force that matches and fires by its probability. A rule that fires counts
// down; the request is then the rule's.
func (s *Rules) Match(api, op, method string) (Hit, bool) {
	if !s.Active() || !s.apis[api] {
		return Hit{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if !r.inForce() || !r.Match.matches(api, op, method) {
			continue
		}
		r.Matched++
		if r.Probability < 1 && rand.Float64() >= r.Probability {
			continue
		}
		r.Applied++
		if r.Times > 0 {
			if r.Remaining--; r.Remaining == 0 {
				s.count()
			}
		}
		h := Hit{Rule: r.ID, Action: r.Action}
		if r.Action.Type == Delay {
			h.Delay = r.Action.Delay
			if spread := r.Action.DelayMax - r.Action.Delay; spread > 0 {
				h.Delay += rand.N(spread + 1)
			}
		}
		return h, true
	}
	return Hit{}, false
}
