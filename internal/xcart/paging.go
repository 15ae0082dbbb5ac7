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
