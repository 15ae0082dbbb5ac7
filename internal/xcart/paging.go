package xcart

import "github.com/provisiond/provisiond/internal/optional"

// pageOf is the offset and limit of the page a list request asks for, as API Platform's
// pagination reads it: page counts from 1 (default 1), and its size defaults to
// DefaultItemsPerPage and is capped at MaxItemsPerPage. A limit of 0 (itemsPerPage 0) is an
// empty page. Every X-Cart list (profiles, a profile's addresses) is paged by it.
func pageOf(pageSent, perPageSent *int) (offset, limit int) {
	page, perPage := 1, DefaultItemsPerPage
	optional.Set(&page, pageSent)
	optional.Set(&perPage, perPageSent)
	perPage = max(min(perPage, MaxItemsPerPage), 0)
	return (page - 1) * perPage, perPage
}

// Paging is where a page of a list stands: its number and size as applied (pageOf), and the
// number of items on all pages (when the request asked for it: a JSON-LD collection's
// hydra:totalItems).
type Paging struct {
	Page, PerPage int
	Total         int64
}

// pagingOf is the Paging of the page pageSent (1 when not sent) of perPage items, before its
// total is known.
func pagingOf(pageSent *int, perPage int) Paging {
	page := 1
	optional.Set(&page, pageSent)
	return Paging{Page: page, PerPage: perPage}
}
