package httpserver

import (
	"net/http"
	"strings"
)

// Bearer is the token of an "Authorization: Bearer <token>" header; ok is false without one.
func Bearer(r *http.Request) (token string, ok bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
