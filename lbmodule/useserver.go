package lbmodule

import (
	"context"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(UseServerHandler{})
}

// useServerVarKey names the request variable listing the servers that
// matching use-server rules named, in rule order.
const useServerVarKey = "haproxy.use_server"

// UseServerHandler records the server of a use-server rule whose condition
// held ("use-server <server> if <cond>"): the haproxy selection policy then
// sends the request to the first recorded server that is not stopped
// (with "option persist", even to a stopped one), without load balancing
// and through its maxconn queue; when none qualifies, the request is load
// balanced. It is the http.handlers.haproxy_use_server module; the
// adapter puts one in front of the reverse proxy for each rule, guarded by
// the rule's condition.
//
//	{"handler": "haproxy_use_server", "server": "s2"}
type UseServerHandler struct {
	// Server is the server's name in the backend.
	Server string `json:"server"`
}

// CaddyModule returns the Caddy module information.
func (UseServerHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.haproxy_use_server",
		New: func() caddy.Module { return new(UseServerHandler) },
	}
}

// ServeHTTP appends the server to the request's list and calls the next
// handler.
func (h UseServerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	names, _ := caddyhttp.GetVar(r.Context(), useServerVarKey).([]string)
	caddyhttp.SetVar(r.Context(), useServerVarKey, append(names, h.Server))
	return next.ServeHTTP(w, r)
}

// forcedServer returns the server the request's use-server rules choose:
// the first named one that is running (up, draining or stopping; not down
// and not in maintenance), or with option persist the first that exists.
func (p *HTTPSelection) forcedServer(ctx context.Context) *Server {
	names, _ := caddyhttp.GetVar(ctx, useServerVarKey).([]string)
	for _, name := range names {
		s := p.backend.Server(name)
		if s != nil && (p.Persist || s.Up() && s.AdminState() != AdminMaint) {
			return s
		}
	}
	return nil
}

// Interface guard
var _ caddyhttp.MiddlewareHandler = UseServerHandler{}
