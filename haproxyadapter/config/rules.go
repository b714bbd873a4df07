package config

import (
	"slices"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// proxyRule models http-request, http-response, http-after-response,
// tcp-request, tcp-response, redirect, block and the legacy req*/rsp*
// lines.
func proxyRule(b *builder, c *proxyCtx, st lex.Statement) bool {
	p := c.p
	kw := st.Words[0]
	r := &Rule{Pos: st.Pos, Keyword: kw}
	var rest []string
	switch kw {
	case "http-request", "http-response", "http-after-response":
		r.Action = st.Words[1]
		rest = st.Words[2:]
	case "tcp-request", "tcp-response":
		typ := st.Words[1]
		if typ == "inspect-delay" {
			if !b.needArgs(st, kw+" inspect-delay", 1, 1, kw+" inspect-delay <time>") {
				return false
			}
			if _, ok := b.durationArg(st, kw+" inspect-delay", st.Words[2], time.Millisecond); !ok {
				return false
			}
			r.Action = typ
			r.Args = slices.Clone(st.Words[2:])
			break
		}
		if len(st.Words) < 3 || st.Words[2] == "if" || st.Words[2] == "unless" {
			b.errorf(st.Pos, kw+" "+typ, "missing action")
			return false
		}
		r.Action = typ + " " + st.Words[2]
		rest = st.Words[3:]
	case "redirect":
		if !b.needArgs(st, "redirect", 2, -1, "redirect {location|prefix|scheme} <value> [options] [{if|unless} <condition>]") {
			return false
		}
		if t := st.Words[1]; t != "location" && t != "prefix" && t != "scheme" {
			b.errorf(st.Pos, "redirect", "expects 'location', 'prefix' or 'scheme', found '%s'", t)
			return false
		}
		r.Action = "redirect"
		rest = st.Words[1:]
	case "block":
		// "block if <cond>" was "http-request deny if <cond>".
		r.Action = "deny"
		rest = st.Words[1:]
		if len(rest) == 0 || rest[0] != "if" && rest[0] != "unless" {
			b.errorf(st.Pos, "block", "expects 'if' or 'unless' followed by a condition")
			return false
		}
	default: // legacy req*/rsp*
		r.Action = kw
		rest = st.Words[1:]
	}
	if r.Action != "inspect-delay" {
		args, condWords := splitCondition(rest)
		r.Args = slices.Clone(args)
		if condWords != nil {
			cond, ok := b.condition(c, st, kw, condWords)
			if !ok {
				return false
			}
			r.Cond = cond
		}
	}
	switch {
	case kw == "http-request" || kw == "block" || strings.HasPrefix(kw, "req"):
		p.HTTPRequest = append(p.HTTPRequest, r)
	case kw == "http-response" || strings.HasPrefix(kw, "rsp"):
		p.HTTPResponse = append(p.HTTPResponse, r)
	case kw == "http-after-response":
		p.HTTPAfterResponse = append(p.HTTPAfterResponse, r)
	case kw == "tcp-request":
		p.TCPRequest = append(p.TCPRequest, r)
	case kw == "tcp-response":
		p.TCPResponse = append(p.TCPResponse, r)
	case kw == "redirect":
		p.Redirects = append(p.Redirects, r)
	}
	if p.Kind == KindDefaults && kw != "redirect" {
		c.hasRules = true
	}
	return true
}

// proxyCheckRule models http-check and tcp-check lines (no conditions).
func proxyCheckRule(b *builder, c *proxyCtx, st lex.Statement) bool {
	r := &Rule{Pos: st.Pos, Keyword: st.Words[0], Action: st.Words[1], Args: slices.Clone(st.Words[2:])}
	if st.Words[0] == "http-check" {
		c.p.HTTPCheck = append(c.p.HTTPCheck, r)
	} else {
		c.p.TCPCheck = append(c.p.TCPCheck, r)
	}
	return true
}

// proxyStats models the "stats" keywords of a proxy.
func proxyStats(b *builder, c *proxyCtx, st lex.Statement) bool {
	p := c.p
	sub := st.Words[1]
	name := "stats " + sub
	if p.Stats == nil {
		p.Stats = &Stats{Pos: st.Pos}
	}
	s := p.Stats
	args := st.Words[2:]
	one := func() bool { return b.needArgs(st, name, 1, 1, name+" <value>") }
	switch sub {
	case "enable":
		s.Enabled = true
	case "uri":
		if !one() {
			return false
		}
		s.URI = args[0]
	case "realm":
		if !one() {
			return false
		}
		s.Realm = args[0]
	case "refresh":
		if !one() {
			return false
		}
		d, ok := b.durationArg(st, name, args[0], time.Second)
		if !ok {
			return false
		}
		s.Refresh = d
	case "auth":
		if !one() {
			return false
		}
		user, pass, ok := strings.Cut(args[0], ":")
		if !ok || user == "" {
			b.errorf(st.Pos, name, "expects <user>:<password>, found '%s'", args[0])
			return false
		}
		s.Auths = append(s.Auths, StatsAuth{Pos: st.Pos, User: user, Password: pass})
	case "hide-version":
		s.HideVersion = true
	case "show-legends":
		s.ShowLegends = true
	case "show-node":
		s.ShowNodeSet = true
		if len(args) > 0 {
			s.ShowNode = args[0]
		}
	case "show-desc":
		s.ShowDesc = strings.Join(args, " ")
	case "scope":
		if !one() {
			return false
		}
		s.Scopes = append(s.Scopes, args[0])
	case "admin":
		cond, ok := b.condition(c, st, name, args)
		if !ok {
			return false
		}
		s.Admin = append(s.Admin, cond)
	case "http-request":
		if len(args) == 0 {
			b.errorf(st.Pos, name, "missing action (allow, deny or auth)")
			return false
		}
		r := &Rule{Pos: st.Pos, Keyword: name, Action: args[0]}
		a, condWords := splitCondition(args[1:])
		r.Args = slices.Clone(a)
		if condWords != nil {
			cond, ok := b.condition(c, st, name, condWords)
			if !ok {
				return false
			}
			r.Cond = cond
		}
		s.HTTPRequests = append(s.HTTPRequests, r)
	default:
		s.Other = append(s.Other, st)
	}
	// Any stats keyword enables the page (HAProxy does the same).
	s.Enabled = true
	return true
}
