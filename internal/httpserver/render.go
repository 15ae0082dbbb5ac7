package httpserver

import (
	"errors"

	"github.com/provisiond/provisiond/internal/apperr"
)

// Prologue is what every API's renderer does first, in the same order: an error of the HTTP
// layer (TransportStatus), then a request its schema refuses, then an outage anywhere in the
// error's tree (it outranks the client's own mistakes, which a retry may not even meet), then an
// error no apperr classifies. Each field words one of them in the API's own body.
type Prologue struct {
	// Transport answers an error of the HTTP layer with its status.
	Transport func(status int, err error) Reply
	// Invalid answers a request its operation's schema refuses.
	Invalid func(*InvalidRequest) Reply
	// Unavailable is the answer to an outage; Internal to a fault of the server.
	Unavailable, Internal Reply
}

// Render answers err when one of the prologue's cases applies (done true). Otherwise it returns
// the classified errors in err, never empty, for the API to word in its own way.
func (p Prologue) Render(err error) (r Reply, all []*apperr.Error, done bool) {
	if status, ok := TransportStatus(err); ok {
		return p.Transport(status, err), nil, true
	}
	var invalid *InvalidRequest
	if errors.As(err, &invalid) {
		return p.Invalid(invalid), nil, true
	}
	if apperr.Has(err, apperr.KindUnavailable) {
		return p.Unavailable, nil, true
	}
	all = apperr.All(err)
	if len(all) == 0 {
		return p.Internal, nil, true
	}
	return Reply{}, all, false
}
