package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
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
}

// Translate turns a configuration model into a Caddy config. Diagnostics
// with Severity Error mean the result must not be used.
func Translate(cfg *config.Config) (*caddy.Config, []config.Diagnostic) {
	t := newTranslator(cfg)
	out := t.translate()
	return out, t.diags
}

func newTranslator(cfg *config.Config) *translator {
	return &translator{
		cfg:             cfg,
		backendHandlers: make(map[string]json.RawMessage),
		acls:            make(map[*config.ACL]aclResult),
		stateBackends:   make(map[string]bool),
		routedBackends:  make(map[string]bool),
		userlists:       make(map[string]userlistResult),
		errorFiles:      make(map[*config.ErrorFile]errorFileResult),
		warned:          make(map[string]bool),
		ids:             proxyIDs(cfg),
	}
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
		frontends++
		switch p.Mode {
		case "http":
			for name, srv := range t.httpServers(p) {
				httpApp.Servers[name] = srv
			}
		case "tcp", "":
			t.errorf(orPos(p.ModePos, p.Pos), "mode", "%s %q is in tcp mode, which is not supported yet: only mode http sections can be translated (write \"mode http\" if this proxy carries HTTP)", p.Kind, p.Name)
		default:
			t.errorf(orPos(p.ModePos, p.Pos), "mode", "%s %q: mode %q cannot be translated", p.Kind, p.Name, p.Mode)
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
	routes := t.httpRoutes(p)
	errorRoutes := t.errorRoutes(p)
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
		t.applyListenGroup(g, srv)
		t.serverTimeouts(p, srv)
		name := p.Name
		if i > 0 {
			name = p.Name + "-" + g.suffix()
		}
		servers[name] = srv
	}
	return servers
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
			used[ub.Backend] = true
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
