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

// addressesIRI is the IRI of the addresses of profile profileID, their collection's @id.
func addressesIRI(profileID int) string { return profileIRI(profileID) + "/addresses" }

// addressIRI is the IRI of address id of profile profileID (the path of X-Cart's item operation,
// /profiles/{profile_id}/addresses/{address_id}), its JSON-LD @id and its Location.
func addressIRI(profileID, id int) string { return addressesIRI(profileID) + "/" + strconv.Itoa(id) }

// jsonldItem is plain, an item in the API's JSON type, in its JSON-LD type J, as API Platform
// writes an item: the item's fields carried over through their JSON (the generated JSON-LD types
// repeat the item's fields rather than embedding its type), so that both representations hold
// the same values; node sets @context, @id and @type.
func jsonldItem[A, J any](plain A, node func(*J)) (J, error) {
	var out J
	js, err := json.Marshal(plain)
	if err != nil {
		return out, apperr.Internal(fmt.Errorf("%T as JSON: %w", plain, err))
	}
	if err := json.Unmarshal(js, &out); err != nil {
		return out, apperr.Internal(fmt.Errorf("%T as JSON-LD: %w", plain, err))
	}
	node(&out)
	return out, nil
}

// jsonldMembers are items as the members of a JSON-LD collection (items without @context).
func jsonldMembers[T, J any](items []T, toJSONLD func(T, bool) (J, error)) ([]J, error) {
	out := make([]J, len(items))
	for i, item := range items {
		m, err := toJSONLD(item, false)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// contextIf is the @context of an item: context on an item answered alone (withContext), none on
// the members of a collection.
func contextIf[S ~string](withContext bool, context S) *string {
	if !withContext {
		return nil
	}
	s := string(context)
	return &s
}

// toJSONLD is p as API Platform's JSON-LD item (jsonldItem) of X-Cart's Profile resource.
func toJSONLD(p Profile, withContext bool) (gen.ProfileJsonld, error) {
	return jsonldItem(toAPI(p), func(out *gen.ProfileJsonld) {
		out.Context, out.Iri, out.Type = contextIf(withContext, gen.ApicontextsProfile), profileIRI(p.ID), gen.ProfileJsonldTypeProfile
	})
}

// addressToJSONLD is a as API Platform's JSON-LD item (jsonldItem) of X-Cart's address resource:
// the Address entity, which has no shortName, so its @type is "Address" and its context
// /api/contexts/Address.
func addressToJSONLD(a Address, withContext bool) (gen.AddressJsonld, error) {
	return jsonldItem(addressToAPI(a), func(out *gen.AddressJsonld) {
		out.Context, out.Iri, out.RdfType = contextIf(withContext, gen.ApicontextsAddress), addressIRI(a.ProfileID, a.ID), gen.Address
	})
}

// collection is page as API Platform 2.7's JSON-LD collection (a hydra:Collection with its
// PartialCollectionView and its filters' IriTemplate); rep says the path and query the request
// was sent with, which the paging links repeat.
func collection(page ProfilePage, rep representation) (gen.ProfileCollectionJsonld, error) {
	members, err := jsonldMembers(page.Profiles, toJSONLD)
	if err != nil {
		return gen.ProfileCollectionJsonld{}, err
	}
	return gen.ProfileCollectionJsonld{
		Context:         gen.ApicontextsProfile,
		Id:              gen.Apiprofiles,
		Type:            gen.ProfileCollectionJsonldTypeHydraCollection,
		HydraMember:     members,
		HydraTotalItems: int(page.Total),
		HydraView:       view(page.Paging, rep),
		HydraSearch:     search,
	}, nil
}

// addressCollection is page, the addresses of profile profileID, as API Platform 2.7's JSON-LD
// collection: as collection, without hydra:search (X-Cart's address resource has no filter).
func addressCollection(page AddressPage, profileID int, rep representation) (gen.AddressCollectionJsonld, error) {
	members, err := jsonldMembers(page.Addresses, addressToJSONLD)
	if err != nil {
		return gen.AddressCollectionJsonld{}, err
	}
	return gen.AddressCollectionJsonld{
		Context:         gen.ApicontextsAddress,
		Id:              addressesIRI(profileID),
		Type:            gen.AddressCollectionJsonldTypeHydraCollection,
		HydraMember:     members,
		HydraTotalItems: int(page.Total),
		HydraView:       view(page.Paging, rep),
	}, nil
}

// view is the hydra:view of a page, as API Platform's PartialCollectionViewNormalizer writes it:
// none for the only page of an unfiltered list; otherwise the page's own IRI and, when there are
// several pages, the first, last, previous and next (each the request's query with its page set,
// IriHelper::createIri).
func view(page Paging, rep representation) *gen.HydraView {
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
