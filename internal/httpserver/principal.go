package httpserver

import (
	"context"
)

// principalHolder carries what an API's authentication function learnt about the caller from the
// validator to the handler.
type principalHolder struct{ value any }

type principalKey struct{}

// SetPrincipal records the authenticated caller, from an API's authentication function. It does
// nothing outside a validated request.
func SetPrincipal(ctx context.Context, p any) {
	if h, ok := ctx.Value(principalKey{}).(*principalHolder); ok {
		h.value = p
	}
}

// Principal is the caller that the authentication function recorded for this request, or nil.
func Principal(ctx context.Context) any {
	if h, ok := ctx.Value(principalKey{}).(*principalHolder); ok {
		return h.value
	}
	return nil
}
