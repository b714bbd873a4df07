// Package caddyhaproxy runs an existing haproxy.cfg on Caddy and gives Caddy
// HAProxy's load balancing. Importing this package plugs in every module of
// the plugin, so one `xcaddy build --with github.com/caddy-haproxy/caddy-haproxy`
// brings them all:
//
//   - caddy.adapters.haproxy: the "haproxy" config adapter (haproxy.cfg → Caddy JSON)
//   - http.reverse_proxy.selection_policies.haproxy: HAProxy's schedulers,
//     backup servers, maxconn queues, health checks, cookie persistence and
//     runtime server state
//   - http.matchers.haproxy_acl: HAProxy ACL fetches and match methods that
//     Caddy's own matchers cannot express exactly
//   - caddy.listeners.haproxy_maxconn and layer4.handlers.haproxy_maxconn:
//     frontend and global maxconn
//   - layer4.handlers.haproxy: the same backends for raw TCP connections
//     (HAProxy's mode tcp) in caddy-l4 routes
//   - http.handlers.haproxy_tarpit: holds a request before its answer
//     (HAProxy's http-request tarpit)
//   - http.handlers.haproxy_set_var: HAProxy variables from sample
//     expressions with converters (http-request set-var)
//   - http.handlers.haproxy_normalize_uri: HAProxy's URI normalizers
//     (http-request normalize-uri)
//   - http.handlers.haproxy_replace_value: rewrites comma-separated header
//     values (http-request/http-response replace-value)
//   - http.handlers.haproxy_set_status: changes the response status
//     (http-response/http-after-response set-status)
//   - http.handlers.haproxy_use_server: names the server a use-server rule
//     forces, for the haproxy selection policy
//   - http.reverse_proxy.transport.haproxy: Caddy's HTTP transport verifying
//     server certificates as HAProxy does (the name only when one is known)
//   - tls.client_auth.verifier.crl: client certificates checked against
//     revocation lists as HAProxy's crl-file does
//   - http.authentication.hashes.crypt: basic_auth passwords hashed with
//     crypt(3) (MD5, SHA-256 and SHA-512 crypt, bcrypt), as userlists hold them
//   - haproxy_runtime: HAProxy's runtime API ("stats socket")
//   - admin.api.haproxy: server state, weight and checks on Caddy's admin API
//   - the "haproxy-tcp", "haproxy-tcp4" and "haproxy-tcp6" listener networks:
//     one listening socket shared across config reloads, so a reload resets
//     no connection (the adapter listens on them)
//
// and their Caddyfile syntax: "lb_policy haproxy" with an HAProxy backend
// block inside reverse_proxy, the haproxy_cookie, haproxy_stats and
// haproxy_frontend directives, and the haproxy handler's block in layer4
// routes.
package caddyhaproxy

import (
	_ "github.com/caddy-haproxy/caddy-haproxy/caddyfile"
	_ "github.com/caddy-haproxy/caddy-haproxy/cryptauth"
	_ "github.com/caddy-haproxy/caddy-haproxy/handover"
	_ "github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/adminapi"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/clientcrl"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/l4proxy"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/maxconn"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/runtimeapi"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
	_ "github.com/caddy-haproxy/caddy-haproxy/lbmodule/transport"
)
