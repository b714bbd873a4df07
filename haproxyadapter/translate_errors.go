package haproxyadapter

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// backendVar names the request variable that records which backend a
// request went to, so that an error page can be the backend's own.
const backendVar = "haproxy_backend"

// proxyErrors are the failures reverse_proxy reports as handler errors, and
// the status HAProxy answers each with. A server that cannot be connected
// to (refused, unreachable, connect timeout, a failed TLS handshake) is a
// 503 in HAProxy ("no server is available"), where Caddy says 502 or 504;
// Go formats every dial error as "dial <network> …" and TLS handshake
// errors as "tls: …" ("remote error: tls: …" for the server's alerts).
var proxyErrors = []struct {
	match  caddy.ModuleMap
	status int
}{
	{matchErrorMessage("^(dial |tls: |remote error: tls: )"), http.StatusServiceUnavailable},
	{matchErrorStatus(http.StatusServiceUnavailable), http.StatusServiceUnavailable},
	{matchErrorStatus(http.StatusGatewayTimeout), http.StatusGatewayTimeout},
	{matchErrorStatus(http.StatusBadGateway), http.StatusBadGateway},
}

// errorRoutes answers the errors of frontend fe's backends with HAProxy's
// pages: the backend's errorfile for the status if it has one, else the
// frontend's, else HAProxy's built-in page.
func (t *translator) errorRoutes(fe *config.Proxy) caddyhttp.RouteList {
	// The frontend's counter sees the error pages as well.
	routes := caddyhttp.RouteList{t.frontendCounter(fe)}
	for _, pe := range proxyErrors {
		for _, be := range t.reachableBackends(fe) {
			if be == fe || t.pageFile(pe.status, []*config.Proxy{be}) == nil {
				continue
			}
			set := caddy.ModuleMap{}
			for k, v := range pe.match {
				set[k] = v
			}
			set["vars"] = caddyconfig.JSON(caddyhttp.VarsMatcher{backendVar: {be.Name}}, nil)
			routes = append(routes, t.errorRoute(set, pe.status, be, fe))
		}
		routes = append(routes, t.errorRoute(pe.match, pe.status, fe))
	}
	return routes
}

func (t *translator) errorRoute(match caddy.ModuleMap, status int, pages ...*config.Proxy) caddyhttp.Route {
	return caddyhttp.Route{
		MatcherSetsRaw: caddyhttp.RawMatcherSets{match},
		HandlersRaw:    []json.RawMessage{t.errorPage(status, pages...)},
		Terminal:       true,
	}
}

// reachableBackends lists the backends frontend fe routes to.
func (t *translator) reachableBackends(fe *config.Proxy) []*config.Proxy {
	var out []*config.Proxy
	seen := map[string]bool{}
	add := func(name string) {
		if be := t.cfg.Backend(name); be != nil && !seen[name] {
			seen[name] = true
			out = append(out, be)
		}
	}
	for _, ub := range fe.UseBackends {
		add(ub.Backend)
	}
	add(fe.DefaultBackend)
	return out
}

func matchErrorMessage(pattern string) caddy.ModuleMap {
	return caddy.ModuleMap{"vars_regexp": caddyconfig.JSON(caddyhttp.MatchVarsRE{
		"{http.error.message}": &caddyhttp.MatchRegexp{Pattern: pattern},
	}, nil)}
}

func matchErrorStatus(code int) caddy.ModuleMap {
	return caddy.ModuleMap{"vars": caddyconfig.JSON(caddyhttp.VarsMatcher{
		"{http.error.status_code}": {strconv.Itoa(code)},
	}, nil)}
}

// hasProxyErrorPages reports whether backend be has its own errorfile for
// an error reverse_proxy reports; its requests are then tagged with the
// backend's name so that the error routes can find its pages.
func (t *translator) hasProxyErrorPages(be *config.Proxy) bool {
	for _, pe := range proxyErrors {
		if t.pageFile(pe.status, []*config.Proxy{be}) != nil {
			return true
		}
	}
	return false
}

// backendTag sets the request variable naming the backend.
func backendTag(be *config.Proxy) json.RawMessage {
	return caddyconfig.JSONModuleObject(map[string]string{backendVar: be.Name}, "handler", "vars", nil)
}
