package haproxyadapter

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/transport"
)

// backendHandler returns the reverse_proxy handler for backend b as reached
// from frontend fe (the frontend matters for option forwardfor).
func (t *translator) backendHandler(fe, b *config.Proxy) json.RawMessage {
	ff := t.forwardFor(fe, b)
	key := b.Name + "\x00" + ff.key
	if h, ok := t.backendHandlers[key]; ok {
		return h
	}
	h := t.translateBackend(b, ff)
	t.backendHandlers[key] = h
	return h
}

func (t *translator) translateBackend(b *config.Proxy, ff forwardForConfig) json.RawMessage {
	if b.Mode != "http" {
		t.errorf(orPos(b.ModePos, b.Pos), "mode", "backend %q is in %s mode but is used by an HTTP frontend; set \"mode http\" in it", b.Name, modeName(b.Mode))
		return nil
	}
	if len(b.Servers) == 0 {
		if b.Stats == nil || !b.Stats.Enabled {
			// A section serving the stats page needs no server.
			t.warnf(b.Pos, "backend", "backend %q has no server: every request gets 503", b.Name)
		}
		return unavailableHandler()
	}

	// Caddy adds Via and X-Forwarded-For, -Proto and -Host by itself and
	// replaces a client's X-Forwarded-For; HAProxy adds only what option
	// forwardfor asks for. The policy undoes Caddy's additions.
	policy := &lbmodule.HTTPSelection{BackendConfig: t.backendConfig(b), HAProxyHeaders: true, ForwardFor: ff.forwardFor}
	handler := reverseproxy.Handler{
		TransportRaw: t.transport(b),
		LoadBalancing: &reverseproxy.LoadBalancing{
			SelectionPolicyRaw: caddyconfig.JSONModuleObject(policy, "policy", "haproxy", nil),
			Retries:            b.Retries,
			// HAProxy retries only connections that failed (retry-on
			// conn-failure); Caddy would also resend a GET whose server
			// failed to answer. A matcher that never matches keeps
			// Caddy's retries to failed connections.
			RetryMatchRaw: caddyhttp.RawMatcherSets{{"expression": json.RawMessage(`"false"`)}},
		},
	}
	for _, s := range b.Servers {
		handler.Upstreams = append(handler.Upstreams, &reverseproxy.Upstream{Dial: t.serverDial(b, s)})
	}

	return caddyconfig.JSONModuleObject(handler, "handler", "reverse_proxy", nil)
}

// BackendPolicy translates backend b of cfg into the selection policy's
// configuration, as the adapter does for each reverse_proxy handler: the
// algorithm, servers, checks, cookie and retry rules. The transport and the
// reverse_proxy around the policy are left to the caller.
func BackendPolicy(cfg *config.Config, b *config.Proxy) (lbmodule.BackendConfig, []config.Diagnostic) {
	t := newTranslator(cfg)
	bc := t.backendConfig(b)
	return bc, t.diags
}

// TCPHandler translates backend b of cfg, in mode tcp, into the layer-4
// handler's JSON, as the adapter does for a listen section: b is its own
// frontend (its timeout client applies).
func TCPHandler(cfg *config.Config, b *config.Proxy) (json.RawMessage, []config.Diagnostic) {
	t := newTranslator(cfg)
	h := t.translateTCPBackend(b, b)
	return h, uniqueDiagnostics(t.diags)
}

// backendConfig builds the selection policy's description of backend b.
func (t *translator) backendConfig(b *config.Proxy) lbmodule.BackendConfig {
	bc := lbmodule.BackendConfig{
		Backend:      b.Name,
		ProxyID:      t.ids[b],
		Balance:      b.Balance.Algorithm,
		BalanceParam: b.Balance.Param,
		BalanceArgs:  b.Balance.Args,
		HashType:     b.HashType.Method,
		HashFunction: b.HashType.Function,
		AllBackups:   b.Option("allbackups") != nil,
		Persist:      b.Option("persist") != nil,
		FullConn:     b.FullConn,
	}
	if b.Retries != 3 {
		retries := b.Retries
		bc.Retries = &retries
	}
	if o := b.Option("redispatch"); o != nil {
		bc.Redispatch = true
		if len(o.Args) > 0 {
			n, err := strconv.Atoi(o.Args[0])
			switch {
			case err != nil:
				t.errorf(o.Pos, "option redispatch", "interval %q is not a number", o.Args[0])
			case n == 0:
				bc.Redispatch = false
			default:
				bc.RedispatchInterval = n
			}
		}
	}
	// HAProxy waits min(timeout connect, 1s) before it retries a
	// connection on the same server.
	turnaround := time.Second
	if c := b.Timeouts.Connect; c.Set && c.D > 0 && c.D < turnaround {
		turnaround = c.D
	}
	bc.RetryTurnaround = caddy.Duration(turnaround)
	if b.HashType.Avalanche {
		avalanche := true
		bc.HashAvalanche = &avalanche
	}
	var diags []config.Diagnostic
	bc.HealthChecks, diags = healthChecks(b)
	t.diags = append(t.diags, diags...)
	if b.Mode == "http" {
		// HAProxy ignores cookie persistence in mode tcp (the
		// translator warns).
		bc.Cookie, diags = cookieConfig(b)
		t.diags = append(t.diags, diags...)
	}
	// timeout queue defaults to timeout connect.
	if d, ok := firstTimeout(b.Timeouts.Queue, b.Timeouts.Connect); ok {
		bc.QueueTimeout = caddy.Duration(d)
	}
	t.checkSources(b)
	for i, s := range b.Servers {
		sc := lbmodule.ServerConfig{
			Name:     s.Name,
			Dial:     t.serverDial(b, s),
			Backup:   s.Params.Backup,
			Disabled: s.Params.Disabled,
			Cookie:   s.Params.Cookie,
			MaxConn:  s.Params.MaxConn,
			MaxQueue: s.Params.MaxQueue,
			MinConn:  s.Params.MinConn,
		}
		if s.Params.SlowStart > 0 {
			sc.SlowStart = caddy.Duration(s.Params.SlowStart)
		}
		if s.Params.Check {
			sc.Check, diags = serverCheck(b, s, t.cfg.Global.SSLServerVerify)
			t.diags = append(t.diags, diags...)
			if sc.Check != nil && sc.Check.CAFile != "" {
				// ca-base applies to the checks' CAs as to the traffic's.
				sc.Check.CAFile = t.caPath(sc.Check.CAFile)
			}
		}
		sc.AgentCheck, diags = serverAgentCheck(s)
		t.diags = append(t.diags, diags...)
		// HAProxy's source applies to the server's checks and agent too.
		if src := sourceAddress(serverSource(b, s)); src != "" {
			if sc.Check != nil {
				sc.Check.Source = src
			}
			if sc.AgentCheck != nil {
				sc.AgentCheck.Source = src
			}
		}
		if s.ID != i+1 {
			// Only ids that differ from the position need saying.
			sc.ID = s.ID
		}
		if s.Params.Weight != 1 {
			w := s.Params.Weight
			sc.Weight = &w
		}
		bc.Servers = append(bc.Servers, sc)
	}
	return bc
}

// serverDial converts a server address to a Caddy dial address. Without a
// port HAProxy connects to the port the client connected to.
func (t *translator) serverDial(b *config.Proxy, s *config.Server) string {
	host, port := s.Host, s.Port
	switch {
	case strings.HasPrefix(s.Address, "unix@") || strings.HasPrefix(host, "/"):
		return "unix/" + strings.TrimPrefix(host, "unix@")
	case host == "" || host == "*" || host == "0.0.0.0" || host == "::":
		t.errorf(s.Pos, "server", "server %s/%s: connecting to the client's original destination (%s) is not supported", b.Name, s.Name, s.Address)
		return s.Address
	case strings.HasPrefix(port, "+") || strings.HasPrefix(port, "-"):
		t.errorf(s.Pos, "server", "server %s/%s: relative ports (%s) are not supported", b.Name, s.Name, s.Address)
		return s.Address
	case port == "":
		port = "{http.request.local.port}"
	}
	return net.JoinHostPort(host, port)
}

// transport builds the HTTP transport shared by a backend's servers: the
// connect timeout, the server inactivity timeout, TLS and PROXY protocol.
func (t *translator) transport(b *config.Proxy) json.RawMessage {
	tr := reverseproxy.HTTPTransport{}
	if c := b.Timeouts.Connect; c.Set && !c.Infinite {
		tr.DialTimeout = caddy.Duration(c.D)
	} else if !c.Set {
		t.warnf(b.Pos, "timeout connect", "backend %q has no timeout connect: HAProxy would wait forever, Caddy uses its default of 3s", b.Name)
	}
	if s := b.Timeouts.Server; s.Set && !s.Infinite {
		// timeout server is an inactivity timeout in both directions.
		tr.ReadTimeout = caddy.Duration(s.D)
		tr.WriteTimeout = caddy.Duration(s.D)
	} else if !s.Set {
		t.warnf(b.Pos, "timeout server", "backend %q has no timeout server: servers may stay silent forever", b.Name)
	}

	first := b.Servers[0]
	for _, s := range b.Servers[1:] {
		if s.Params.SSL != first.Params.SSL {
			t.errorf(s.Pos, "server", "backend %q mixes ssl and plain servers (%s, %s); Caddy uses one transport per backend: split the backend", b.Name, first.Name, s.Name)
		} else if s.Params.SSL && serverTLSSettings(s) != serverTLSSettings(first) {
			t.errorf(s.Pos, "server", "backend %q mixes TLS settings between servers (%s, %s: verify, ca-file, crt, sni, verifyhost); Caddy uses one transport per backend: split the backend", b.Name, first.Name, s.Name)
		}
		if s.Params.SendProxy != first.Params.SendProxy || s.Params.SendProxyV2 != first.Params.SendProxyV2 {
			t.errorf(s.Pos, "server", "backend %q mixes send-proxy settings between servers (%s, %s); Caddy uses one transport per backend: split the backend", b.Name, first.Name, s.Name)
		}
	}
	var usesrc string
	tr.LocalAddress, usesrc = httpSource(serverSource(b, first))
	for _, s := range b.Servers[1:] {
		if local, use := httpSource(serverSource(b, s)); local != tr.LocalAddress || use != usesrc {
			t.errorf(s.Pos, "source", "backend %q gives servers different sources (%s, %s); Caddy uses one transport per backend: split the backend", b.Name, first.Name, s.Name)
		}
	}
	switch {
	case first.Params.SendProxyV2:
		tr.ProxyProtocol = "v2"
	case first.Params.SendProxy:
		tr.ProxyProtocol = "v1"
	}
	if first.Params.SSL {
		var verifyHost string
		tr.TLS, verifyHost = t.serverTLS(b, first)
		if strings.Contains(tr.TLS.ServerName, "{") {
			off := false
			tr.KeepAlive = &reverseproxy.KeepAlive{Enabled: &off}
		}
		if tr.TLS != nil && !tr.TLS.InsecureSkipVerify && tr.TLS.ServerName == "" {
			// Without SNI HAProxy checks the certificate's name against
			// verifyhost, or checks only its chain: the plugin's
			// transport does the same.
			return caddyconfig.JSONModuleObject(transport.Transport{HTTPTransport: tr, VerifyHost: verifyHost, ServerKeepAlive: tcpKeepAlive(b, "srvtcpka"), UseSrc: usesrc}, "protocol", "haproxy", nil)
		}
	}
	// The plugin's transport reports connect and response times to the
	// statistics.
	return caddyconfig.JSONModuleObject(transport.Transport{HTTPTransport: tr, ServerKeepAlive: tcpKeepAlive(b, "srvtcpka"), UseSrc: usesrc}, "protocol", "haproxy", nil)
}

// serverTLSSettings gathers the server parameters that shape a backend's
// TLS transport.
func serverTLSSettings(s *config.Server) [5]string {
	p := s.Params
	return [5]string{p.Verify, p.CAFile, p.Crt, p.SNI, p.VerifyHost}
}

// serverTLS translates a server's ssl parameters, and returns the
// verifyhost name that applies (when no sni is sent). HAProxy verifies
// server certificates unless "verify none" (or global ssl-server-verify
// none), and refuses to verify without a ca-file.
func (t *translator) serverTLS(b *config.Proxy, s *config.Server) (*reverseproxy.TLSConfig, string) {
	p := s.Params
	tc := &reverseproxy.TLSConfig{}
	verify := p.Verify
	if verify == "" && t.cfg.Global.SSLServerVerify == "none" {
		verify = "none"
	}
	if verify == "none" {
		tc.InsecureSkipVerify = true
	} else if p.CAFile == "" {
		t.errorf(s.Pos, "server", "server %s/%s: verify is enabled (the default) but no ca-file is given; HAProxy refuses this: add ca-file, or verify none", b.Name, s.Name)
	}
	if p.CAFile != "" {
		tc.RootCAPEMFiles = []string{t.caPath(p.CAFile)}
	}
	if p.Crt != "" {
		tc.ClientCertificateFile = t.crtPath(p.Crt)
		tc.ClientCertificateKeyFile = tc.ClientCertificateFile
	}
	switch {
	case p.SNI == "":
	case p.SNI == "req.hdr(host)" || p.SNI == "hdr(host)" || p.SNI == "req.hdr(Host)":
		tc.ServerName = "{http.request.host}"
		t.warnf(s.Pos, "server", "server %s/%s: sni %s: connections to the server are not reused, since Caddy would reuse a connection made for one name for the next request's (HAProxy reuses a connection for the same name only)", b.Name, s.Name, p.SNI)
	case strings.HasPrefix(p.SNI, "str(") && strings.HasSuffix(p.SNI, ")"):
		tc.ServerName = p.SNI[4 : len(p.SNI)-1]
	default:
		t.errorf(s.Pos, "server", "server %s/%s: sni expression %q is not supported yet (use str(<name>) or req.hdr(host))", b.Name, s.Name, p.SNI)
	}
	// The name checked is the SNI sent; verifyhost applies only without
	// one (and only when verifying).
	verifyHost := ""
	if p.SNI == "" && !tc.InsecureSkipVerify {
		verifyHost = p.VerifyHost
	}
	return tc, verifyHost
}

func (t *translator) caPath(p string) string {
	if !strings.HasPrefix(p, "/") && t.cfg.Global.CABase != "" {
		return t.cfg.Global.CABase + "/" + p
	}
	return p
}

func (t *translator) crtPath(p string) string {
	if !strings.HasPrefix(p, "/") && t.cfg.Global.CRTBase != "" {
		return t.cfg.Global.CRTBase + "/" + p
	}
	return p
}

// forwardForConfig is the effective "option forwardfor" of a frontend and
// backend pair.
type forwardForConfig struct {
	// forwardFor is nil when neither section sets the option.
	forwardFor *lbmodule.ForwardFor
	// key tells configurations apart, for sharing handlers.
	key string
}

// forwardFor combines the frontend's and backend's option forwardfor as
// HAProxy does: it applies if either sets it; the backend's header name
// wins; a client in either section's except network gets no header; and
// if-none holds only when no section sets the option without it.
func (t *translator) forwardFor(fe, be *config.Proxy) forwardForConfig {
	var ff *lbmodule.ForwardFor
	always := false
	sections := []*config.Proxy{fe, be}
	if fe == be {
		sections = sections[:1]
	}
	for _, p := range sections {
		o := p.Option("forwardfor")
		if o == nil {
			continue
		}
		if ff == nil {
			ff = &lbmodule.ForwardFor{}
		}
		ifNone := false
		// A section's option names X-Forwarded-For unless it says
		// otherwise, and the backend's name wins.
		ff.Header = ""
		for i := 0; i < len(o.Args); i++ {
			switch o.Args[i] {
			case "header":
				if i+1 < len(o.Args) {
					ff.Header = o.Args[i+1]
					i++
				}
			case "except":
				if i+1 < len(o.Args) {
					n, err := matchers.ParseIPPattern(o.Args[i+1])
					if err != nil {
						t.errorf(o.Pos, "option forwardfor", "except: %v", err)
					} else {
						ff.Except = append(ff.Except, n.String())
					}
					i++
				}
			case "if-none":
				ifNone = true
			}
		}
		always = always || !ifNone
	}
	if ff == nil {
		return forwardForConfig{}
	}
	ff.IfNone = !always
	key, _ := json.Marshal(ff)
	return forwardForConfig{forwardFor: ff, key: string(key)}
}

// unavailableHandler answers as HAProxy does when no server can take a
// request.
func unavailableHandler() json.RawMessage {
	return caddyconfig.JSONModuleObject(map[string]any{
		"status_code": 503,
		"body":        "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
		"headers": map[string][]string{
			"Content-Type":  {"text/html"},
			"Cache-Control": {"no-cache"},
		},
		"close": true,
	}, "handler", "static_response", nil)
}

func modeName(m string) string {
	if m == "" {
		return "tcp"
	}
	return m
}
