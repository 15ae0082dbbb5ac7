package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/store"
)

// Service resets, seeds and inspects the data of the registered APIs.
type Service struct {
	db      *gorm.DB
	modules module.List
	loader  *fixtures.Loader
	file    string
	// changed is called once a reset or a fixtures document is over, committed or not: the
	// server forgets the credentials and token subjects it keeps (credential.Store.Invalidate).
	changed func()
	// journal is the request journal of the vendor APIs (nil: none).
	journal *journal.Journal
	// faults are the fault rules applied to the vendor APIs (WithFaults).
	faults *fault.Rules
	now    func() time.Time
}

// NewService returns the control service over the APIs of modules, reading and applying
// fixtures in env (the server's configuration, hasher and clock); env.Config.FixturesFile is the
// configured fixtures file that a reset applies again ("" for none).
func NewService(db *gorm.DB, modules module.List, env module.Env) *Service {
	now := env.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, modules: modules, loader: fixtures.New(modules).With(env), file: env.Config.FixturesFile, changed: func() {}, now: now}
}

// WithJournal makes s serve and clear the request journal j.
func (s *Service) WithJournal(j *journal.Journal) *Service {
	s.journal = j
	return s
}

// Requests are the journaled requests f selects, newest first (none without a journal).
func (s *Service) Requests(f journal.Filter) []journal.Entry {
	if s.journal == nil {
		return nil
	}
	return s.journal.List(f)
}

// Request is the journaled request with id.
func (s *Service) Request(id int64) (journal.Entry, error) {
	if s.journal != nil {
		if e, ok := s.journal.Get(id); ok {
			return e, nil
		}
	}
	return journal.Entry{}, apperr.NotFound(fmt.Sprintf("The journal holds no request %d.", id))
}

// ClearRequests empties the request journal.
func (s *Service) ClearRequests() {
	if s.journal != nil {
		s.journal.Clear()
	}
}

// OnChange makes s call changed once each reset or fixtures document is over, committed or
// rolled back: what the server keeps of the credentials and the data it replaced is forgotten
// then, and not before the commit, when a request could still read and keep the old rows.
func (s *Service) OnChange(changed func()) *Service {
	s.changed = changed
	return s
}

// Reset returns the data of apis (every API when empty) to the baseline (fixtures.Loader.Reset)
// and returns the APIs it reset.
func (s *Service) Reset(ctx context.Context, apis []string, dropCredentials bool) ([]string, error) {
	if len(apis) == 0 {
		apis = s.modules.Data()
	}
	apis = unique(apis)
	defer s.changed()
	// A reset starts a test afresh: what the journal kept of the one before goes too, and so do
	// its fault rules.
	s.ClearRequests()
	s.ClearFaults()
	err := s.loader.Reset(ctx, s.db, fixtures.Reset{APIs: apis, DropCredentials: dropCredentials, File: s.file})
	if err != nil {
		return nil, store.Classify(err, "reset", nil, nil)
	}
	return apis, nil
}

// Apply parses the fixtures document doc (YAML or JSON) and applies it, overwriting what it
// names. A document with problems is refused whole: every problem is an apperr.KindInvalid
// error naming its place in the document.
func (s *Service) Apply(ctx context.Context, doc io.Reader) (fixtures.Applied, error) {
	f, err := s.loader.Parse(doc)
	if err != nil {
		return nil, documentProblems(err)
	}
	defer s.changed()
	applied, err := s.loader.Apply(ctx, s.db, f, true)
	var refused *fixtures.Refused
	if errors.As(err, &refused) {
		return nil, documentProblems(refused)
	}
	if err != nil {
		return nil, store.Classify(err, "apply fixtures", nil, nil)
	}
	return applied, nil
}

// documentProblems turns the loader's errors ("fixtures: xcart.profiles[2].login: must be …")
// into one apperr.KindInvalid error per problem, with its place in the document as the field.
func documentProblems(err error) error {
	var lines []string
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			lines = append(lines, e.Error())
		}
	} else {
		lines = []string{err.Error()}
	}
	var out []error
	for _, l := range lines {
		l = strings.TrimPrefix(l, "fixtures: ")
		field, msg, ok := strings.Cut(l, ": ")
		if !ok || strings.ContainsAny(field, " \n") || field == "yaml" {
			field, msg = "", l
		}
		out = append(out, apperr.Invalid(field, "fixtures", msg))
	}
	return errors.Join(out...)
}

// List returns a page of the users of api and how many there are.
func (s *Service) List(ctx context.Context, api string, offset, limit int) ([]module.User, int64, error) {
	users, err := s.users(api)
	if err != nil {
		return nil, 0, err
	}
	out, total, err := users.List(ctx, s.db.WithContext(ctx), offset, limit)
	if err != nil {
		return nil, 0, store.Classify(err, "list users", nil, nil)
	}
	return out, total, nil
}

// Get returns the user of api whose id is id.
func (s *Service) Get(ctx context.Context, api, id string) (module.User, error) {
	users, err := s.users(api)
	if err != nil {
		return module.User{}, err
	}
	u, err := users.Get(ctx, s.db.WithContext(ctx), id)
	if errors.Is(err, module.ErrNoUser) {
		return module.User{}, apperr.NotFound(fmt.Sprintf("No %s user has id %q.", api, id))
	}
	if err != nil {
		return module.User{}, store.Classify(err, "get user", nil, nil)
	}
	return u, nil
}

func (s *Service) users(api string) (*module.Users, error) {
	m, ok := s.modules.Named(api)
	if !ok || m.Users == nil {
		return nil, apperr.NotFound(fmt.Sprintf("No API %q stores users.", api))
	}
	return m.Users, nil
}

func unique(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
