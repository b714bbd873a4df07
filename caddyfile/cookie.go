package caddyfile

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// parseCookie reads the haproxy_cookie directive, which takes no argument:
//
//	haproxy_cookie [<matcher>]
//
// It goes before a reverse_proxy whose haproxy policy has a cookie line, so
// that server cookies are rewritten or prefixed and nocache applies; an
// inserted cookie works without it.
func parseCookie(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next() // directive name
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	if h.NextBlock(0) {
		return nil, h.Err("haproxy_cookie takes no block: the cookie line of lb_policy haproxy configures it")
	}
	return lbmodule.CookieHandler{}, nil
}
