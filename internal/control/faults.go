package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gen "github.com/provisiond/provisiond/gen/control"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/journal"
)

// ruleInvalid is the rule of the control API's own checks of a matcher or a fault rule: Render
// answers them with 422, as it answers the schema's.
const ruleInvalid = "unprocessable"

// WithFaults makes s manage the fault rules r.
func (s *Service) WithFaults(r *fault.Rules) *Service {
	s.faults = r
	return s
}

// AddFault checks r and adds it as the last rule to try.
func (s *Service) AddFault(r fault.Rule) (fault.Rule, error) {
	errs := s.checkOperation("match", r.Match.API, r.Match.Operation, false)
	errs = append(errs, checkAction(r.Action)...)
	if len(errs) > 0 {
		return fault.Rule{}, errors.Join(errs...)
	}
	added, err := s.rules().Add(r, s.now())
	if errors.Is(err, fault.ErrFull) {
		return fault.Rule{}, apperr.Invalid("", ruleInvalid, fmt.Sprintf("At most %d fault rules exist at once: delete some first.", fault.MaxRules))
	}
	return added, err
}

// Faults are the fault rules in the order they are tried.
func (s *Service) Faults() []fault.Rule { return s.rules().List() }

// Fault is the fault rule with id.
func (s *Service) Fault(id int64) (fault.Rule, error) {
	if r, ok := s.rules().Get(id); ok {
		return r, nil
	}
	return fault.Rule{}, noFault(id)
}

// DeleteFault removes the fault rule with id.
func (s *Service) DeleteFault(id int64) error {
	if !s.rules().Remove(id) {
		return noFault(id)
	}
	return nil
}

// ClearFaults removes every fault rule.
func (s *Service) ClearFaults() { s.rules().Clear() }

func noFault(id int64) error { return apperr.NotFound(fmt.Sprintf("There is no fault rule %d.", id)) }

// rules are s's fault rules; a service without them manages an empty set that no server applies.
func (s *Service) rules() *fault.Rules {
	if s.faults == nil {
		s.faults = &fault.Rules{}
	}
	return s.faults
}

// CountRequests is how many journaled requests f selects, once its operation is checked.
func (s *Service) CountRequests(f journal.Filter) (int, error) {
	if errs := s.checkOperation("", f.API, f.Operation, true); len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	if s.journal == nil {
		return 0, nil
	}
	return s.journal.Count(f), nil
}

// checkOperation checks that op, when given, is an operation of api (or "unmatched", where
// unmatched is allowed), naming the fields below prefix.
func (s *Service) checkOperation(prefix, api, op string, unmatched bool) []error {
	if op == "" || unmatched && op == "unmatched" {
		return nil
	}
	field := strings.TrimPrefix(prefix+".operation", ".")
	if api == "" {
		return []error{apperr.Invalid(field, ruleInvalid, fmt.Sprintf("needs %s: an operationId belongs to one API", strings.TrimPrefix(prefix+".api", ".")))}
	}
	var ops []string
	if s.journal != nil {
		ops, _ = s.journal.Operations(api)
	}
	for _, o := range ops {
		if o == op {
			return nil
		}
	}
	return []error{apperr.Invalid(field, ruleInvalid, fmt.Sprintf("%s has no operation %q; its operations are %s", api, op, strings.Join(ops, ", ")))}
}

// checkAction checks the fields that a's type needs and takes.
func checkAction(a fault.Action) []error {
	var errs []error
	refuse := func(field, why string) { errs = append(errs, apperr.Invalid("action."+field, ruleInvalid, why)) }
	notFor := func(field string, given bool) {
		if given {
			refuse(field, fmt.Sprintf("is not taken by a %s action", a.Type))
		}
	}
	switch a.Type {
	case fault.Status:
		if a.Status == 0 {
			refuse("status", "is required for a status action")
		}
		if a.RetryAfter != nil && a.Status != http.StatusTooManyRequests && a.Status != http.StatusServiceUnavailable {
			refuse("retry_after", "is taken with status 429 or 503 only")
		}
		notFor("delay_ms", a.Delay >= 0)
		notFor("delay_max_ms", a.DelayMax >= 0)
	case fault.Delay:
		switch {
		case a.Delay < 0:
			refuse("delay_ms", "is required for a delay action")
		case a.DelayMax >= 0 && a.DelayMax < a.Delay:
			refuse("delay_max_ms", "must be at least delay_ms")
		}
		notFor("status", a.Status != 0)
		notFor("retry_after", a.RetryAfter != nil)
	case fault.Drop:
		notFor("status", a.Status != 0)
		notFor("retry_after", a.RetryAfter != nil)
		notFor("delay_ms", a.Delay >= 0)
		notFor("delay_max_ms", a.DelayMax >= 0)
	}
	return errs
}

// AddFault implements POST /_provisiond/v1/faults.
func (h *Handler) AddFault(_ context.Context, req gen.AddFaultRequestObject) (gen.AddFaultResponseObject, error) {
	in := req.Body
	r := fault.Rule{Match: matcher(in.Match), Action: action(in.Action)}
	if in.Times != nil {
		r.Times = int(*in.Times)
	}
	if in.Probability != nil {
		r.Probability = *in.Probability
	}
	added, err := h.svc.AddFault(r)
	if err != nil {
		return nil, err
	}
	location := fmt.Sprintf("/_provisiond/v1/faults/%d", added.ID)
	return gen.AddFault201JSONResponse{Body: rule(added), Headers: gen.AddFault201ResponseHeaders{Location: location}}, nil
}

// ListFaults implements GET /_provisiond/v1/faults.
func (h *Handler) ListFaults(context.Context, gen.ListFaultsRequestObject) (gen.ListFaultsResponseObject, error) {
	rules := h.svc.Faults()
	res := gen.ListFaults200JSONResponse{Items: make([]gen.FaultRule, len(rules))}
	for i, r := range rules {
		res.Items[i] = rule(r)
	}
	return res, nil
}

// GetFault implements GET /_provisiond/v1/faults/{id}.
func (h *Handler) GetFault(_ context.Context, req gen.GetFaultRequestObject) (gen.GetFaultResponseObject, error) {
	r, err := h.svc.Fault(req.Id)
	if err != nil {
		return nil, err
	}
	return gen.GetFault200JSONResponse(rule(r)), nil
}

// DeleteFault implements DELETE /_provisiond/v1/faults/{id}.
func (h *Handler) DeleteFault(_ context.Context, req gen.DeleteFaultRequestObject) (gen.DeleteFaultResponseObject, error) {
	if err := h.svc.DeleteFault(req.Id); err != nil {
		return nil, err
	}
	return gen.DeleteFault204Response{}, nil
}

// ClearFaults implements DELETE /_provisiond/v1/faults.
func (h *Handler) ClearFaults(context.Context, gen.ClearFaultsRequestObject) (gen.ClearFaultsResponseObject, error) {
	h.svc.ClearFaults()
	return gen.ClearFaults204Response{}, nil
}

// CountRequests implements POST /_provisiond/v1/requests/count.
func (h *Handler) CountRequests(_ context.Context, req gen.CountRequestsRequestObject) (gen.CountRequestsResponseObject, error) {
	m := req.Body
	f := journal.Filter{Path: deref(m.Path), Operation: deref(m.Operation), Faulted: m.Faulted, Body: deref(m.Body)}
	if m.Api != nil {
		f.API = string(*m.Api)
	}
	if m.Method != nil {
		f.Method = string(*m.Method)
	}
	if m.Status != nil {
		f.Status = ptr(int(*m.Status))
	}
	n, err := h.svc.CountRequests(f)
	if err != nil {
		return nil, err
	}
	return gen.CountRequests200JSONResponse{Count: int64(n)}, nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func matcher(m gen.FaultMatcher) fault.Matcher {
	out := fault.Matcher{Operation: deref(m.Operation)}
	if m.Api != nil {
		out.API = string(*m.Api)
	}
	if m.Method != nil {
		out.Method = string(*m.Method)
	}
	return out
}

// action is a as the fault package takes it: a delay not given is -1.
func action(a gen.FaultAction) fault.Action {
	out := fault.Action{Type: string(a.Type), Delay: -1, DelayMax: -1}
	if a.Status != nil {
		out.Status = int(*a.Status)
	}
	if a.RetryAfter != nil {
		ra := int(*a.RetryAfter)
		out.RetryAfter = &ra
	}
	if a.DelayMs != nil {
		out.Delay = time.Duration(*a.DelayMs) * time.Millisecond
	}
	if a.DelayMaxMs != nil {
		out.DelayMax = time.Duration(*a.DelayMaxMs) * time.Millisecond
	}
	return out
}

func rule(r fault.Rule) gen.FaultRule {
	out := gen.FaultRule{Id: r.ID, Probability: r.Probability, Matched: r.Matched, Applied: r.Applied, CreatedAt: r.Created}
	if r.Match.API != "" {
		api := gen.ApiName(r.Match.API)
		out.Match.Api = &api
	}
	if r.Match.Operation != "" {
		out.Match.Operation = &r.Match.Operation
	}
	if r.Match.Method != "" {
		m := gen.Method(r.Match.Method)
		out.Match.Method = &m
	}
	a := r.Action
	out.Action.Type = gen.FaultActionType(a.Type)
	if a.Status != 0 {
		s := int32(a.Status)
		out.Action.Status = &s
	}
	if a.RetryAfter != nil {
		ra := int32(*a.RetryAfter)
		out.Action.RetryAfter = &ra
	}
	if a.Delay >= 0 && a.Type == fault.Delay {
		ms := int32(a.Delay / time.Millisecond)
		out.Action.DelayMs = &ms
	}
	if a.DelayMax >= 0 && a.Type == fault.Delay {
		ms := int32(a.DelayMax / time.Millisecond)
		out.Action.DelayMaxMs = &ms
	}
	if r.Times > 0 {
		t, rem := int32(r.Times), int32(r.Remaining)
		out.Times, out.Remaining = &t, &rem
	}
	return out
}
