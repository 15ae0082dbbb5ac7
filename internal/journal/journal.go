// Package journal keeps the last requests made to the vendor APIs, with their answers, in
// memory, for the control API's request journal (/_provisiond/v1/requests): a bounded ring of
// entries whose secrets are masked before they are stored. The fields to mask come from the
// specs: every property marked `format: password` or `writeOnly`, every header of an API-key
// security scheme, and the headers that carry credentials everywhere (Authorization, Cookie,
// Set-Cookie). Names are compared without regard to letter case.
package journal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Masked is what a secret is replaced with.
const Masked = "***"

// Entry is one request and its answer, secrets masked.
type Entry struct {
	ID              int64
	Time            time.Time
	API             string
	Operation       string // the operationId, or "unmatched"
	Method          string
	Path            string
	Query           string
	RequestHeaders  map[string]string
	RequestBody     string
	Status          int
	ResponseHeaders map[string]string
	ResponseBody    string
	Duration        time.Duration
	RequestID       string
	// Truncated says that a body was longer than the journal keeps of one.
	Truncated bool
	// Fault is the fault rule that answered, delayed or dropped the request (nil: none).
	Fault *Fault
}

// Fault names the fault rule that acted on a request, and its action.
type Fault struct {
	Rule   int64
	Action string
}

// Filter selects entries: empty fields select all; Since selects those recorded at or after
// it; Limit (0: all) the newest that many.
type Filter struct {
	API, Operation, Method, Path string
	// Status, when set, selects by status (0 is the status of a dropped request).
	Status *int
	// Faulted, when set, selects the requests a fault rule acted on (true) or the others.
	Faulted *bool
	// Body, when set, selects the requests whose body contains it (Contains).
	Body  map[string]any
	Since time.Time
	Limit int
}

func (f *Filter) selects(e *Entry) bool {
	return (f.API == "" || e.API == f.API) && (f.Operation == "" || e.Operation == f.Operation) &&
		(f.Method == "" || strings.EqualFold(e.Method, f.Method)) && (f.Path == "" || e.Path == f.Path) &&
		(f.Status == nil || e.Status == *f.Status) && (f.Faulted == nil || *f.Faulted == (e.Fault != nil)) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Body == nil || Contains(requestBody(e), f.Body))
}

// Journal is the ring of the last Size entries. Its zero value is not usable: use New.
type Journal struct {
	size, bodyLimit int
	masks           map[string]*mask // by API name
	operations      map[string][]string
	secretHeaders   map[string]bool // canonical names of the headers that carry credentials
	secretQueries   map[string]bool // query parameters of the API-key schemes, lower-cased

	mu      sync.Mutex
	entries []Entry // a ring: the oldest at next%size once full
	nextID  int64
}

// New returns a journal of the last size entries (0: none is kept), keeping at most bodyLimit
// bytes of each body. It journals the APIs that Record names.
func New(size, bodyLimit int) *Journal {
	return &Journal{size: size, bodyLimit: bodyLimit, masks: map[string]*mask{}, operations: map[string][]string{}, secretHeaders: map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	}, secretQueries: map[string]bool{}}
}

// Record makes j journal the requests to api, masking what its spec doc marks secret. It is
// called while the server is built, before any request. A credential header or query parameter
// of any recorded API is masked in every API's requests: a client may send its X-Cart key to
// another API by mistake, and it stays a secret there.
func (j *Journal) Record(api string, doc *openapi3.T) {
	j.masks[api] = newMask(doc, j.secretHeaders, j.secretQueries)
	var ops []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	slices.Sort(ops)
	j.operations[api] = slices.Compact(ops)
}

// Operations are the operationIds of api's spec, sorted, and whether api is recorded.
func (j *Journal) Operations(api string) ([]string, bool) {
	ops, ok := j.operations[api]
	return ops, ok
}

// Records reports whether requests to api are journaled: a journal of size 0 keeps nothing, and
// only the APIs given to Record are journaled.
func (j *Journal) Records(api string) bool {
	if j == nil || j.size <= 0 {
		return false
	}
	_, ok := j.masks[api]
	return ok
}

// BodyLimit is how many bytes of a body the journal keeps.
func (j *Journal) BodyLimit() int { return j.bodyLimit }

// Add masks e's secrets, cuts its bodies to the limit and stores it, with the next id.
func (j *Journal) Add(e Entry, reqHeader, resHeader http.Header, reqBody, resBody []byte, reqType, resType string) {
	if !j.Records(e.API) {
		return
	}
	m := j.masks[e.API]
	e.RequestHeaders = m.headers(reqHeader)
	e.ResponseHeaders = m.headers(resHeader)
	e.Query = m.query(e.Query)
	var cut1, cut2 bool
	e.RequestBody, cut1 = j.body(m, reqBody, reqType)
	e.ResponseBody, cut2 = j.body(m, resBody, resType)
	e.Truncated = cut1 || cut2
	j.mu.Lock()
	defer j.mu.Unlock()
	j.nextID++
	e.ID = j.nextID
	if len(j.entries) < j.size {
		j.entries = append(j.entries, e)
		return
	}
	j.entries[(e.ID-1)%int64(j.size)] = e
}

// body is data with its secrets masked, at most bodyLimit bytes of it, and whether it was cut.
// A body the limit cuts is masked before it is cut; one that cannot be parsed, as JSON or as a
// form as its media type says, is kept only when it holds none of the marked names.
func (j *Journal) body(m *mask, data []byte, mediaType string) (string, bool) {
	if len(data) == 0 {
		return "", false
	}
	s := m.body(data, mediaType)
	if len(s) > j.bodyLimit {
		return s[:j.bodyLimit], true
	}
	return s, false
}

// List is the entries f selects, newest first.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, min(len(j.entries), max(f.Limit, 16)))
	for id := j.nextID; id > j.nextID-int64(len(j.entries)); id-- {
		e := j.entries[(id-1)%int64(j.size)]
		if !f.selects(&e) {
			continue
		}
		out = append(out, e)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}

// Count is how many entries f selects (its Limit aside).
func (j *Journal) Count(f Filter) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for i := range j.entries {
		if f.selects(&j.entries[i]) {
			n++
		}
	}
	return n
}

// Get is the entry with id, if the journal still holds it.
func (j *Journal) Get(id int64) (Entry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if id < 1 || id > j.nextID || id <= j.nextID-int64(len(j.entries)) {
		return Entry{}, false
	}
	return j.entries[(id-1)%int64(j.size)], true
}

// Clear forgets every entry; ids go on from where they were, so that an id never names two
// entries.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = j.entries[:0]
	// The ring fills again from its first slot: the next id is one past a multiple of the size.
	if j.size > 0 {
		j.nextID = (j.nextID + int64(j.size) - 1) / int64(j.size) * int64(j.size)
	}
}

// mask is what one API's spec marks secret.
type mask struct {
	names         map[string]bool // property names marked format: password or writeOnly, lower-cased
	quotedNames   [][]byte        // the names, each in double quotes
	secretHeaders map[string]bool // canonical header names that carry credentials (Journal's)
	queries       map[string]bool // query parameters of API-key schemes, lower-cased (Journal's)
}

// newMask is the mask of doc's secrets; it adds the headers and query parameters of doc's
// API-key schemes to secretHeaders and secretQueries, which every API's mask shares.
func newMask(doc *openapi3.T, secretHeaders, secretQueries map[string]bool) *mask {
	m := &mask{names: map[string]bool{}, queries: secretQueries, secretHeaders: secretHeaders}
	for _, ref := range doc.Components.SecuritySchemes {
		if s := ref.Value; s != nil && s.Type == "apiKey" {
			switch s.In {
			case "header":
				m.secretHeaders[http.CanonicalHeaderKey(s.Name)] = true
			case "query":
				m.queries[strings.ToLower(s.Name)] = true
			case "cookie":
				m.secretHeaders["Cookie"] = true
			}
		}
	}
	Secrets(doc, func(name string) { m.names[strings.ToLower(name)] = true })
	for name := range m.names {
		m.quotedNames = append(m.quotedNames, []byte(`"`+name+`"`))
	}
	return m
}

// secret reports whether name, a member of a JSON body or a form field, is a marked name in any
// letter case (compared without lower-casing it: no allocation for the camelCase names of a body).
func (m *mask) secret(name string) bool {
	if m.names[name] {
		return true
	}
	for n := range m.names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// formSecret reports whether key, a form field's name, names a marked property, as Rack (and so
// ActivePlatform) reads it: leading spaces dropped, and a marked name at any depth of its nested
// syntax (user[password], password[]).
func (m *mask) formSecret(key string) bool {
	for part := range strings.FieldsFuncSeq(strings.TrimLeft(key, " "), func(r rune) bool { return r == '[' || r == ']' }) {
		if m.secret(part) {
			return true
		}
	}
	return false
}

func (m *mask) headers(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		switch {
		case m.secretHeaders[http.CanonicalHeaderKey(k)]:
			out[k] = Masked
		case len(v) == 1:
			out[k] = v[0]
		default:
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

func (m *mask) query(raw string) string {
	if raw == "" {
		return raw
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	changed := false
	for k := range v {
		if m.queries[strings.ToLower(k)] || m.formSecret(k) {
			v[k], changed = []string{Masked}, true
		}
	}
	if !changed {
		return raw
	}
	return v.Encode()
}

// body masks data by its media type: in JSON every member with a marked name, at any depth; in
// a form every field with a marked name. Anything else that holds a marked name is replaced whole.
func (m *mask) body(data []byte, mediaType string) string {
	mediaType = baseType(mediaType)
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		if v, err := url.ParseQuery(string(data)); err == nil {
			changed := false
			for k := range v {
				if m.formSecret(k) {
					v[k], changed = []string{Masked}, true
				}
			}
			if changed {
				return v.Encode()
			}
			return string(data)
		}
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		if !m.quoted(data) {
			return string(data) // no member can have a marked name: nothing to decode
		}
		// A body of more than one value is masked as an unparsable one: masking the first value
		// alone would keep a secret of the next.
		if v, ok := decodeJSON(data); ok {
			if m.json(v) {
				if out, err := json.Marshal(v); err == nil {
					return string(out)
				}
			}
			return string(data)
		}
	}
	lower := bytes.ToLower(data)
	for name := range m.names {
		if bytes.Contains(lower, []byte(name)) {
			return Masked
		}
	}
	return string(data)
}

// decodeJSON is data decoded as JSON, numbers as json.Number, when data is exactly one JSON
// value: anything after the first value would be kept unmasked and unmatched.
func decodeJSON(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// baseType is a Content-Type's media type alone, lower-cased, without its parameters.
func baseType(contentType string) string {
	return strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
}

// quoted reports whether data holds a marked name in quotes, in any letter case, as a JSON
// member name would be (escapes aside: a body that spells one with an escape is decoded like any
// other).
func (m *mask) quoted(data []byte) bool {
	if bytes.IndexByte(data, '\\') >= 0 {
		return true
	}
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return false
		}
		i += j
		for _, q := range m.quotedNames {
			if len(data)-i >= len(q) && bytes.EqualFold(data[i:i+len(q)], q) {
				return true
			}
		}
		i++
	}
}

// json masks v's members with marked names in place, and reports whether it masked any.
func (m *mask) json(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if m.secret(k) && x != nil {
				v[k], changed = Masked, true
			} else if m.json(x) {
				changed = true
			}
		}
	case []any:
		for _, x := range v {
			if m.json(x) {
				changed = true
			}
		}
	}
	return changed
}

// Secrets calls found with the name of every property and parameter of doc (Properties) that
// doc marks as a secret: `format: password` or `writeOnly`.
func Secrets(doc *openapi3.T, found func(name string)) {
	Properties(doc, func(name string, s *openapi3.Schema) {
		if Marked(s) {
			found(name)
		}
	})
}

// Marked reports whether s is marked as a secret, as the specs mark secrets: `format: password`,
// or `writeOnly` (a value that is sent and never answered).
func Marked(s *openapi3.Schema) bool { return s.Format == "password" || s.WriteOnly }

// Properties calls visit with the name and schema of every property of doc's schemas (its
// components, and the request bodies and responses of its operations, at any depth) and of every
// parameter of its operations.
func Properties(doc *openapi3.T, visit func(name string, s *openapi3.Schema)) {
	w := walk{seen: map[*openapi3.Schema]bool{}, visit: visit}
	for _, ref := range doc.Components.Schemas {
		w.schema(ref)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value != nil {
					w.named(p.Value.Name, p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, c := range op.RequestBody.Value.Content {
					w.schema(c.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, c := range r.Value.Content {
						w.schema(c.Schema)
					}
				}
			}
		}
	}
}

// walk visits each named schema, and walks each schema below it once.
type walk struct {
	seen  map[*openapi3.Schema]bool
	visit func(string, *openapi3.Schema)
}

func (w *walk) named(name string, ref *openapi3.SchemaRef) {
	if ref != nil && ref.Value != nil {
		w.visit(name, ref.Value)
	}
	w.schema(ref)
}

func (w *walk) schema(ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || w.seen[ref.Value] {
		return
	}
	s := ref.Value
	w.seen[s] = true
	for name, p := range s.Properties {
		w.named(name, p)
	}
	w.schema(s.Items)
	w.schema(s.AdditionalProperties.Schema)
	for _, sub := range slices.Concat(s.AllOf, s.AnyOf, s.OneOf) {
		w.schema(sub)
	}
}
