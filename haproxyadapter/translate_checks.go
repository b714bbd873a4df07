package haproxyadapter

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// checkOptions are the options that choose a backend's check type; the
// last one written wins, as in HAProxy.
var checkOptions = map[string]string{
	"httpchk":        checks.TypeHTTP,
	"tcp-check":      checks.TypeTCPCheck,
	"ssl-hello-chk":  checks.TypeSSLHello,
	"mysql-check":    checks.TypeMySQL,
	"pgsql-check":    checks.TypePgSQL,
	"redis-check":    checks.TypeRedis,
	"smtpchk":        checks.TypeSMTP,
	"ldap-check":     checks.TypeLDAP,
	"spop-check":     "",
	"external-check": "",
}

// diagnostics collects warnings and errors about check settings.
type diagnostics []config.Diagnostic

func (d *diagnostics) warn(pos config.Pos, keyword, msg string) {
	*d = append(*d, config.Diagnostic{Severity: config.Warning, Pos: pos, Keyword: keyword, Message: msg})
}

func (d *diagnostics) fail(pos config.Pos, keyword, msg string) {
	*d = append(*d, config.Diagnostic{Severity: config.Error, Pos: pos, Keyword: keyword, Message: msg})
}

// healthChecks translates a backend's check options, http-check and
// tcp-check rules and check timeouts. It returns nil when the backend
// uses HAProxy's default check (a TCP connection) with default timeouts
// and logging. Checks never decide who may connect, so what cannot be
// translated is a warning, and the check falls back to what can be.
func healthChecks(b *config.Proxy) (*checks.Config, []config.Diagnostic) {
	var d diagnostics
	cfg := &checks.Config{}

	var chosen *config.Option
	var chosenName string
	for name := range checkOptions {
		o := b.Option(name)
		if o == nil {
			continue
		}
		if chosen == nil || after(o.Pos, chosen.Pos) {
			chosen, chosenName = o, name
		}
	}
	if chosen != nil {
		cfg.Type = checkOptions[chosenName]
		kw := "option " + chosenName
		switch chosenName {
		case "httpchk":
			cfg.HTTP = httpchkOption(chosen, &d)
		case "mysql-check":
			args := chosen.Args
			if len(args) >= 2 && args[0] == "user" {
				cfg.User = args[1]
				if len(args) >= 3 && args[2] == "pre-41" {
					d.warn(chosen.Pos, kw, "pre-4.1 MySQL authentication is not supported: the check uses the 4.1 protocol")
				}
			} else if len(args) > 0 {
				d.warn(chosen.Pos, kw, "unexpected arguments "+strings.Join(args, " ")+": only the server greeting is checked")
			}
		case "pgsql-check":
			if len(chosen.Args) >= 2 && chosen.Args[0] == "user" {
				cfg.User = chosen.Args[1]
			} else {
				d.warn(chosen.Pos, kw, "needs 'user <name>': the servers get a plain TCP check")
				cfg.Type = checks.TypeTCP
			}
		case "smtpchk":
			if len(chosen.Args) >= 2 {
				hello := strings.ToUpper(chosen.Args[0])
				if hello == "HELO" || hello == "EHLO" {
					cfg.Hello, cfg.Domain = hello, chosen.Args[1]
				}
			}
		case "spop-check", "external-check":
			d.warn(chosen.Pos, kw, "this check is not supported: the servers get a plain TCP check")
			cfg.Type = checks.TypeTCP
		}
	}

	switch cfg.Type {
	case checks.TypeHTTP:
		httpCheckRules(b.HTTPCheck, cfg.HTTP, &d)
	default:
		for _, r := range b.HTTPCheck {
			d.warn(r.Pos, "http-check "+r.Action, "has no effect without 'option httpchk'")
		}
	}
	if cfg.Type == checks.TypeTCPCheck {
		cfg.TCPRules = tcpCheckRules(b.TCPCheck, &d)
	} else {
		for _, r := range b.TCPCheck {
			d.warn(r.Pos, "tcp-check "+r.Action, "has no effect without 'option tcp-check'")
		}
	}

	if t := b.Timeouts.Check; t.Set && !t.Infinite {
		cfg.CheckTimeout = checks.Duration(t.D)
	}
	// timeout connect limits check connections only with timeout check.
	if t := b.Timeouts.Connect; t.Set && !t.Infinite && cfg.CheckTimeout > 0 {
		cfg.ConnectTimeout = checks.Duration(t.D)
	}
	cfg.LogHealthChecks = b.Option("log-health-checks") != nil

	if cfg.Type == checks.TypeTCP {
		cfg.Type = ""
	}
	if cfg.Type == "" && cfg.CheckTimeout == 0 && !cfg.LogHealthChecks {
		return nil, d
	}
	if err := cfg.Validate(); err != nil {
		pos := b.Pos
		if chosen != nil {
			pos = chosen.Pos
		}
		d.fail(pos, "option "+chosenName, err.Error())
	}
	return cfg, d
}

// after reports whether position a comes later in the configuration than
// b (options inherited from defaults come first).
func after(a, b config.Pos) bool {
	if a.File != b.File {
		return false
	}
	return a.Line > b.Line
}

// httpchkOption reads "option httpchk [<method>] [<uri>] [<version>]",
// including the old trick of smuggling headers into the version:
// "HTTP/1.1\r\nHost:\ www.example.com".
func httpchkOption(o *config.Option, d *diagnostics) *checks.HTTPCheck {
	h := &checks.HTTPCheck{}
	args := o.Args
	switch len(args) {
	case 0:
	case 1:
		h.URI = args[0]
	default:
		h.Method, h.URI = args[0], args[1]
		if len(args) >= 3 {
			version, extra, _ := strings.Cut(args[2], "\n")
			h.Version = strings.TrimSuffix(version, "\r")
			for _, line := range strings.Split(extra, "\n") {
				line = strings.TrimSuffix(line, "\r")
				if line == "" {
					continue
				}
				name, value, ok := strings.Cut(line, ":")
				if !ok {
					d.warn(o.Pos, "option httpchk", "ignored malformed header line "+strconv.Quote(line))
					continue
				}
				h.Headers = append(h.Headers, checks.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
			}
		}
		if len(args) > 3 {
			d.warn(o.Pos, "option httpchk", "ignored extra arguments "+strings.Join(args[3:], " "))
		}
	}
	if h.Method != "" {
		h.Method = strings.ToUpper(h.Method)
	}
	return h
}

// httpCheckRules applies "http-check" lines to h.
func httpCheckRules(rules []*config.Rule, h *checks.HTTPCheck, d *diagnostics) {
	sent := false
	expectsSeen := false
	for _, r := range rules {
		kw := "http-check " + r.Action
		switch r.Action {
		case "send":
			if sent || expectsSeen {
				d.warn(r.Pos, kw, "multi-step HTTP checks are not supported: only the first request is sent")
				continue
			}
			sent = true
			httpCheckSend(r, h, d)
		case "expect":
			expectsSeen = true
			if e, ok := httpCheckExpect(r, d); ok {
				h.Expect = append(h.Expect, e)
			}
		case "disable-on-404":
			h.DisableOn404 = true
		case "comment":
		case "connect":
			if len(r.Args) > 0 {
				d.warn(r.Pos, kw, "connect options are not supported: the check connects to the server as configured on the server line")
			}
		default:
			d.warn(r.Pos, kw, "not supported: ignored")
		}
	}
}

func httpCheckSend(r *config.Rule, h *checks.HTTPCheck, d *diagnostics) {
	kw := "http-check send"
	args := r.Args
	for i := 0; i < len(args); i++ {
		next := func() (string, bool) {
			if i+1 >= len(args) {
				d.fail(r.Pos, kw, "'"+args[i]+"' needs a value")
				return "", false
			}
			i++
			return args[i], true
		}
		switch args[i] {
		case "meth":
			if v, ok := next(); ok {
				h.Method = strings.ToUpper(v)
			}
		case "uri":
			if v, ok := next(); ok {
				h.URI = v
			}
		case "ver":
			if v, ok := next(); ok {
				h.Version = v
			}
		case "body":
			if v, ok := next(); ok {
				h.Body = v
			}
		case "hdr":
			if i+2 >= len(args) {
				d.fail(r.Pos, kw, "'hdr' needs a name and a value")
				return
			}
			h.Headers = append(h.Headers, checks.Header{Name: args[i+1], Value: args[i+2]})
			i += 2
		case "uri-lf", "body-lf":
			d.warn(r.Pos, kw, "log-format '"+args[i]+"' is not supported: ignored")
			i++
		default:
			d.warn(r.Pos, kw, "unknown argument '"+args[i]+"' ignored")
		}
	}
}

// expectModifiers are "expect" options that take a value and do not
// change what is matched.
var expectModifiers = map[string]bool{
	"min-recv": true, "ok-status": true, "error-status": true, "tout-status": true,
	"on-success": true, "on-error": true, "status-code": true, "comment": true,
}

// splitExpect separates an expect line's modifiers from its "[!] <match>
// <pattern>".
func splitExpect(r *config.Rule, d *diagnostics) (negate bool, match, pattern string, ok bool) {
	kw := r.Keyword + " expect"
	args := r.Args
	i := 0
	for i < len(args) && expectModifiers[args[i]] {
		if args[i] != "comment" {
			d.warn(r.Pos, kw, "'"+args[i]+"' is not supported: ignored")
		}
		i += 2
	}
	if i < len(args) && args[i] == "!" {
		negate = true
		i++
	}
	if i+1 >= len(args) {
		d.fail(r.Pos, kw, "expects '[!] <match> <pattern>'")
		return false, "", "", false
	}
	return negate, args[i], args[i+1], true
}

func httpCheckExpect(r *config.Rule, d *diagnostics) (checks.HTTPExpect, bool) {
	negate, match, pattern, ok := splitExpect(r, d)
	if !ok {
		return checks.HTTPExpect{}, false
	}
	switch match {
	case "status", "rstatus", "string", "rstring":
		return checks.HTTPExpect{Match: match, Pattern: pattern, Negate: negate}, true
	}
	d.warn(r.Pos, "http-check expect", "matching '"+match+"' is not supported: this condition is not checked")
	return checks.HTTPExpect{}, false
}

// tcpCheckRules translates "tcp-check" lines.
func tcpCheckRules(rules []*config.Rule, d *diagnostics) []checks.TCPRule {
	var out []checks.TCPRule
	for _, r := range rules {
		kw := "tcp-check " + r.Action
		switch r.Action {
		case "connect":
			c := checks.TCPRule{Action: "connect"}
			for i := 0; i < len(r.Args); i++ {
				a := r.Args[i]
				switch a {
				case "port", "addr", "sni":
					if i+1 >= len(r.Args) {
						d.fail(r.Pos, kw, "'"+a+"' needs a value")
						continue
					}
					i++
					v := r.Args[i]
					switch a {
					case "port":
						p, err := strconv.Atoi(v)
						if err != nil || p <= 0 || p > 65535 {
							d.fail(r.Pos, kw, "bad port "+strconv.Quote(v))
						}
						c.Port = p
					case "addr":
						c.Addr = v
					case "sni":
						c.SNI = v
					}
				case "ssl":
					c.SSL = true
				case "default", "linger":
				case "alpn", "proto", "via-socks4", "send-proxy", "comment":
					d.warn(r.Pos, kw, "'"+a+"' is not supported: ignored")
					if a == "alpn" || a == "proto" || a == "comment" {
						i++
					}
				default:
					d.warn(r.Pos, kw, "unknown argument '"+a+"' ignored")
				}
			}
			out = append(out, c)
		case "send", "send-binary":
			if len(r.Args) < 1 {
				d.fail(r.Pos, kw, "needs data to send")
				continue
			}
			data := r.Args[0]
			if r.Action == "send-binary" {
				if _, err := hex.DecodeString(data); err != nil {
					d.fail(r.Pos, kw, "bad hexadecimal string "+strconv.Quote(data))
					continue
				}
			}
			out = append(out, checks.TCPRule{Action: r.Action, Data: data})
		case "expect":
			negate, match, pattern, ok := splitExpect(r, d)
			if !ok {
				continue
			}
			switch match {
			case "string", "rstring", "binary", "rbinary":
				out = append(out, checks.TCPRule{Action: "expect", Match: match, Pattern: pattern, Negate: negate})
			default:
				d.warn(r.Pos, kw, "matching '"+match+"' is not supported: this step is skipped")
			}
		case "comment":
		default:
			d.warn(r.Pos, kw, "not supported: this step is skipped")
		}
	}
	return out
}

// serverCheck translates a server's "check" and its parameters; nil when
// the server is not checked. sslServerVerify is the global
// "ssl-server-verify" value, the default of the server's "verify".
func serverCheck(b *config.Proxy, s *config.Server, sslServerVerify string) (*checks.ServerConfig, []config.Diagnostic) {
	var d diagnostics
	p := s.Params
	if !p.Check {
		return nil, nil
	}
	sc := &checks.ServerConfig{
		Inter:     checks.Duration(p.Inter),
		FastInter: checks.Duration(p.FastInter),
		DownInter: checks.Duration(p.DownInter),
		Rise:      p.Rise,
		Fall:      p.Fall,
		Port:      p.CheckPort,
		Addr:      p.CheckAddr,
		SNI:       p.CheckSNI,
		CAFile:    p.CAFile,
	}
	// Built-in defaults need not be spelled out.
	if sc.Rise == checks.DefaultRise {
		sc.Rise = 0
	}
	if sc.Fall == checks.DefaultFall {
		sc.Fall = 0
	}
	if sc.Inter == checks.Duration(checks.DefaultInter) {
		sc.Inter = 0
	}
	// Checks use the server's TLS unless they go to another port or
	// address, where only check-ssl applies.
	sc.SSL = p.CheckSSL || (p.SSL && p.CheckPort == 0 && p.CheckAddr == "")
	if sc.SSL {
		verify := p.Verify
		if verify == "" {
			verify = sslServerVerify
		}
		sc.InsecureSkipVerify = verify == "none"
		if !sc.InsecureSkipVerify {
			sc.VerifyHost = p.VerifyHost
		}
	} else {
		sc.CAFile = ""
	}
	// Like TLS, the PROXY protocol applies to checks that go to the
	// server's own address.
	if p.CheckPort == 0 && p.CheckAddr == "" {
		switch {
		case p.SendProxyV2:
			sc.ProxyProtocol = "v2"
		case p.SendProxy:
			sc.ProxyProtocol = "v1"
		}
	}
	if err := sc.Validate(); err != nil {
		d = append(d, config.Diagnostic{Severity: config.Error, Pos: s.Pos, Keyword: "server", Subject: s.Name, Message: err.Error()})
	}
	return sc, d
}

// serverAgentCheck translates "agent-check" with agent-port, agent-addr,
// agent-inter and agent-send. HAProxy refuses an agent-check without a
// port.
func serverAgentCheck(s *config.Server) (*checks.AgentConfig, []config.Diagnostic) {
	p := s.Params
	if !p.AgentCheck {
		return nil, nil
	}
	var d diagnostics
	ac := &checks.AgentConfig{Port: p.AgentPort, Inter: checks.Duration(p.AgentInter)}
	for _, o := range p.Other {
		if len(o) < 2 {
			continue
		}
		switch o[0] {
		case "agent-addr":
			ac.Addr = o[1]
		case "agent-send":
			ac.Send = o[1]
		}
	}
	if ac.Inter == checks.Duration(checks.DefaultInter) {
		ac.Inter = 0
	}
	if ac.Port == 0 {
		d.fail(s.Pos, "agent-check", "server "+s.Name+" has no agent-port: HAProxy refuses an agent-check without one")
		return nil, d
	}
	return ac, d
}
