package caddyfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// unnamedBackend names a backend in messages when lb_policy haproxy gives
// it no name.
const unnamedBackend = "unnamed"

// policyKeywords are the backend keywords the block of lb_policy haproxy
// accepts: those the selection policy carries out. Options are listed
// apart.
var policyKeywords = []string{
	"balance", "hash-type", "cookie", "dynamic-cookie-key",
	"server", "default-server", "server-template",
	"option", "http-check", "tcp-check", "timeout", "fullconn", "mode",
}

// policyOptions are the options the block accepts.
var policyOptions = []string{
	"allbackups", "redispatch", "persist", "log-health-checks",
	"httpchk", "tcp-check", "ssl-hello-chk", "mysql-check", "pgsql-check",
	"redis-check", "smtpchk", "ldap-check",
}

// policyTimeouts are the timeouts the block accepts.
var policyTimeouts = []string{"queue", "check"}

// elsewhere says where the settings of reverse_proxy, its transport or the
// site go, for keywords of a backend section the policy cannot carry out.
var elsewhere = map[string]string{
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
}

// readPolicy reads "haproxy [<backend-name>] { … }", the arguments and
// block of lb_policy haproxy: the block is an HAProxy backend section,
// which the adapter's parser reads (with the Caddyfile's file:line) and its
// translator turns into the policy's configuration.
func readPolicy(d *caddyfile.Dispenser) (lbmodule.BackendConfig, error) {
	d.Next() // policy name
	head := lex.Pos{File: d.File(), Line: d.Line()}
	// An unnamed backend is private to its handler; the parser needs a
	// name all the same.
	sec := &lex.Section{Pos: head, Kind: "backend", Name: unnamedBackend}
	named := d.NextArg()
	if named {
		sec.Name = d.Val()
	}
	if d.NextArg() {
		return lbmodule.BackendConfig{}, d.ArgErr()
	}
	// HAProxy's backends default to mode tcp; a reverse_proxy is HTTP.
	sec.Statements = append(sec.Statements, lex.NewStatement(head, []string{"mode", "http"}))
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Nesting() != nesting+1 || d.Val() == "{" {
			return lbmodule.BackendConfig{}, d.Err("lb_policy haproxy: HAProxy's backend syntax has no nested blocks")
		}
		pos := lex.Pos{File: d.File(), Line: d.Line()}
		words := append([]string{d.Val()}, d.RemainingArgs()...)
		st := lex.NewStatement(pos, words)
		if err := checkPolicyKeyword(st); err != nil {
			return lbmodule.BackendConfig{}, err
		}
		sec.Statements = append(sec.Statements, st)
	}

	cfg, diags := config.Build(&lex.File{Sections: []*lex.Section{sec}})
	if err := report(diags); err != nil {
		return lbmodule.BackendConfig{}, err
	}
	b := cfg.Backend(sec.Name)
	if b == nil {
		return lbmodule.BackendConfig{}, fmt.Errorf("%s: lb_policy haproxy: the backend was not read", head)
	}
	if err := checkBackend(head, b); err != nil {
		return lbmodule.BackendConfig{}, err
	}
	bc, diags := haproxyadapter.BackendPolicy(cfg, b)
	if err := report(diags); err != nil {
		return lbmodule.BackendConfig{}, err
	}
	if !named {
		bc.Backend = ""
	}
	// The parser numbers its one proxy 1; a Caddyfile's backends have no
	// such numbering, and the stats page orders them by name.
	bc.ProxyID = 0
	return bc, nil
}

// checkPolicyKeyword refuses a line whose keyword the policy does not carry
// out, naming where its setting belongs when it has a place in Caddy.
func checkPolicyKeyword(st lex.Statement) error {
	kw := st.Keyword()
	name := kw
	var allowed bool
	switch kw {
	case "option", "timeout":
		if len(st.Words) < 2 {
			allowed = true // the parser explains what is missing
			break
		}
		name = kw + " " + st.Words[1]
		list := policyOptions
		if kw == "timeout" {
			list = policyTimeouts
		}
		allowed = slices.Contains(list, st.Words[1])
	case "mode":
		allowed = len(st.Words) == 2 && st.Words[1] == "http"
		if !allowed {
			return fmt.Errorf("%s: lb_policy haproxy: %s: a reverse_proxy backend is in mode http", st.Pos, strings.Join(st.Words, " "))
		}
	default:
		allowed = slices.Contains(policyKeywords, kw)
	}
	if allowed {
		return nil
	}
	if hint, ok := elsewhere[name]; ok {
		return fmt.Errorf("%s: lb_policy haproxy: %q is not supported here: %s", st.Pos, name, hint)
	}
	return fmt.Errorf("%s: lb_policy haproxy: unknown or unsupported keyword %q (the block takes %s, timeout %s, and option %s)",
		st.Pos, name, strings.Join(policyKeywords, ", "), strings.Join(policyTimeouts, "|"), strings.Join(policyOptions, "|"))
}

// checkBackend refuses what the adapter would put in the reverse_proxy's
// transport, which a selection policy cannot set.
func checkBackend(head lex.Pos, b *config.Proxy) error {
	if len(b.Servers) == 0 {
		return fmt.Errorf("%s: lb_policy haproxy: the block names no server", head)
	}
	for _, s := range b.Servers {
		p := s.Params
		switch {
		case p.SSL:
			return fmt.Errorf("%s: lb_policy haproxy: server %q: ssl is not supported here: write tls (and tls_* settings) in reverse_proxy's transport http block", s.Pos, s.Name)
		case p.SendProxy || p.SendProxyV2:
			return fmt.Errorf("%s: lb_policy haproxy: server %q: send-proxy is not supported here: write proxy_protocol in reverse_proxy's transport http block", s.Pos, s.Name)
		}
	}
	return nil
}

// report logs the warnings among diags, with their file:line, and returns
// the errors joined into one.
func report(diags []config.Diagnostic) error {
	var errs []error
	for _, d := range diags {
		msg := d.Pos.String() + ": lb_policy haproxy: " + strings.TrimPrefix(d.Error(), d.Pos.String()+": ")
		if d.Severity == config.Error {
			errs = append(errs, errors.New(msg))
			continue
		}
		caddy.Log().Named("caddyfile").Warn(msg)
	}
	return errors.Join(errs...)
}
