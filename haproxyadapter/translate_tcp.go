package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/mholt/caddy-l4/layer4"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/l4proxy"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/maxconn"
)

// A mode tcp frontend or listen section becomes servers of caddy-l4's
// layer4 app, one per group of binds that agree on TLS and the PROXY
// protocol. Their routes follow HAProxy's order of processing:
//
//  1. tcp-request connection rules, which see the real peer address;
//  2. the PROXY header of accept-proxy binds (proxy_protocol handler);
//  3. TLS termination of ssl binds (tls handler);
//  4. tcp-request session rules;
//  5. tcp-request content rules, then use_backend rules in order, then
//     default_backend, each a route to the plugin's haproxy handler.
//
// A reject becomes caddy-l4's close handler. When content rules or
// use_backend rules read the TLS ClientHello, step 5 sits in two subroutes:
// one for connections that start with a ClientHello and one for the others.
// The tls matcher of the first waits for the whole ClientHello, so no later
// rule is decided on a partial one, which would break HAProxy's rule order.

// layer4Servers translates a mode tcp frontend or listen section.
func (t *translator) layer4Servers(p *config.Proxy) map[string]*layer4.Server {
	if len(p.Binds) == 0 {
		t.warnf(p.Pos, p.Kind.String(), "%s %q has no bind line: nothing listens for it", p.Kind, p.Name)
		return nil
	}
	t.tcpFrontendWarnings(p)
	servers := make(map[string]*layer4.Server)
	for _, part := range portParts(p) {
		for i, g := range t.listenGroups(part) {
			srv := &layer4.Server{Listen: g.listen}
			if d := inspectDelay(p); d > 0 {
				srv.MatchingTimeout = caddy.Duration(d)
			}
			srv.Routes = t.layer4Routes(part, g)
			if limits := t.connLimits(p); len(limits) > 0 {
				// caddy-l4 servers take no listener wrappers: the limits
				// hold the connection before any route runs.
				gate := maxconn.Handler{Limits: limits, Routes: srv.Routes, MatchingTimeout: srv.MatchingTimeout}
				srv.Routes = layer4.RouteList{{HandlersRaw: []json.RawMessage{
					caddyconfig.JSONModuleObject(gate, "handler", "haproxy_maxconn", nil),
				}}}
			}
			name := p.Name
			if part != p {
				name += "-" + strconv.Itoa(part.Binds[0].PortLow)
			}
			if i > 0 {
				name += "-" + g.tcpSuffix()
			}
			servers[name] = srv
		}
	}
	return servers
}

// maxPortParts bounds how many ports a proxy's binds are split into.
const maxPortParts = 64

// portParts returns p alone, or, when its rules test dst_port and its binds
// listen on several ports, one copy of p per port with the binds of that
// port: the port is then known where the rules are translated.
func portParts(p *config.Proxy) []*config.Proxy {
	if singlePort(p) != 0 || !proxyUsesFetch(p, func(name string) bool { return name == "dst_port" }) {
		return []*config.Proxy{p}
	}
	var ports []int
	byPort := map[int][]*config.Bind{}
	for _, b := range p.Binds {
		if b.Network == "unix" || b.PortHigh-b.PortLow >= maxPortParts {
			return []*config.Proxy{p}
		}
		for port := b.PortLow; port <= b.PortHigh; port++ {
			one := *b
			one.PortLow, one.PortHigh = port, port
			if byPort[port] == nil {
				ports = append(ports, port)
			}
			byPort[port] = append(byPort[port], &one)
		}
	}
	if len(ports) > maxPortParts {
		return []*config.Proxy{p}
	}
	parts := make([]*config.Proxy, 0, len(ports))
	for _, port := range ports {
		part := *p
		part.Binds = byPort[port]
		parts = append(parts, &part)
	}
	return parts
}

// tcpSuffix names the layer4 server of a group other than the first.
func (g *listenGroup) tcpSuffix() string {
	switch {
	case g.tls && g.acceptProxy:
		return "tls-proxy"
	case g.tls:
		return "tls"
	case g.acceptProxy:
		return "proxy"
	}
	return "plain"
}

// layer4Routes builds the routes of one group of binds.
func (t *translator) layer4Routes(p *config.Proxy, g *listenGroup) layer4.RouteList {
	ctx := l4Context{port: singlePort(p), sslBind: g.tls}
	var routes layer4.RouteList
	// tcp-request connection rules run before the PROXY header is read
	// and before any TLS handshake.
	ctx.noBuffer = true
	routes = t.rejectRoutes(ctx, routes, p.TCPRequest, "connection")
	ctx.proxied = g.acceptProxy
	if g.acceptProxy {
		routes = append(routes, &layer4.Route{HandlersRaw: []json.RawMessage{
			// accept-proxy requires the PROXY header from every client.
			caddyconfig.JSONModuleObject(map[string]any{"fallback_policy": "REQUIRE"}, "handler", "proxy_protocol", nil),
		}})
	}
	if g.tls && g.policies != nil {
		routes = append(routes, &layer4.Route{HandlersRaw: []json.RawMessage{
			caddyconfig.JSONModuleObject(map[string]any{"connection_policies": g.policies}, "handler", "tls", nil),
		}})
	}
	// tcp-request session rules run once the PROXY header and the TLS
	// handshake are done, before any data is read.
	routes = t.rejectRoutes(ctx, routes, p.TCPRequest, "session")
	ctx.noBuffer = false
	if !t.readsHello(p) || g.tls {
		return append(routes, t.contentRoutes(ctx, p)...)
	}
	branch := func(hello int) json.RawMessage {
		ctx.hello = hello
		sub := map[string]any{"routes": t.contentRoutes(ctx, p)}
		if d := inspectDelay(p); d > 0 {
			sub["matching_timeout"] = caddy.Duration(d)
		}
		return caddyconfig.JSONModuleObject(sub, "handler", "subroute", nil)
	}
	return append(routes,
		&layer4.Route{
			MatcherSetsRaw: []caddy.ModuleMap{{"tls": json.RawMessage("{}")}},
			HandlersRaw:    []json.RawMessage{branch(1)},
		},
		&layer4.Route{HandlersRaw: []json.RawMessage{branch(-1)}},
	)
}

// readsHello reports whether the content or switching rules of p read the
// TLS ClientHello.
func (t *translator) readsHello(p *config.Proxy) bool {
	return proxyUsesFetch(p, isHelloFetch)
}

// proxyUsesFetch reports whether a tcp-request or use_backend condition of
// p uses a fetch for which uses is true.
func proxyUsesFetch(p *config.Proxy, uses func(name string) bool) bool {
	for _, r := range p.TCPRequest {
		if condUsesFetch(r.Cond, uses) {
			return true
		}
	}
	for _, ub := range p.UseBackends {
		if condUsesFetch(ub.Cond, uses) {
			return true
		}
	}
	return false
}

// contentRoutes builds the routes of the tcp-request content rules and the
// backend switching rules.
func (t *translator) contentRoutes(ctx l4Context, p *config.Proxy) layer4.RouteList {
	ctx.keyword = "tcp-request content"
	routes := t.rejectRoutes(ctx, nil, p.TCPRequest, "content")
	ctx.keyword = "use_backend"
	for _, ub := range p.UseBackends {
		cond, ok := t.l4Condition(ctx, ub.Cond)
		if !ok || len(cond) == 0 {
			continue
		}
		b := t.lookupBackend(ub.Pos, "use_backend", ub.Backend)
		if b == nil {
			continue
		}
		route := &layer4.Route{HandlersRaw: []json.RawMessage{t.tcpBackendHandler(ctx, p, b)}}
		if !cond.always() {
			route.MatcherSetsRaw = cond.raw()
		}
		routes = append(routes, route)
		if cond.always() {
			return routes
		}
	}
	if p.DefaultBackend != "" {
		if b := t.lookupBackend(p.DefaultBackendPos, "default_backend", p.DefaultBackend); b != nil {
			return append(routes, &layer4.Route{HandlersRaw: []json.RawMessage{t.tcpBackendHandler(ctx, p, b)}})
		}
	}
	if p.Kind == config.KindListen {
		return append(routes, &layer4.Route{HandlersRaw: []json.RawMessage{t.tcpBackendHandler(ctx, p, p)}})
	}
	// Without a backend HAProxy closes the connection.
	return append(routes, &layer4.Route{HandlersRaw: []json.RawMessage{closeHandler()}})
}

// rejectRoutes appends the routes that close the connections which the
// tcp-request rules of one phase ("connection", "session" or "content")
// reject. The first rule whose condition holds decides, so a reject applies
// only where no earlier accept's condition holds.
func (t *translator) rejectRoutes(ctx l4Context, routes layer4.RouteList, rules []*config.Rule, phase string) layer4.RouteList {
	ctx.keyword = "tcp-request " + phase
	var accepted l4Cond
	for _, r := range rules {
		action, ok := strings.CutPrefix(r.Action, phase+" ")
		if !ok {
			continue
		}
		cond, cok := t.l4Condition(ctx, r.Cond)
		if !cok {
			continue
		}
		switch action {
		case "accept":
			accepted = l4Or(accepted, cond)
		case "reject":
			reject, err := l4And(cond, l4Not(accepted))
			if err != nil {
				t.errorf(r.Pos, ctx.keyword+" reject", "%v", err)
				continue
			}
			if len(reject) == 0 {
				continue
			}
			route := &layer4.Route{HandlersRaw: []json.RawMessage{closeHandler()}}
			if !reject.always() {
				route.MatcherSetsRaw = reject.raw()
			}
			routes = append(routes, route)
		default:
			t.errorf(r.Pos, ctx.keyword+" "+action, "action %q is not translated (accept and reject are)", action)
		}
	}
	return routes
}

// tcpFrontendWarnings reports what HAProxy itself ignores or refuses in a
// mode tcp frontend.
func (t *translator) tcpFrontendWarnings(p *config.Proxy) {
	if len(p.HTTPRequest) > 0 || len(p.HTTPResponse) > 0 || len(p.Redirects) > 0 {
		t.warnf(p.Pos, "http-request", "%s %q is in mode tcp: HAProxy ignores its http-request, http-response and redirect rules, and so does the translation", p.Kind, p.Name)
	}
	if t.readsHello(p) && inspectDelay(p) == 0 {
		t.warnf(p.Pos, "tcp-request inspect-delay", "%s %q reads the TLS ClientHello without tcp-request inspect-delay: HAProxy then decides on whatever has arrived, usually nothing, while Caddy waits for the ClientHello up to 3s; set an inspect-delay", p.Kind, p.Name)
	}
	if p.Kind == config.KindListen || p.Kind == config.KindFrontend {
		if !p.Timeouts.Client.Set {
			t.warnf(p.Pos, "timeout client", "%s %q has no timeout client: idle clients are kept forever, as in HAProxy", p.Kind, p.Name)
		}
	}
}

// inspectDelay returns the "tcp-request inspect-delay" of p (the last one
// written wins, as in HAProxy), 0 when unset. caddy-l4's matching timeout
// plays its part: how long content matchers wait for data.
func inspectDelay(p *config.Proxy) time.Duration {
	var d time.Duration
	for _, r := range p.TCPRequest {
		if r.Action == "inspect-delay" && len(r.Args) == 1 {
			// The model has already checked the value.
			d, _ = config.ParseTime(r.Args[0], time.Millisecond)
		}
	}
	return d
}

// singlePort returns the port every bind of p listens on, 0 when they
// differ or listen on ranges.
func singlePort(p *config.Proxy) int {
	port := 0
	for _, b := range p.Binds {
		if b.PortLow != b.PortHigh || port != 0 && b.PortLow != port {
			return 0
		}
		port = b.PortLow
	}
	return port
}

// tcpBackendHandler returns the handler that forwards the connections of
// frontend fe to backend b: the haproxy layer4 handler, behind the
// backend's own tcp-request content rules when it has some (HAProxy runs
// them once the backend is chosen; a listen section's rules run once, as
// frontend rules). ctx is what the frontend's routes know.
func (t *translator) tcpBackendHandler(ctx l4Context, fe, b *config.Proxy) json.RawMessage {
	key := fmt.Sprint(fe.Name, "\x00", b.Name, "\x00", ctx.port, ctx.sslBind, ctx.proxied, ctx.hello)
	if h, ok := t.tcpHandlers[key]; ok {
		return h
	}
	h := t.translateTCPBackend(fe, b)
	if b.Kind == config.KindBackend && h != nil {
		ctx.keyword = "tcp-request content"
		if rejects := t.rejectRoutes(ctx, nil, b.TCPRequest, "content"); len(rejects) > 0 {
			sub := map[string]any{"routes": append(rejects, &layer4.Route{HandlersRaw: []json.RawMessage{h}})}
			if d := inspectDelay(b); d > 0 {
				sub["matching_timeout"] = caddy.Duration(d)
			}
			h = caddyconfig.JSONModuleObject(sub, "handler", "subroute", nil)
		}
	}
	t.tcpHandlers[key] = h
	return h
}

func (t *translator) translateTCPBackend(fe, b *config.Proxy) json.RawMessage {
	if b.Mode == "http" {
		t.errorf(orPos(b.ModePos, b.Pos), "mode", "%s %q is in mode http but is used by the mode tcp %s %q: HAProxy would upgrade the connection to HTTP, which is not translated; use one mode for both", b.Kind, b.Name, fe.Kind, fe.Name)
		return nil
	}
	if len(b.Servers) == 0 {
		t.warnf(b.Pos, "backend", "backend %q has no server: every connection is closed", b.Name)
		return closeHandler()
	}
	h := l4proxy.Handler{
		Backend:         t.tcpBackendConfig(b),
		Frontend:        fe.Name,
		ClientKeepAlive: tcpKeepAlive(fe, "clitcpka"),
		ServerKeepAlive: tcpKeepAlive(b, "srvtcpka"),
	}
	set := func(d config.Duration, dst *caddy.Duration) {
		if d.Set && !d.Infinite {
			*dst = caddy.Duration(d.D)
		}
	}
	set(b.Timeouts.Connect, &h.ConnectTimeout)
	set(fe.Timeouts.Client, &h.ClientTimeout)
	set(b.Timeouts.Server, &h.ServerTimeout)
	set(b.Timeouts.Tunnel, &h.TunnelTimeout)
	return caddyconfig.JSONModuleObject(h, "handler", "haproxy", nil)
}

// tcpBackendConfig translates a mode tcp backend once, however many
// frontends use it.
func (t *translator) tcpBackendConfig(b *config.Proxy) lbmodule.BackendConfig {
	if bc, ok := t.tcpBackends[b.Name]; ok {
		return bc
	}
	if b.Cookie != nil {
		t.warnf(b.Cookie.Pos, "cookie", "backend %q is in mode tcp: HAProxy ignores cookie persistence there, and so does the translation", b.Name)
	}
	for _, us := range b.UseServers {
		t.errorf(us.Pos, "use-server", "use-server in mode tcp is not translated yet; remove the line or use balance source")
	}
	if o := b.Option("forwardfor"); o != nil {
		t.warnf(o.Pos, "option forwardfor", "backend %q is in mode tcp: HAProxy ignores option forwardfor there, and so does the translation", b.Name)
	}
	if !b.Timeouts.Connect.Set || !b.Timeouts.Server.Set {
		t.warnf(b.Pos, "timeout", "%s %q lacks timeout connect or timeout server: connections may wait forever, as in HAProxy", b.Kind, b.Name)
	}
	bc := t.backendConfig(b)
	for i, s := range b.Servers {
		if src := serverSource(b, s); src != nil {
			bc.Servers[i].Source, bc.Servers[i].UseSrc = sourceAddress(src), src.UseSrc
		}
		if s.Port == "" && strings.Contains(bc.Servers[i].Dial, "{") {
			// HAProxy connects to the port the client connected to:
			// known when every frontend using the backend listens on
			// one port.
			port := t.clientPort(b)
			if port == 0 {
				t.errorf(s.Pos, "server", "server %s/%s has no port: HAProxy connects to the port the client connected to, which is translated only when the frontends using the backend listen on one port; write the port", b.Name, s.Name)
			} else {
				bc.Servers[i].Dial = net.JoinHostPort(s.Host, strconv.Itoa(port))
			}
		}
		switch {
		case s.Params.SendProxyV2:
			bc.Servers[i].SendProxy = "v2"
		case s.Params.SendProxy:
			bc.Servers[i].SendProxy = "v1"
		}
		if s.Params.SSL {
			t.errorf(s.Pos, "server", "server %s/%s: ssl to servers in mode tcp is not translated yet", b.Name, s.Name)
		}
	}
	t.tcpBackends[b.Name] = bc
	return bc
}

// clientPort returns the one port on which the frontends that use backend
// b listen, 0 when there are several or none.
func (t *translator) clientPort(b *config.Proxy) int {
	port := 0
	for _, fe := range t.cfg.Proxies {
		if !fe.Kind.HasFrontend() || !routesTo(fe, b) {
			continue
		}
		p := singlePort(fe)
		if p == 0 || port != 0 && p != port {
			return 0
		}
		port = p
	}
	return port
}

// routesTo reports whether frontend fe may send connections to backend b.
func routesTo(fe, b *config.Proxy) bool {
	if fe == b || fe.DefaultBackend == b.Name {
		return true
	}
	for _, ub := range fe.UseBackends {
		if ub.Backend == b.Name {
			return true
		}
	}
	return false
}

// closeHandler is caddy-l4's handler that closes the connection.
func closeHandler() json.RawMessage {
	return caddyconfig.JSONModuleObject(struct{}{}, "handler", "close", nil)
}
