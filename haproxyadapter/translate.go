package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/mholt/caddy-l4/layer4"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// translator carries the state of one translation: the model it reads, the
// diagnostics it collects and the pieces of Caddy config it builds.
type translator struct {
	cfg   *config.Config
	diags []config.Diagnostic

	// backendHandlers caches the reverse_proxy handler of each backend, so
	// a backend used by several frontends is translated (and diagnosed)
	// once.
	backendHandlers map[string]json.RawMessage
	// tcpHandlers caches the layer4 handler of each mode tcp frontend and
	// backend pair; tcpBackends each mode tcp backend's description.
	tcpHandlers map[string]json.RawMessage
	tcpBackends map[string]lbmodule.BackendConfig
	// tls collects certificates loaded for "bind … ssl crt …".
	tls *caddytls.TLS

	// acls caches translated acl lines (see translate_acl.go).
	acls map[*config.ACL]aclResult
	// stateBackends are the backends whose server state a condition
	// tests (nbsrv, srv_is_up); routedBackends those a frontend routes to.
	stateBackends, routedBackends map[string]bool
	// userlists caches the accounts of each userlist.
	userlists map[string]userlistResult
	// errorFiles caches parsed errorfiles.
	errorFiles map[*config.ErrorFile]errorFileResult
	// warned remembers warnings given once per line.
	warned map[string]bool
	// ids are the proxies' numeric ids on the stats page.
	ids map[*config.Proxy]int
	// atResponse is set while the condition of an http-response rule is
	// translated.
	atResponse bool
	// exprVars counts the variables that hold log-format expressions
	// (see headerValue).
	exprVars int
}

// Translate turns a configuration model into a Caddy config. Diagnostics
// with Severity Error mean the result must not be used.
func Translate(cfg *config.Config) (*caddy.Config, []config.Diagnostic) {
	t := newTranslator(cfg)
	out := t.translate()
	return out, uniqueDiagnostics(t.diags)
}

func newTranslator(cfg *config.Config) *translator {
	return &translator{
		cfg:             cfg,
		backendHandlers: make(map[string]json.RawMessage),
		tcpHandlers:     make(map[string]json.RawMessage),
		tcpBackends:     make(map[string]lbmodule.BackendConfig),
		acls:            make(map[*config.ACL]aclResult),
		stateBackends:   make(map[string]bool),
		routedBackends:  make(map[string]bool),
		userlists:       make(map[string]userlistResult),
		errorFiles:      make(map[*config.ErrorFile]errorFileResult),
		warned:          make(map[string]bool),
		ids:             proxyIDs(cfg),
	}
}

// uniqueDiagnostics drops repeated diagnostics: a rule translated for
// several listeners of one proxy is diagnosed once.
func uniqueDiagnostics(diags []config.Diagnostic) []config.Diagnostic {
	seen := make(map[config.Diagnostic]bool, len(diags))
	out := diags[:0]
	for _, d := range diags {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func (t *translator) warnf(pos config.Pos, keyword, format string, args ...any) {
	t.diags = append(t.diags, config.Diagnostic{
		Severity: config.Warning, Pos: pos, Keyword: keyword, Message: fmt.Sprintf(format, args...),
	})
}

func (t *translator) errorf(pos config.Pos, keyword, format string, args ...any) {
	t.diags = append(t.diags, config.Diagnostic{
		Severity: config.Error, Pos: pos, Keyword: keyword, Message: fmt.Sprintf(format, args...),
	})
}

func (t *translator) translate() *caddy.Config {
	httpApp := &caddyhttp.App{Servers: make(map[string]*caddyhttp.Server)}
	l4App := &layer4.App{Servers: make(map[string]*layer4.Server)}
	if d := t.cfg.Global.HardStopAfter; d > 0 {
		// Caddy's grace period bounds how long old connections may live
		// after a reload or stop, as hard-stop-after does.
		httpApp.GracePeriod = caddy.Duration(d)
	}
	if d := t.cfg.Global.Grace; d > 0 {
		httpApp.ShutdownDelay = caddy.Duration(d)
	}

	frontends := 0
	for _, p := range t.cfg.Proxies {
		if !p.Kind.HasFrontend() {
			continue
		}
		if p.Disabled {
			// HAProxy does not start a disabled proxy: nothing listens.
			continue
		}
		frontends++
		switch p.Mode {
		case "http":
			t.refuseTCPRequestRules(p, "connection ", "in mode http (where tcp-request connection rules are); express the rule with http-request")
			for name, srv := range t.httpServers(p) {
				httpApp.Servers[name] = srv
			}
		case "tcp", "":
			for name, srv := range t.layer4Servers(p) {
				l4App.Servers[name] = srv
			}
		default:
			t.errorf(orPos(p.ModePos, p.Pos), "mode", "%s %q: mode %q cannot be translated", p.Kind, p.Name, p.Mode)
		}
	}
	for _, p := range t.cfg.Proxies {
		if p.Kind == config.KindBackend && p.Mode == "http" {
			t.refuseTCPRequestRules(p, "", "in mode http backends")
		}
	}
	t.checkUnusedBackends()
	t.checkStateBackends()
	if frontends == 0 {
		t.warnf(t.cfg.Global.Pos, "", "the configuration has no frontend or listen section: Caddy starts but serves nothing")
	}

	apps := caddy.ModuleMap{}
	if len(httpApp.Servers) > 0 || httpApp.GracePeriod > 0 || httpApp.ShutdownDelay > 0 {
		apps["http"] = caddyconfig.JSON(httpApp, nil)
	}
	if len(l4App.Servers) > 0 {
		apps["layer4"] = caddyconfig.JSON(l4App, nil)
	}
	if t.tls != nil {
		apps["tls"] = caddyconfig.JSON(t.tls, nil)
	}
	t.addRuntimeApp(apps)
	return &caddy.Config{AppsRaw: apps}
}

// httpServers translates a frontend or listen section in HTTP mode into
// Caddy HTTP servers, keyed by name: one for its plain binds and one for its
// TLS binds (a Caddy server applies TLS to all its listeners or none), and
// more when binds differ in PROXY protocol or HTTP versions. They share the
// same routes.
func (t *translator) httpServers(p *config.Proxy) map[string]*caddyhttp.Server {
	if len(p.Binds) == 0 {
		t.warnf(p.Pos, p.Kind.String(), "%s %q has no bind line: nothing listens for it", p.Kind, p.Name)
		return nil
	}
	groups := t.listenGroups(p)
	if len(groups) == 0 {
		return nil
	}
	routes := compactRoutes(t.httpRoutes(p))
	errorRoutes := compactRoutes(t.errorRoutes(p))
	servers := make(map[string]*caddyhttp.Server, len(groups))
	for i, g := range groups {
		srv := &caddyhttp.Server{
			// The addresses come from haproxy.cfg; Caddy must not add
			// HTTP→HTTPS redirects or obtain certificates on its own.
			AutoHTTPS: &caddyhttp.AutoHTTPSConfig{Disabled: true},
			Routes:    routes,
			Errors:    &caddyhttp.HTTPErrorConfig{Routes: errorRoutes},
			// Go reads up to 4 KiB past MaxHeaderBytes before refusing a
			// request head; the sum is HAProxy's limit.
			MaxHeaderBytes: t.cfg.Global.RequestHeadLimit() - goHeadSlack,
		}
		t.applyListenGroup(p, g, srv)
		t.serverTimeouts(p, srv)
		name := p.Name
		if i > 0 {
			name = p.Name + "-" + g.suffix()
		}
		servers[name] = srv
	}
	return servers
}

// refuseTCPRequestRules reports tcp-request rules where they are not
// translated yet (mode http proxies, backends): they decide who gets in.
// Rules whose action starts with allowed are not reported ("" reports all).
func (t *translator) refuseTCPRequestRules(p *config.Proxy, allowed, where string) {
	for _, r := range p.TCPRequest {
		if r.Action != "inspect-delay" && (allowed == "" || !strings.HasPrefix(r.Action, allowed)) {
			t.errorf(r.Pos, "tcp-request "+r.Action, "tcp-request rules are translated in mode tcp proxies only, not %s", where)
		}
	}
}

// goHeadSlack is what Go's HTTP/1 server reads beyond MaxHeaderBytes.
const goHeadSlack = 4096

func (t *translator) lookupBackend(pos config.Pos, keyword, name string) *config.Proxy {
	if len(name) > 2 && name[0] == '%' && name[1] == '[' {
		t.errorf(pos, keyword, "dynamic backend names (%s) are not supported yet", name)
		return nil
	}
	b := t.cfg.Backend(name)
	if b == nil {
		t.errorf(pos, keyword, "unable to find required backend %q", name)
		return nil
	}
	if !b.Kind.HasBackend() {
		t.errorf(pos, keyword, "%q is a %s, not a backend", name, b.Kind)
		return nil
	}
	return b
}

// checkUnusedBackends warns about backends no frontend can reach: Caddy has
// nothing to attach them to, and a typo in a backend name is a common cause.
func (t *translator) checkUnusedBackends() {
	used := make(map[string]bool)
	for _, p := range t.cfg.Proxies {
		if !p.Kind.HasFrontend() {
			continue
		}
		for _, ub := range p.UseBackends {
			for _, name := range t.useBackendNames(ub) {
				used[name] = true
			}
		}
		used[p.DefaultBackend] = true
	}
	for _, p := range t.cfg.Proxies {
		if p.Kind == config.KindBackend && !used[p.Name] {
			t.warnf(p.Pos, "backend", "backend %q is not used by any frontend", p.Name)
		}
	}
}

// serverTimeouts maps HAProxy's client-side timeouts to the nearest Caddy
// server settings.
func (t *translator) serverTimeouts(p *config.Proxy, srv *caddyhttp.Server) {
	to := p.Timeouts
	if c := to.Client; c.Set && !c.Infinite {
		// timeout client is an inactivity timeout in both directions.
		srv.ReadIdleTimeout = caddy.Duration(c.D)
		srv.WriteIdleTimeout = caddy.Duration(c.D)
	} else if !c.Set {
		t.warnf(p.Pos, "timeout client", "%s %q has no timeout client: HAProxy would wait forever, Caddy applies its default idle timeouts", p.Kind, p.Name)
	}
	// timeout http-request bounds the wait for complete headers; it defaults
	// to timeout client.
	if d, ok := firstTimeout(to.HTTPRequest, to.Client); ok {
		srv.ReadHeaderTimeout = caddy.Duration(d)
	}
	// timeout http-keep-alive bounds the wait for the next request; it
	// defaults to http-request, then client.
	if d, ok := firstTimeout(to.HTTPKeepAlive, to.HTTPRequest, to.Client); ok {
		srv.IdleTimeout = caddy.Duration(d)
	}
}

// firstTimeout returns the first finite timeout that is set.
func firstTimeout(ds ...config.Duration) (time.Duration, bool) {
	for _, d := range ds {
		if d.Set {
			if d.Infinite || d.D == 0 {
				return 0, false
			}
			return d.D, true
		}
	}
	return 0, false
}

// orPos returns a when it is set, otherwise b.
func orPos(a, b config.Pos) config.Pos {
	if a.Line > 0 {
		return a
	}
	return b
}
