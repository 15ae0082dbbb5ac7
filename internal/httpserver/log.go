package httpserver

import (
	"context"
	"log/slog"
)

// WithRequestID returns ctx carrying the request id id, as the start of a new request's info
// (requestInfo).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, &requestInfo{id: id})
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	if info := infoOf(ctx); info != nil {
		return info.id
	}
	return ""
}

// NewLogHandler wraps h so that every record logged with a request's context carries the
// request's id as request_id.
func NewLogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
