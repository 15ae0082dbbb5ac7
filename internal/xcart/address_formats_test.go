package xcart_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// Every address route answers with API Platform's format suffix as without it: ".json" in JSON
// whatever Accept says, ".jsonld" in JSON-LD; another suffix is API Platform's 404.
func TestAddressFormatSuffixes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "addr@example.com"}))
		for _, suffix := range []string{".json", ".jsonld"} {
			// Accept asks for the other format: the suffix wins.
			accept := map[string]string{".json": "application/ld+json", ".jsonld": "application/json"}[suffix]
			res := x.Call(t, "POST", addressesOf(profile)+suffix, newAddress(nil), "X-Auth-Token", x.key, "Accept", accept)
			if res.Status != http.StatusCreated {
				t.Fatalf("POST %s%s: %d %s", addressesOf(profile), suffix, res.Status, res.Body)
			}
			n := id(t, res.Map(t))
			if got := res.Header.Get("Location"); got != addressPath(profile, n) {
				t.Errorf("POST %s%s: Location %q, want the IRI without the suffix", addressesOf(profile), suffix, got)
			}
			if _, ok := res.Map(t)["@id"]; ok != (suffix == ".jsonld") {
				t.Errorf("POST %s%s (Accept %s): %s, want JSON-LD only for .jsonld", addressesOf(profile), suffix, accept, res.Body)
			}
			path := addressPath(profile, n) + suffix
			x.suffixed(t, suffix, []suffixCall{
				{"GET", path, nil, http.StatusOK},
				{"PUT", path, map[string]any{"city": "Boston"}, http.StatusOK},
				{"GET", addressesOf(profile) + suffix, nil, http.StatusOK},
				{"DELETE", path, nil, http.StatusNoContent},
				{"GET", path, nil, http.StatusNotFound},
			})
		}
		x.notFound(t, []suffixNotFound{
			{"GET", addressesOf(profile) + ".xml", `Format "xml" is not supported`},
			{"GET", addressPath(profile, 1) + ".csv", `Format "csv" is not supported`},
			{"POST", addressesOf(profile) + ".html", `Format "html" is not supported`},
			{"GET", fmt.Sprintf("/api/profiles/%d/addresses/abc.json", profile), "Not Found"},
			{"GET", addressPath(profile, 1) + ".json.json", "Not Found"},
			{"GET", addressPath(profile, 999) + ".json", "Not Found"},
		})
	})
}

// Addresses in JSON-LD carry API Platform's Hydra shapes for X-Cart's Address resource: an item's
// @context, @id and @type; a collection's members, total and paging links (no hydra:search, the
// resource has no filter); errors as hydra:Error and ConstraintViolationList. Bodies may be sent
// as application/ld+json.
func TestAddressJSONLD(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "ld@example.com"}))
		res := x.ld(t, "POST", addressesOf(profile), newAddress(map[string]any{"@context": "/api/contexts/Address", "@type": "Address", "is_billing": true}))
		if res.Status != http.StatusCreated {
			t.Fatalf("POST ld+json: %d %s", res.Status, res.Body)
		}
		item := res.Map(t)
		n := id(t, item)
		iri := addressPath(profile, n)
		if item["@context"] != "/api/contexts/Address" || item["@id"] != iri || item["@type"] != "Address" || item["firstname"] != "Jane" || item["is_billing"] != true {
			t.Errorf("created in JSON-LD: %s, want @context, @id %s, @type Address and the fields", res.Body, iri)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/ld+json") {
			t.Errorf("Content-Type %q, want application/ld+json", got)
		}
		if res := x.ld(t, "PUT", iri, map[string]any{"city": "Boston"}); res.Status != http.StatusOK || res.Map(t)["city"] != "Boston" || res.Map(t)["@id"] != iri {
			t.Errorf("PUT ld+json: %d %s", res.Status, res.Body)
		}
		if res := x.ld(t, "GET", iri, nil); res.Status != http.StatusOK || res.Map(t)["@context"] != "/api/contexts/Address" || res.Map(t)["@id"] != iri {
			t.Errorf("GET ld+json: %d %s", res.Status, res.Body)
		}

		for range 4 {
			x.addAddress(t, profile, newAddress(nil))
		}
		// 5 addresses, 2 a page.
		type collection struct {
			Context    string            `json:"@context"`
			ID         string            `json:"@id"`
			Type       string            `json:"@type"`
			Members    []map[string]any  `json:"hydra:member"`
			TotalItems int               `json:"hydra:totalItems"`
			View       map[string]string `json:"hydra:view"`
			Search     any               `json:"hydra:search"`
		}
		var coll collection
		res = x.ld(t, "GET", addressesOf(profile)+"?itemsPerPage=2&page=2", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("GET collection: %d %s", res.Status, res.Body)
		}
		res.JSON(t, &coll)
		base := addressesOf(profile)
		wantView := map[string]string{
			"@id": base + "?itemsPerPage=2&page=2", "@type": "hydra:PartialCollectionView",
			"hydra:first": base + "?itemsPerPage=2&page=1", "hydra:last": base + "?itemsPerPage=2&page=3",
			"hydra:previous": base + "?itemsPerPage=2&page=1", "hydra:next": base + "?itemsPerPage=2&page=3",
		}
		if coll.Context != "/api/contexts/Address" || coll.ID != base || coll.Type != "hydra:Collection" || coll.TotalItems != 5 ||
			len(coll.Members) != 2 || coll.Search != nil || fmt.Sprint(coll.View) != fmt.Sprint(wantView) {
			t.Errorf("collection: %s\nwant @context Address, @id %s, 5 in all, 2 members, no hydra:search, view %v", res.Body, base, wantView)
		}
		for _, m := range coll.Members {
			if _, ok := m["@context"]; ok || m["@type"] != "Address" || m["@id"] != addressPath(profile, id(t, m)) {
				t.Errorf("member %v: want @id and @type, no @context", m)
			}
		}
		// The only page of an unqueried list has no view; the suffix is kept in the links.
		coll = collection{}
		x.ld(t, "GET", base+".jsonld", nil).JSON(t, &coll)
		if coll.View != nil || coll.TotalItems != 5 || len(coll.Members) != 5 {
			t.Errorf("unpaged collection: view %v, total %d, %d members; want no view, 5", coll.View, coll.TotalItems, len(coll.Members))
		}
		coll = collection{}
		x.Call(t, "GET", base+".jsonld?itemsPerPage=4", nil, "X-Auth-Token", x.key).JSON(t, &coll)
		if coll.View["hydra:next"] != base+".jsonld?itemsPerPage=4&page=2" {
			t.Errorf("view through .jsonld: %v, want the links on the path as sent", coll.View)
		}
		// A profile without addresses: an empty collection.
		coll = collection{}
		x.ld(t, "GET", addressesOf(999), nil).JSON(t, &coll)
		if coll.ID != addressesOf(999) || coll.TotalItems != 0 || coll.Members == nil || len(coll.Members) != 0 {
			t.Errorf("collection of no profile: %+v, want empty", coll)
		}

		// Errors in JSON-LD.
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			typ, description   string
		}{
			{"not found", "GET", addressPath(profile, 999), nil, http.StatusNotFound, "hydra:Error", "Not Found"},
			{"not found, by suffix", "GET", addressPath(profile, 999) + ".jsonld", nil, http.StatusNotFound, "hydra:Error", "Not Found"},
			{"no profile", "POST", addressesOf(999), newAddress(nil), http.StatusNotFound, "hydra:Error", "Not Found"},
			{"bad type", "PUT", iri, map[string]any{"is_billing": "yes"}, http.StatusBadRequest, "hydra:Error", `The type of the "is_billing" attribute must be "bool", "string" given.`},
			{"violations", "POST", addressesOf(profile), newAddress(map[string]any{"firstname": "", "city": ""}), http.StatusUnprocessableEntity, "ConstraintViolationList", ""},
		} {
			res := x.ld(t, tc.method, tc.path, tc.body)
			if res.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, res.Status, res.Body, tc.status)
				continue
			}
			body := res.Map(t)
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/ld+json") || body["@type"] != tc.typ {
				t.Errorf("%s: %s %s, want %s in ld+json", tc.name, got, res.Body, tc.typ)
			}
			if tc.description != "" && body["hydra:description"] != tc.description {
				t.Errorf("%s: hydra:description %v, want %q", tc.name, body["hydra:description"], tc.description)
			}
			if tc.typ == "ConstraintViolationList" {
				if v, _ := body["violations"].([]any); len(v) != 2 || body["@context"] != "/api/contexts/ConstraintViolationList" {
					t.Errorf("%s: %s, want both violations", tc.name, res.Body)
				}
			}
		}
	})
}

// Address creates in JSON-LD (".jsonld", ld+json bodies) race JSON creates on one profile, each
// asking for the billing address: every create is answered 201, every address is listed once,
// and exactly one holds the billing flag.
func TestAddressJSONLDCreatesRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "race@example.com"}))
		const creates = 16
		var mu sync.Mutex
		ids := map[int]bool{}
		var wg sync.WaitGroup
		for i := range creates {
			wg.Go(func() {
				path, header := addressesOf(profile), []string{"X-Auth-Token", x.key}
				if i%2 == 0 {
					path, header = path+".jsonld", append(header, "Content-Type", "application/ld+json")
				}
				res := x.Call(t, "POST", path, newAddress(map[string]any{"is_billing": true, "street": fmt.Sprint(i)}), header...)
				if res.Status != http.StatusCreated {
					t.Errorf("POST %s: %d %s", path, res.Status, res.Body)
					return
				}
				mu.Lock()
				ids[id(t, res.Map(t))] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		var coll struct {
			Total   int              `json:"hydra:totalItems"`
			Members []map[string]any `json:"hydra:member"`
		}
		x.ld(t, "GET", addressesOf(profile)+"?itemsPerPage=100", nil).JSON(t, &coll)
		if len(ids) != creates || coll.Total != creates || len(coll.Members) != creates {
			t.Errorf("created %d, listed %d (%d members); want %d", len(ids), coll.Total, len(coll.Members), creates)
		}
		for _, m := range coll.Members {
			if !ids[id(t, m)] {
				t.Errorf("listed %v, not created", m)
			}
		}
		if billing := x.flagged(t, profile, "is_billing"); len(billing) != 1 {
			t.Errorf("billing addresses %v, want one", billing)
		}
	})
}
