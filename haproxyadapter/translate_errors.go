package haproxyadapter

import (
	"encoding/json"
	"net/http"
	"slices"
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
	// The frontend's counter sees the error pages as well; the frontend's
	// http-after-response rules apply to them too, their problems
	// reported with the frontend's routes.
	routes := caddyhttp.RouteList{t.frontendCounter(fe)}
	n := len(t.diags)
	routes = append(routes, t.afterResponseRoutes(fe)...)
	t.diags = t.diags[:n]
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
		for _, name := range t.useBackendNames(ub) {
			add(name)
		}
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

// sectionPage returns a section's page for a status: its errorfile,
// errorloc or http-error line, or an http-errors section's errorfile
// brought in by "errorfiles <name> [codes]", the one declared last
// winning, as in HAProxy.
func (t *translator) sectionPage(p *config.Proxy, code int) *config.ErrorFile {
	best := p.ErrorFiles[code]
	if best != nil && best.File == "" && best.Location == "" && best.Keyword != "http-error" {
		best = nil
	}
	for _, ref := range p.ErrorFilesSections {
		he := t.cfg.HTTPErrors[ref.Action]
		if he == nil || len(ref.Args) > 0 && !slices.Contains(ref.Args, strconv.Itoa(code)) {
			continue
		}
		ef := he.ErrorFiles[code]
		if ef == nil {
			continue
		}
		if best == nil || !declaredBefore(ref.Pos, best.Pos) {
			best = ef
		}
	}
	return best
}

// declaredBefore reports whether position a comes before b in the
// configuration.
func declaredBefore(a, b config.Pos) bool {
	return a.File == b.File && a.Line < b.Line
}

// checkErrorFilesSections refuses "errorfiles" lines naming an unknown
// http-errors section or a code it has no page for, as HAProxy does.
func (t *translator) checkErrorFilesSections(p *config.Proxy) {
	for _, ref := range p.ErrorFilesSections {
		key := "errorfiles " + ref.Pos.String()
		if t.warned[key] {
			continue
		}
		t.warned[key] = true
		he := t.cfg.HTTPErrors[ref.Action]
		if he == nil {
			t.errorf(ref.Pos, "errorfiles", "no http-errors section %q", ref.Action)
			continue
		}
		for _, c := range ref.Args {
			if n, err := strconv.Atoi(c); err != nil || he.ErrorFiles[n] == nil {
				t.warnf(ref.Pos, "errorfiles", "http-errors section %q has no page for %q; the line brings nothing for it", ref.Action, c)
			}
		}
	}
}
