// Package caddyhaproxy runs an existing haproxy.cfg on Caddy and gives Caddy
// HAProxy's load balancing. Importing this package plugs in every module of
// the plugin, so one `xcaddy build --with github.com/caddy-haproxy/caddy-haproxy`
// brings them all:
//
//   - caddy.adapters.haproxy: the "haproxy" config adapter (haproxy.cfg → Caddy JSON)
//   - http.reverse_proxy.selection_policies.haproxy: HAProxy's schedulers,
//     backup servers and runtime server state
package caddyhaproxy

import (
	_ "github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)
