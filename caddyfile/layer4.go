package caddyfile

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/l4proxy"
)

// tcpSyntax is the block of the haproxy handler in a layer4 route: a
// listen section in mode tcp, since the route is the frontend and the
// backend at once, without bind lines (the layer4 server listens). The
// handler applies the timeouts and the servers' PROXY headers itself.
var tcpSyntax = &blockSyntax{
	directive: "haproxy",
	kind:      "listen",
	mode:      "tcp",
	keywords: []string{
		"balance", "hash-type", "server", "default-server", "server-template",
		"option", "http-check", "tcp-check", "timeout", "retries", "fullconn", "mode",
		"clitcpka-idle", "clitcpka-intvl", "clitcpka-cnt", "srvtcpka-idle", "srvtcpka-intvl", "srvtcpka-cnt",
	},
	options: []string{
		"allbackups", "redispatch", "log-health-checks", "clitcpka", "srvtcpka", "tcpka",
		"httpchk", "tcp-check", "ssl-hello-chk", "mysql-check", "pgsql-check",
		"redis-check", "smtpchk", "ldap-check",
	},
	timeouts: []string{"connect", "client", "server", "tunnel", "queue", "check"},
	elsewhere: map[string]string{
		"bind":            "the layer4 server's addresses are its listeners",
		"tcp-request":     "use caddy-l4's matchers on the route",
		"acl":             "use caddy-l4's matchers on the route",
		"use_backend":     "write one route per backend, with caddy-l4's matchers",
		"default_backend": "write one route per backend, with caddy-l4's matchers",
		"cookie":          "HAProxy ignores cookie persistence in mode tcp",
	},
}

// readTCPHandler reads "haproxy [<backend-name>] { … }" in a layer4 route:
// the adapter's parser reads the block and its translator of mode tcp
// backends builds the handler.
func readTCPHandler(d *caddyfile.Dispenser) (*l4proxy.Handler, error) {
	cfg, p, named, err := tcpSyntax.read(d)
	if err != nil {
		return nil, err
	}
	raw, diags := haproxyadapter.TCPHandler(cfg, p)
	if err := tcpSyntax.report(diags); err != nil {
		return nil, err
	}
	h := new(l4proxy.Handler)
	if err := json.Unmarshal(raw, h); err != nil {
		return nil, fmt.Errorf("%s: haproxy: %v", p.Pos, err)
	}
	h.Backend = caddyfileBackend(h.Backend, named)
	// A layer4 route has no frontend of HAProxy's to count for.
	h.Frontend = ""
	return h, nil
}
