package httpserver

import (
	"context"
)

// requestInfo is what the server keeps of one request in its context, in one value (one context
// and one copy of the request for all of it): the request's id, and what the API's authentication
// function learnt about the caller, for the handler.
type requestInfo struct {
	id string
	// authenticated is set by the validator on a route with security: only then does
	// SetPrincipal record.
	authenticated bool
	principal     any
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// withAuthentication returns ctx ready to carry the principal of a request whose credentials the
// validator checks: ctx itself when it carries the request's info already.
func withAuthentication(ctx context.Context) context.Context {
	info := infoOf(ctx)
	if info == nil {
		info = &requestInfo{}
		ctx = context.WithValue(ctx, requestInfoKey{}, info)
	}
	info.authenticated, info.principal = true, nil
	return ctx
}

// SetPrincipal records the authenticated caller, from an API's authentication function. It does
// nothing outside a validated request.
func SetPrincipal(ctx context.Context, p any) {
	if info := infoOf(ctx); info != nil && info.authenticated {
		info.principal = p
	}
}

// Principal is the caller that the authentication function recorded for this request, or nil.
func Principal(ctx context.Context) any {
	if info := infoOf(ctx); info != nil && info.authenticated {
		return info.principal
	}
	return nil
}
