package caddyfile

import (
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// policySyntax is the block of lb_policy haproxy: the backend keywords the
// selection policy carries out. What the adapter puts in reverse_proxy or
// its transport is written there instead.
var policySyntax = &blockSyntax{
	directive: "lb_policy haproxy",
	kind:      "backend",
	mode:      "http",
	keywords: []string{
		"balance", "hash-type", "cookie", "dynamic-cookie-key",
		"server", "default-server", "server-template",
		"option", "http-check", "tcp-check", "timeout", "fullconn", "mode",
	},
	options: []string{
		"allbackups", "redispatch", "persist", "log-health-checks",
		"httpchk", "tcp-check", "ssl-hello-chk", "mysql-check", "pgsql-check",
		"redis-check", "smtpchk", "ldap-check",
	},
	timeouts: []string{"queue", "check"},
	elsewhere: map[string]string{
		"retries":           "write lb_retries <n> in reverse_proxy (HAProxy retries 3 times by default, Caddy not at all)",
		"timeout connect":   "write dial_timeout in reverse_proxy's transport http block",
		"timeout server":    "write read_timeout and write_timeout in reverse_proxy's transport http block",
		"timeout tunnel":    "Caddy has no tunnel timeout",
		"option forwardfor": "reverse_proxy adds X-Forwarded-For by itself; use header_up to change it",
		"http-request":      "use Caddy's handlers and matchers around reverse_proxy",
		"http-response":     "use reverse_proxy's header_down or Caddy's header directive",
		"acl":               "use a haproxy_acl matcher in the site block",
		"use-server":        "the policy has no use-server rules",
		"errorfile":         "use Caddy's handle_errors",
		"stats":             "use the haproxy_stats directive",
	},
}

// readPolicy reads "haproxy [<backend-name>] { … }", the arguments and
// block of lb_policy haproxy: the block is an HAProxy backend section,
// which the adapter's parser reads (with the Caddyfile's file:line) and its
// translator turns into the policy's configuration.
func readPolicy(d *caddyfile.Dispenser) (lbmodule.BackendConfig, error) {
	cfg, b, named, err := policySyntax.read(d)
	if err != nil {
		return lbmodule.BackendConfig{}, err
	}
	// What the adapter would put in the reverse_proxy's transport, which
	// a selection policy cannot set.
	for _, s := range b.Servers {
		p := s.Params
		switch {
		case p.SSL:
			return lbmodule.BackendConfig{}, fmt.Errorf("%s: lb_policy haproxy: server %q: ssl is not supported here: write tls (and tls_* settings) in reverse_proxy's transport http block", s.Pos, s.Name)
		case p.SendProxy || p.SendProxyV2:
			return lbmodule.BackendConfig{}, fmt.Errorf("%s: lb_policy haproxy: server %q: send-proxy is not supported here: write proxy_protocol in reverse_proxy's transport http block", s.Pos, s.Name)
		}
	}
	bc, diags := haproxyadapter.BackendPolicy(cfg, b)
	if err := policySyntax.report(diags); err != nil {
		return lbmodule.BackendConfig{}, err
	}
	return caddyfileBackend(bc, named), nil
}

// caddyfileBackend adjusts a translated backend to a Caddyfile: an
// unnamed one is private to its handler, and none has a proxy id (the
// parser numbers its one proxy 1; the stats page orders the Caddyfile's
// backends by name).
func caddyfileBackend(bc lbmodule.BackendConfig, named bool) lbmodule.BackendConfig {
	if !named {
		bc.Backend = ""
	}
	bc.ProxyID = 0
	return bc
}
