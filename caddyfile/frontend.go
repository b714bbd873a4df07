package caddyfile

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// parseFrontend reads the haproxy_frontend directive:
//
//	haproxy_frontend <name>
//
// It counts the site's connections, requests, bytes and responses as an
// HAProxy frontend of that name, shown on the stats page with the backends
// its requests reach. It is ordered first, so that it sees every request.
func parseFrontend(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next() // directive name
	if !h.NextArg() {
		return nil, h.ArgErr()
	}
	f := &lbmodule.FrontendHandler{FrontendConfig: lbmodule.FrontendConfig{Name: h.Val()}}
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	if h.NextBlock(0) {
		return nil, h.Err("haproxy_frontend takes no block")
	}
	return f, nil
}
