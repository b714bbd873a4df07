// Package caddyfile gives the plugin's modules their Caddyfile syntax:
//
//   - the block of "lb_policy haproxy" in reverse_proxy, an HAProxy backend
//     section read by the haproxy.cfg adapter's own parser and translated
//     by the same code;
//   - the haproxy_cookie directive, ordered before reverse_proxy, which
//     applies the response side of cookie persistence;
//   - the haproxy_stats directive, HAProxy's statistics page with the
//     options of its "stats" keywords;
//   - the haproxy_frontend directive, which counts a site as an HAProxy
//     frontend for the stats page;
//   - the block of the haproxy handler in a layer4 route of caddy-l4's
//     layer4 global option, an HAProxy listen section in mode tcp.
//
// Importing the module's root package imports this one.
package caddyfile

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/l4proxy"
)

func init() {
	lbmodule.SetCaddyfileReader(readPolicy)
	l4proxy.SetCaddyfileReader(readTCPHandler)

	httpcaddyfile.RegisterHandlerDirective("haproxy_cookie", parseCookie)
	httpcaddyfile.RegisterDirectiveOrder("haproxy_cookie", httpcaddyfile.Before, "reverse_proxy")

	// The page answers its URI whatever the site does with other
	// requests: it goes before the routing and responding directives.
	httpcaddyfile.RegisterHandlerDirective("haproxy_stats", parseStats)
	httpcaddyfile.RegisterDirectiveOrder("haproxy_stats", httpcaddyfile.Before, "invoke")

	httpcaddyfile.RegisterHandlerDirective("haproxy_frontend", parseFrontend)
	httpcaddyfile.RegisterDirectiveOrder("haproxy_frontend", httpcaddyfile.Before, "tracing")
}
