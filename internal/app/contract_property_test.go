package app_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/openapi"
)

// TestSpecsPredictEveryAnswer is a property-based contract test, as a tester such as
// Schemathesis runs one from the specs alone: for every operation of the five vendor specs it
// generates schema-valid requests (values drawn from each schema: patterns, lengths, bounds,
// enums, formats, examples), follows the specs' links from each successful create to the
// operations on what it created, and sends schema-invalid variants (U+0000 in a string, an
// integer past its bound, a required property left out). Every answer must be one the spec
// predicts: no 5xx; a status the operation documents; a body that conforms (apitest validates
// every response); an invalid request refused with a 4xx; and a valid request refused only by a
// rule that depends on stored or reference data, which the operation's description names with
// the message it answers (issue 17, item 9). The seed is fixed, so a failure replays.
func TestSpecsPredictEveryAnswer(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) {
			c.FixturesFile = "../fixtures/example.yaml"
		}})
		for _, name := range openapi.Names() {
			if name == "control" {
				continue
			}
			t.Run(name, func(t *testing.T) {
				_, doc, err := openapi.Load(name)
				if err != nil {
					t.Fatal(err)
				}
				c := &contractRun{t: t, s: s, api: name, doc: doc, rnd: rand.New(rand.NewPCG(uint64(contractSeed), uint64(len(name))))}
				c.authenticate()
				c.run()
				c.report()
				t.Logf("seed %d, %d schema-valid requests per operation", contractSeed, casesPerOperation)
			})
		}
	})
}

// casesPerOperation is how many schema-valid requests each operation gets
// (PROVISIOND_CONTRACT_CASES for a longer run), and contractSeed the generator's seed
// (PROVISIOND_CONTRACT_SEED to draw other requests).
var casesPerOperation, contractSeed = envInt("PROVISIOND_CONTRACT_CASES", 30), envInt("PROVISIOND_CONTRACT_SEED", 17)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

type contractRun struct {
	t   *testing.T
	s   *apitest.Server
	api string
	doc *openapi3.T
	rnd *rand.Rand

	ops   []operation          // the spec's operations, logouts last
	byID  map[string]operation // the same by operationId
	token string               // the OCC access token (occadmin, occstore)
	reset bool                 // while resetting to log in again
	// unnamed lists each refusal of a valid request that its operation's description does not
	// name, once: "operation status message".
	unnamed map[string]string
	sent    map[string]int // requests sent by operation
	valid   map[string]int // of which schema-valid
	missed  map[string]int // tries in which no schema-valid request was found, by operation
	success int            // answers 2xx
}

// operation is one operation of the spec with its path and method.
type operation struct {
	path, method string
	op           *openapi3.Operation
	params       openapi3.Parameters
}

func (c *contractRun) operations() []operation {
	var out []operation
	for _, path := range c.doc.Paths.InMatchingOrder() {
		item := c.doc.Paths.Value(path)
		ops := item.Operations()
		for _, m := range slices.Sorted(maps.Keys(ops)) {
			out = append(out, operation{path: path, method: m, op: ops[m], params: slices.Concat(item.Parameters, ops[m].Parameters)})
		}
	}
	// Logouts last: they end the token the other operations use.
	slices.SortStableFunc(out, func(a, b operation) int {
		return cmp.Compare(logout(a), logout(b))
	})
	return out
}

func logout(o operation) int {
	if strings.Contains(strings.ToLower(o.op.OperationID), "logout") {
		return 1
	}
	return 0
}

// authenticate gets the OCC access tokens the operations need: the application key's for the
// admin API, a delegated administrator's (the fixtures' Ada) for the store API.
func (c *contractRun) authenticate() {
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	var res *apitest.Response
	switch c.api {
	case "occadmin":
		res = c.s.Call(c.t, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", append(form, "Authorization", "Bearer ci-occadmin-application-key-0001")...)
	case "occstore":
		res = c.s.Call(c.t, "POST", "/ccstore/v1/login", "grant_type=password&username=ada@acme.example&password=ada-password", form...)
	default:
		return
	}
	if res.Status == http.StatusUnauthorized && c.api == "occstore" && !c.reset {
		// The generated requests may have deactivated Ada (once another administrator was
		// created): back to the baseline through the control API, as a test suite would.
		c.reset = true
		key, err := credential.NewStore(c.s.DB).Create(context.Background(), "control", false)
		if err != nil {
			c.t.Fatal(err)
		}
		if r := c.s.Call(c.t, "POST", "/_provisiond/v1/reset", nil, "Authorization", "Bearer "+key); r.Status != http.StatusOK {
			c.t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		c.authenticate()
		c.reset = false
		return
	}
	if res.Status != http.StatusOK {
		c.t.Fatalf("%s login: %d %s", c.api, res.Status, res.Body)
	}
	c.token = res.Map(c.t)["access_token"].(string)
}

// credential sets the request's credential for the operation's first security requirement.
func (c *contractRun) credential(req *http.Request, o operation) {
	reqs := c.doc.Security
	if o.op.Security != nil {
		reqs = *o.op.Security
	}
	if len(reqs) == 0 {
		return
	}
	for scheme := range reqs[0] {
		switch c.api + "/" + scheme {
		case "xcart/Token":
			req.Header.Set("X-Auth-Token", "ci-xcart-read-write-key-0001")
		case "xcart/JWT":
			req.Header.Set("X-Auth-Token", "ci-xcart-read-write-key-0001")
		case "platformos/Token":
			req.Header.Set("Authorization", "Token token=ci-platformos-api-token-0001")
		case "occadmin/ApplicationKey":
			req.Header.Set("Authorization", "Bearer ci-occadmin-application-key-0001")
		case "occadmin/AccessToken", "occstore/AccessToken":
			req.Header.Set("Authorization", "Bearer "+c.token)
		case "activeplatform/ApiToken":
			q := req.URL.Query()
			q.Set("api_token", "ci-activeplatform-api-token-0001")
			req.URL.RawQuery = q.Encode()
		default:
			c.t.Fatalf("%s: no credential for security scheme %s", c.api, scheme)
		}
	}
}

func (c *contractRun) run() {
	c.unnamed, c.sent, c.valid, c.missed = map[string]string{}, map[string]int{}, map[string]int{}, map[string]int{}
	c.ops, c.byID = c.operations(), map[string]operation{}
	for _, o := range c.ops {
		c.byID[o.op.OperationID] = o
	}
	for _, o := range c.ops {
		for range casesPerOperation {
			in := c.request(o, nil)
			if in == nil {
				c.missed[o.op.OperationID]++
				continue
			}
			res := c.send(o, in, true)
			if res != nil && res.Status < 300 {
				c.follow(o, in, res)
			}
			if logout(o) == 1 {
				c.authenticate()
			}
		}
		for _, mutate := range []func(*input) bool{c.putNUL, c.pastBound, c.dropRequired} {
			for range 3 {
				in := c.request(o, nil)
				if in == nil || !mutate(in) {
					break
				}
				c.send(o, in, false)
				if logout(o) == 1 {
					c.authenticate()
				}
			}
		}
	}
}

// report fails for every operation that never got a schema-valid request (the generator could
// not satisfy its schema, so it was not tested) and lists the refusals no description names.
func (c *contractRun) report() {
	for _, o := range c.ops {
		if missed := c.missed[o.op.OperationID]; missed > casesPerOperation/10 {
			c.t.Errorf("%s: no schema-valid request could be generated for %s %s in %d of %d tries: its schemas are not tested", o.op.OperationID, o.method, o.path, missed, casesPerOperation)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.unnamed)) {
		c.t.Errorf("a schema-valid request was refused by a rule the operation's description does not name: %s\n  example: %s", k, c.unnamed[k])
	}
	total := 0
	for _, n := range c.sent {
		total += n
	}
	c.t.Logf("%s: %d requests over %d operations, %d answered 2xx", c.api, total, len(c.sent), c.success)
}

// input is one generated request: its parameters by location and name, and its body.
type input struct {
	path, query, header map[string]any
	body                any
	media               string
	schema              *openapi3.Schema // the body's
	params              *openapi3.Schema // the parameters' schemas, as the properties of one
}

// request generates a schema-valid request for o, with the parameters of given (from a link)
// taking their given values; nil when no valid request could be generated.
func (c *contractRun) request(o operation, given map[string]any) *input {
	in := &input{path: map[string]any{}, query: map[string]any{}, header: map[string]any{}, params: &openapi3.Schema{Properties: openapi3.Schemas{}}}
	for _, pr := range o.params {
		p := pr.Value
		in.params.Properties[p.Name] = p.Schema
		if v, ok := given[p.In+"."+p.Name]; ok {
			in.at(p.In)[p.Name] = v
			continue
		}
		if !p.Required && c.rnd.IntN(2) == 0 {
			continue
		}
		if p.Name == "api_token" {
			continue
		}
		v, ok := c.value(p.Schema.Value, 0)
		if !ok {
			return nil
		}
		in.at(p.In)[p.Name] = v
	}
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		media := "application/json"
		mt := rb.Value.Content.Get(media)
		if mt == nil {
			for _, m := range slices.Sorted(maps.Keys(rb.Value.Content)) {
				media, mt = m, rb.Value.Content[m]
				break
			}
		}
		if rb.Value.Required || c.rnd.IntN(4) > 0 {
			v, ok := c.fromExample(mt)
			if !ok {
				if v, ok = c.value(mt.Schema.Value, 0); !ok {
					return nil
				}
			}
			in.body, in.media, in.schema = v, media, mt.Schema.Value
		}
	}
	return in
}

// fromExample draws, half the time, a body from one of the media type's examples (as testers
// use a spec's explicit examples): each of its properties kept or drawn afresh from its schema.
func (c *contractRun) fromExample(mt *openapi3.MediaType) (any, bool) {
	var examples []any
	if mt.Example != nil {
		examples = append(examples, mt.Example)
	}
	for _, k := range slices.Sorted(maps.Keys(mt.Examples)) {
		if e := mt.Examples[k]; e != nil && e.Value != nil && e.Value.Value != nil {
			examples = append(examples, e.Value.Value)
		}
	}
	if len(examples) == 0 || c.rnd.IntN(2) == 0 {
		return nil, false
	}
	v := c.blend(jsonValue(examples[c.rnd.IntN(len(examples))]), mt.Schema.Value)
	return v, len(httpserver.SchemaIssues(mt.Schema.Value, jsonValue(v))) == 0
}

func (c *contractRun) blend(example any, s *openapi3.Schema) any {
	m, ok := example.(map[string]any)
	if !ok || s == nil {
		return example
	}
	out := map[string]any{}
	for k, e := range m {
		p := s.Properties[k]
		if p == nil || c.rnd.IntN(2) == 0 {
			out[k] = c.blend(e, nil)
			if p != nil {
				out[k] = c.blend(e, p.Value)
			}
			continue
		}
		if v, ok := c.value(p.Value, 1); ok {
			out[k] = v
		}
	}
	return out
}

func (in *input) at(where string) map[string]any {
	switch where {
	case "path":
		return in.path
	case "query":
		return in.query
	}
	return in.header
}

// send builds the HTTP request of in, sends it and checks the answer; valid says whether in
// conforms to the spec.
func (c *contractRun) send(o operation, in *input, valid bool) *apitest.Response {
	path := o.path
	for name, v := range in.path {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(text(v)))
	}
	q := url.Values{}
	for name, v := range in.query {
		query(q, name, v)
	}
	var body string
	if in.media != "" {
		if strings.Contains(in.media, "json") {
			b, _ := json.Marshal(in.body)
			body = string(b)
		} else {
			f := url.Values{}
			for name, v := range in.body.(map[string]any) {
				query(f, name, v)
			}
			body = f.Encode()
		}
	}
	req, err := http.NewRequest(o.method, path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.RawQuery = q.Encode()
	if in.media != "" {
		req.Header.Set("Content-Type", in.media)
	}
	for name, v := range in.header {
		req.Header.Set(name, text(v))
	}
	c.credential(req, o)
	res := c.s.Do(c.t, req)
	id := o.op.OperationID
	c.sent[id]++
	if res.Status < 300 {
		c.success++
	}
	if valid {
		c.valid[id]++
	}
	example := fmt.Sprintf("%s %s?%s %s → %d %s", o.method, path, req.URL.RawQuery, body, res.Status, res.Body)
	switch {
	case res.Status >= 500:
		c.t.Errorf("%s: server error: %s", id, example)
	case o.op.Responses.Status(res.Status) == nil && o.op.Responses.Default() == nil:
		c.t.Errorf("%s: status %d is not documented: %s", id, res.Status, example)
	case !valid && res.Status < 400:
		c.t.Errorf("%s: a request that breaks the spec was accepted: %s", id, example)
	case valid && res.Status >= 400 && res.Status != http.StatusUnauthorized && res.Status != http.StatusNotFound:
		// 401 (the tester's credential) and 404 (an id nothing has) need no rule to be named.
		c.named(o, res, example)
	}
	return res
}

// named records the messages of a refusal of a valid request that o's description (or the
// description of the answer's status) does not name.
func (c *contractRun) named(o operation, res *apitest.Response, example string) {
	text := o.op.Description
	if strings.Contains(text, "same operation as") {
		// A twin (a format suffix, OCC's path without its trailing slash) has its base's rules.
		for _, base := range []string{strings.TrimSuffix(strings.TrimSuffix(o.path, ".jsonld"), ".json"), o.path + "/"} {
			if item := c.doc.Paths.Value(base); item != nil && base != o.path {
				if op := item.GetOperation(o.method); op != nil {
					text += "\n" + op.Description
				}
			}
		}
	}
	if r := o.op.Responses.Status(res.Status); r != nil && r.Value != nil && r.Value.Description != nil {
		text += "\n" + *r.Value.Description
	}
	for _, m := range messages(res.Body) {
		if !namedIn(text, m) {
			c.unnamed[fmt.Sprintf("%s %d %q", o.op.OperationID, res.Status, normal(m))] = example
		}
	}
}

var (
	digits      = regexp.MustCompile(`<[^>]*>|\d+`)
	placeholder = regexp.MustCompile(`<[^>]*>`)
	quoted      = regexp.MustCompile("`[^`]+`|\"[^\"]+\"")
)

// namedIn tells whether the description text names message m: word for word (numbers aside), or
// as one of its quoted messages (in backticks or double quotes) whose <placeholders> stand for
// any text, e.g. "The role <id> does not exist.".
func namedIn(text, m string) bool {
	text, m = strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(m), " ")
	if strings.Contains(normal(text), normal(m)) {
		return true
	}
	for _, q := range quoted.FindAllString(text, -1) {
		q = q[1 : len(q)-1]
		parts := placeholder.Split(q, -1)
		if len(parts) < 2 || len(strings.Join(parts, "")) < 4 {
			continue
		}
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(strings.TrimSpace(p))
		}
		if regexp.MustCompile(`(?is)^` + strings.Join(parts, `\s*.*?\s*`) + `$`).MatchString(m) {
			return true
		}
	}
	return false
}

// normal is text in lower case with every number and <placeholder> as #, so that a message
// with an id matches its description's "<id>".
func normal(s string) string {
	return digits.ReplaceAllString(strings.ToLower(s), "#")
}

// messages lists what a vendor error body says: X-Cart's violations (or detail), OCC's
// message(s), platformOS's errors, ActivePlatform's error (each of its comma-joined problems).
func messages(body []byte) []string {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	if vs, ok := v["violations"].([]any); ok {
		for _, x := range vs {
			if m, ok := x.(map[string]any)["message"].(string); ok {
				out = append(out, m)
			}
		}
		return out
	}
	if errs, ok := v["errors"].([]any); ok { // OCC, several problems
		for _, x := range errs {
			if m, ok := x.(map[string]any)["message"].(string); ok {
				out = append(out, m)
			}
		}
		return out
	}
	if errs, ok := v["errors"].(map[string]any); ok { // platformOS
		for _, k := range slices.Sorted(maps.Keys(errs)) {
			for _, m := range errs[k].([]any) {
				out = append(out, m.(string))
			}
		}
		return out
	}
	for _, k := range []string{"detail", "hydra:description", "message"} {
		if m, ok := v[k].(string); ok {
			return []string{m}
		}
	}
	if m, ok := v["error"].(string); ok {
		return strings.Split(m, ", ")
	}
	return nil
}

// follow calls, after a successful create, each operation its answer links to, with the
// parameters the link gives.
func (c *contractRun) follow(o operation, in *input, res *apitest.Response) {
	r := o.op.Responses.Status(res.Status)
	if r == nil || r.Value == nil || len(r.Value.Links) == 0 {
		return
	}
	var body map[string]any
	_ = json.Unmarshal(res.Body, &body)
	for _, name := range slices.Sorted(maps.Keys(r.Value.Links)) {
		l := r.Value.Links[name].Value
		target, ok := c.byID[l.OperationID]
		if !ok {
			c.t.Errorf("%s: link %s names no operation %s", o.op.OperationID, name, l.OperationID)
			continue
		}
		given := map[string]any{}
		for pname, expr := range l.Parameters {
			where, pn, ok := strings.Cut(pname, ".")
			if !ok {
				where, pn = "path", pname
			}
			e := expr.(string)
			switch {
			case strings.HasPrefix(e, "$response.body#/"):
				given[where+"."+pn] = body[strings.TrimPrefix(e, "$response.body#/")]
			case strings.HasPrefix(e, "$request.path."):
				given[where+"."+pn] = in.path[strings.TrimPrefix(e, "$request.path.")]
			case strings.HasPrefix(e, "$request.header."):
				if v, ok := in.header[strings.TrimPrefix(e, "$request.header.")]; ok {
					given[where+"."+pn] = v
				}
			default:
				c.t.Errorf("%s: link %s: expression %s is not understood", o.op.OperationID, name, e)
			}
		}
		if next := c.request(target, given); next != nil {
			c.send(target, next, true)
		}
	}
}

// putNUL puts U+0000 into one of the request's strings (a parameter or a body value); false
// when it has none.
func (c *contractRun) putNUL(in *input) bool {
	type spot struct {
		m   map[string]any
		key string
	}
	var spots []spot
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, v := range m {
			switch x := v.(type) {
			case string:
				spots = append(spots, spot{m, k})
			case map[string]any:
				walk(x)
			}
		}
	}
	walk(in.path)
	walk(in.query)
	if b, ok := in.body.(map[string]any); ok {
		walk(b)
	}
	if len(spots) == 0 {
		return false
	}
	sp := spots[c.rnd.IntN(len(spots))]
	sp.m[sp.key] = sp.m[sp.key].(string) + "\x00"
	return true
}

// pastBound sets one integer parameter or body property to 10^20, past every integer's maximum;
// false when the request has none. (Integers inside free-form values are any JSON value.)
func (c *contractRun) pastBound(in *input) bool {
	type spot struct {
		m   map[string]any
		key string
	}
	var spots []spot
	var walk func(m map[string]any, s *openapi3.Schema)
	walk = func(m map[string]any, s *openapi3.Schema) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := s.Properties[k]
			if p == nil || p.Value == nil {
				continue
			}
			switch x := m[k].(type) {
			case int64:
				if p.Value.Type.Is(openapi3.TypeInteger) {
					spots = append(spots, spot{m, k})
				}
			case map[string]any:
				walk(x, p.Value)
			}
		}
	}
	walk(in.path, in.params)
	walk(in.query, in.params)
	if b, ok := in.body.(map[string]any); ok && in.schema != nil {
		walk(b, in.schema)
	}
	if len(spots) == 0 {
		return false
	}
	sp := spots[c.rnd.IntN(len(spots))]
	sp.m[sp.key] = json.Number("100000000000000000000")
	return true
}

// dropRequired leaves out a required property of the body; false when it has none.
func (c *contractRun) dropRequired(in *input) bool {
	b, ok := in.body.(map[string]any)
	if !ok || in.schema == nil {
		return false
	}
	var present []string
	for _, k := range in.schema.Required {
		if _, ok := b[k]; ok {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		return false
	}
	delete(b, present[c.rnd.IntN(len(present))])
	return true
}

// text is the parameter form of a generated value.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// query adds v under name as a form would send it: arrays as repeated values, objects in
// deepObject (Rack) style name[key].
func query(q url.Values, name string, v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			query(q, name, e)
		}
	case map[string]any:
		for k, e := range x {
			query(q, name+"["+k+"]", e)
		}
	default:
		q.Add(name, text(v))
	}
}

// value generates a value valid against s (as a request: readOnly properties left out), or
// false when none was found in a few tries.
func (c *contractRun) value(s *openapi3.Schema, depth int) (any, bool) {
	for range 40 {
		v := c.draw(s, depth)
		if len(httpserver.SchemaIssues(s, jsonValue(v))) == 0 {
			return v, true
		}
	}
	return nil, false
}

// jsonValue is v as kin-openapi sees a decoded body (numbers as float64).
func jsonValue(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func (c *contractRun) draw(s *openapi3.Schema, depth int) any {
	r := c.rnd
	switch {
	case len(s.Enum) > 0:
		return s.Enum[r.IntN(len(s.Enum))]
	case s.Example != nil && r.IntN(3) == 0:
		return s.Example
	case s.Nullable && r.IntN(8) == 0:
		return nil
	case len(s.OneOf) > 0:
		return c.draw(s.OneOf[r.IntN(len(s.OneOf))].Value, depth)
	case len(s.AllOf) > 0:
		// The parts as one object schema: their properties, required names and anyOf.
		merged := &openapi3.Schema{Properties: openapi3.Schemas{}}
		for _, part := range s.AllOf {
			if len(s.AllOf) == 1 && !part.Value.Type.Is(openapi3.TypeObject) && len(part.Value.Properties) == 0 {
				return c.draw(part.Value, depth)
			}
			maps.Copy(merged.Properties, part.Value.Properties)
			merged.Required = append(merged.Required, part.Value.Required...)
			merged.AnyOf = append(merged.AnyOf, part.Value.AnyOf...)
		}
		return c.drawObject(merged, depth)
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		return c.drawString(s)
	case s.Type.Is(openapi3.TypeInteger):
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if s.Min != nil {
			lo = clamp(*s.Min)
		}
		if s.Max != nil {
			hi = clamp(*s.Max)
		}
		switch r.IntN(4) {
		case 0:
			return lo
		case 1:
			return hi
		}
		if hi-lo > 100 || hi-lo < 0 {
			return lo + r.Int64N(100)
		}
		return lo + r.Int64N(hi-lo+1)
	case s.Type.Is(openapi3.TypeNumber):
		return r.Float64() * 100
	case s.Type.Is(openapi3.TypeBoolean):
		return r.IntN(2) == 0
	case s.Type.Is(openapi3.TypeArray):
		n := int(s.MinItems) + r.IntN(3)
		if s.MaxItems != nil && uint64(n) > *s.MaxItems {
			n = int(*s.MaxItems)
		}
		out := make([]any, 0, n)
		for range n {
			if depth > 4 {
				break
			}
			v, ok := c.value(s.Items.Value, depth+1)
			if ok {
				out = append(out, v)
			}
		}
		return out
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		return c.drawObject(s, depth)
	}
	// Any JSON value.
	switch r.IntN(4) {
	case 0:
		return "v" + strconv.Itoa(r.IntN(1000))
	case 1:
		return int64(r.IntN(1000))
	case 2:
		return r.IntN(2) == 0
	}
	return map[string]any{"k": "v"}
}

func clamp(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func (c *contractRun) drawObject(s *openapi3.Schema, depth int) map[string]any {
	required := slices.Clone(s.Required)
	if len(s.AnyOf) > 0 { // "one of these properties is required"
		required = append(required, s.AnyOf[c.rnd.IntN(len(s.AnyOf))].Value.Required...)
	}
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[k].Value
		if p.ReadOnly || (!slices.Contains(required, k) && c.rnd.IntN(2) == 0) {
			continue
		}
		if v, ok := c.value(p, depth+1); ok {
			out[k] = v
		}
	}
	if as := s.AdditionalProperties.Schema; as != nil && as.Value != nil && depth < 3 {
		for range c.rnd.IntN(3) {
			if v, ok := c.value(as.Value, depth+1); ok {
				out["X"+strconv.Itoa(c.rnd.IntN(100000))] = v
			}
		}
	}
	return out
}

func (c *contractRun) drawString(s *openapi3.Schema) string {
	r := c.rnd
	switch s.Format {
	case "date-time":
		return time.Date(2020+r.IntN(10), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC).Format(time.RFC3339)
	case "date":
		return time.Date(2020+r.IntN(10), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case "email":
		if r.IntN(2) == 0 {
			return fmt.Sprintf("p%d@example.com", r.IntN(1_000_000))
		}
	}
	if s.Pattern == "" {
		return fmt.Sprintf("s%d", r.IntN(1_000_000))
	}
	re, err := syntax.Parse(s.Pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	c.regexString(&b, re, int(s.MinLength))
	return b.String()
}

// regexString writes a string that re matches; repetitions are drawn long enough to reach
// minLength now and then.
func (c *contractRun) regexString(b *strings.Builder, re *syntax.Regexp, minLength int) {
	r := c.rnd
	reps := func(lo, hi int) int {
		span := max(3, minLength+4)
		if hi < 0 || hi > lo+span {
			hi = lo + span
		}
		return lo + r.IntN(hi-lo+1)
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, ch := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				ch = unicode.SimpleFold(ch)
			}
			b.WriteRune(ch)
		}
	case syntax.OpCharClass:
		b.WriteRune(c.classRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(rune('a' + r.IntN(26)))
	case syntax.OpCapture:
		c.regexString(b, re.Sub[0], minLength)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			c.regexString(b, sub, minLength)
		}
	case syntax.OpAlternate:
		c.regexString(b, re.Sub[r.IntN(len(re.Sub))], minLength)
	case syntax.OpStar:
		for range reps(0, -1) {
			c.regexString(b, re.Sub[0], minLength)
		}
	case syntax.OpPlus:
		for range reps(1, -1) {
			c.regexString(b, re.Sub[0], minLength)
		}
	case syntax.OpQuest:
		if r.IntN(2) == 0 {
			c.regexString(b, re.Sub[0], minLength)
		}
	case syntax.OpRepeat:
		for range reps(re.Min, re.Max) {
			c.regexString(b, re.Sub[0], minLength)
		}
	}
}

// classRune draws a rune of a character class (pairs of ranges): mostly printable ASCII, now
// and then any rune of the class (letters and marks of other scripts, symbols).
func (c *contractRun) classRune(ranges []rune) rune {
	r := c.rnd
	if r.IntN(5) > 0 {
		var ascii []rune
		for i := 0; i+1 < len(ranges); i += 2 {
			for ch := max(ranges[i], 0x20); ch <= min(ranges[i+1], 0x7e); ch++ {
				ascii = append(ascii, ch)
			}
		}
		if len(ascii) > 0 {
			return ascii[r.IntN(len(ascii))]
		}
	}
	for {
		i := 2 * r.IntN(len(ranges)/2)
		lo, hi := ranges[i], min(ranges[i+1], 0x2FFF)
		if hi < lo {
			hi = ranges[i+1]
		}
		ch := lo + rune(r.IntN(int(hi-lo)+1))
		if unicode.IsPrint(ch) || ch < 0x20 {
			return ch
		}
	}
}

// TestNamedIn checks how the property test tells a named refusal from an unnamed one.
func TestNamedIn(t *testing.T) {
	const description = `Refusals: an email taken, 400 error 22006 "A profile with this email already exists."; a role
        nobody has, 89001 "The role <id> does not exist."; a user no one has, 404 ` + "`Couldn't find User with 'id'=<id>`" + `;
        "<name>" alone says nothing.`
	for _, c := range []struct {
		message string
		named   bool
	}{
		{"A profile with this email already exists.", true},
		{"The role bogusRole does not exist.", true},
		{"The role  does not exist.", true}, // an empty id
		{"Couldn't find User with 'id'=42", true},
		{"the role x does not exist.", true}, // letter case aside
		{"A profile with this login already exists.", false},
		{"The role x is not allowed.", false},
		{"anything", false}, // a quoted placeholder alone names nothing
	} {
		if got := namedIn(description, c.message); got != c.named {
			t.Errorf("namedIn(%q) = %v, want %v", c.message, got, c.named)
		}
	}
}
