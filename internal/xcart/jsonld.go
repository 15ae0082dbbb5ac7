package xcart

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apperr"
)

// profileIRI is the IRI of the profile id, its JSON-LD @id and its Location.
func profileIRI(id int) string { return "/api/profiles/" + strconv.Itoa(id) }

// toJSONLD is p as API Platform's JSON-LD item: @context (on an item answered alone, not on the
// members of a collection), @id and @type, then the profile's fields. The fields are those of
// toAPI, carried over through their JSON (the generated JSON-LD type repeats the profile's fields
// rather than embedding its type), so that both representations hold the same values.
func toJSONLD(p Profile, withContext bool) (gen.ProfileJsonld, error) {
	js, err := json.Marshal(toAPI(p))
	if err != nil {
		return gen.ProfileJsonld{}, apperr.Internal(fmt.Errorf("profile as JSON: %w", err))
	}
	var out gen.ProfileJsonld
	if err := json.Unmarshal(js, &out); err != nil {
		return gen.ProfileJsonld{}, apperr.Internal(fmt.Errorf("profile as JSON-LD: %w", err))
	}
	if withContext {
		ctx := string(gen.ApicontextsProfile)
		out.Context = &ctx
	}
	out.Iri, out.Type = profileIRI(p.ID), gen.ProfileJsonldTypeProfile
	return out, nil
}

// collection is page as API Platform 2.7's JSON-LD collection (a hydra:Collection with its
// PartialCollectionView and its filters' IriTemplate); rep says the path and query the request
// was sent with, which the paging links repeat.
func collection(page ProfilePage, rep representation) (gen.ProfileCollectionJsonld, error) {
	members := make([]gen.ProfileJsonld, len(page.Profiles))
	for i, p := range page.Profiles {
		m, err := toJSONLD(p, false)
		if err != nil {
			return gen.ProfileCollectionJsonld{}, err
		}
		members[i] = m
	}
	return gen.ProfileCollectionJsonld{
		Context:         gen.ApicontextsProfile,
		Id:              gen.Apiprofiles,
		Type:            gen.HydraCollection,
		HydraMember:     members,
		HydraTotalItems: int(page.Total),
		HydraView:       view(page, rep),
		HydraSearch:     search,
	}, nil
}

// view is the hydra:view of a page, as API Platform's PartialCollectionViewNormalizer writes it:
// none for the only page of an unfiltered list; otherwise the page's own IRI and, when there are
// several pages, the first, last, previous and next (each the request's query with its page set,
// IriHelper::createIri).
func view(page ProfilePage, rep representation) *gen.HydraView {
	last := 1
	if page.PerPage > 0 && page.Total > 0 {
		last = int((page.Total + int64(page.PerPage) - 1) / int64(page.PerPage))
	}
	paginated := last != 1
	query := parseQuery(rep.query)
	if len(query) == 0 && !paginated {
		return nil
	}
	v := &gen.HydraView{Type: gen.HydraPartialCollectionView, Id: iri(rep.path, query, 0)}
	if !paginated {
		return v
	}
	link := func(n int) *string { s := iri(rep.path, query, n); return &s }
	v.Id = *link(page.Page)
	v.HydraFirst, v.HydraLast = link(1), link(last)
	if page.Page != 1 {
		v.HydraPrevious = link(page.Page - 1)
	}
	if page.Page < last {
		v.HydraNext = link(page.Page + 1)
	}
	return v
}

// param is one query parameter, decoded.
type param struct{ key, value string }

// parseQuery reads a raw query into its parameters in the order sent; a key sent again keeps the
// place of its first value and takes the last, as PHP's parse_str does.
func parseQuery(raw string) []param {
	var out []param
	at := map[string]int{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		if i, ok := at[key]; ok {
			out[i].value = value
			continue
		}
		at[key] = len(out)
		out = append(out, param{key, value})
	}
	return out
}

// iri is path with the query params, and page set (in its place, or last) when it is above 0,
// encoded as PHP's http_build_query(…, PHP_QUERY_RFC3986) does.
func iri(path string, params []param, page int) string {
	var b strings.Builder
	b.WriteString(path)
	sep := "?"
	write := func(k, v string) {
		b.WriteString(sep + rawURLEncode(k) + "=" + rawURLEncode(v))
		sep = "&"
	}
	set := false
	for _, p := range params {
		if p.key == "page" && page > 0 {
			write(p.key, strconv.Itoa(page))
			set = true
			continue
		}
		write(p.key, p.value)
	}
	if page > 0 && !set {
		write("page", strconv.Itoa(page))
	}
	return b.String()
}

// rawURLEncode is PHP's rawurlencode: every byte but ASCII letters, digits and "-_.~" as %XX.
func rawURLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// search is the hydra:search of the profiles, as API Platform's CollectionFiltersNormalizer writes
// it from the filters of X-Cart's Profile resource, in their order there: IntegerDateFilter on
// first_login and added, then SearchFilter on login and searchFakeField (each with its array
// form, "login[]").
var search = func() gen.HydraSearch {
	var vars []string
	var mapping []gen.HydraMapping
	add := func(variable, property string) {
		vars = append(vars, variable)
		mapping = append(mapping, gen.HydraMapping{Type: gen.IriTemplateMapping, Variable: variable, Property: property})
	}
	for _, property := range []string{"first_login", "added"} {
		for _, key := range []string{"before", "strictly_before", "after", "strictly_after"} {
			add(property+"["+key+"]", property)
		}
	}
	for _, property := range []string{"login", "searchFakeField"} {
		add(property, property)
		add(property+"[]", property)
	}
	return gen.HydraSearch{
		Type:                        gen.HydraIriTemplate,
		HydraTemplate:               "/api/profiles{?" + strings.Join(vars, ",") + "}",
		HydraVariableRepresentation: gen.BasicRepresentation,
		HydraMapping:                mapping,
	}
}()
