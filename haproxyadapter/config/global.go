package config

import (
	"slices"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// globalNegatable are the global keywords HAProxy accepts after "no".
var globalNegatable = []string{"busy-polling", "set-dumpable", "strict-limits", "insecure-fork-wanted", "numa-cpu-mapping", "log"}

// global models a global section; several are merged in order.
func (b *builder) global(s *lex.Section) {
	g := &b.cfg.Global
	if !b.globalSeen {
		g.Pos = s.Pos
		b.globalSeen = true
	}
	for _, st := range s.Statements {
		if len(st.Words) == 0 {
			continue
		}
		g.Other = append(g.Other, st)
		words := st.Words
		k, allowed := LookupKeyword("global", words)
		if words[0] == "stats" && (k == nil || !allowed) {
			if len(words) < 2 {
				b.errorf(st.Pos, "stats", "missing stats keyword (socket, timeout, maxconn)")
			} else {
				b.errorf(st.Pos, "stats", "unknown stats keyword '%s' in 'global' section%s", words[1], didYouMean(suggest(words[1], keywordsIn(InGlobal, "stats ")), '\''))
			}
			continue
		}
		if k == nil || !allowed && k.Sections&InGlobal == 0 && k.Sections&InProxies != 0 && !strings.HasPrefix(words[0], "tune.") {
			if k != nil {
				b.errorf(st.Pos, "", "unknown keyword '%s' in 'global' section (it belongs in %s)", words[0], scopeNames(k.Sections))
				continue
			}
			sug := suggest(words[0], keywordsIn(InGlobal, ""))
			if sug == "" {
				sug = suggest(words[0], keywordsIn(0, ""))
			}
			b.errorf(st.Pos, "", "unknown keyword '%s' in 'global' section%s", words[0], didYouMean(sug, '\''))
			continue
		}
		if !allowed {
			b.errorf(st.Pos, "", "unknown keyword '%s' in 'global' section (it belongs in %s)", words[0], scopeNames(k.Sections))
			continue
		}
		if st.Prefix != "" && !slices.Contains(globalNegatable, words[0]) {
			b.errorf(st.Pos, k.Name, "'%s' may only precede options, log and a few global booleans", st.Prefix)
			continue
		}
		if b.globalStatement(g, st, k) {
			b.reportStatus(st.Pos, k.Name, k)
		}
	}
}

func (b *builder) globalStatement(g *Global, st lex.Statement, k *Keyword) bool {
	args := st.Words[1:]
	one := func() bool {
		if len(args) != 1 {
			b.errorf(st.Pos, k.Name, "expects exactly one argument")
			return false
		}
		return true
	}
	switch k.Name {
	case "maxconn":
		if !one() {
			return false
		}
		n, ok := b.intArg(st, "maxconn", args[0], 0, 1<<31-1)
		g.MaxConn = n
		return ok
	case "tune.bufsize", "tune.maxrewrite":
		if !one() {
			return false
		}
		lo := 0
		if k.Name == "tune.bufsize" {
			lo = 1
		}
		n, ok := b.intArg(st, k.Name, args[0], lo, 1<<30)
		if k.Name == "tune.bufsize" {
			g.BufSize = n
		} else {
			g.MaxRewrite = n
		}
		if ok && g.RequestHeadLimit() < minRequestHead {
			b.errorf(st.Pos, k.Name, "leaves %d bytes for a request head; HAProxy needs a buffer of a few KiB (default tune.bufsize 16384)", g.RequestHeadLimit())
			return false
		}
		return ok
	case "hard-stop-after", "grace":
		if !one() {
			return false
		}
		d, ok := b.durationArg(st, k.Name, args[0], time.Millisecond)
		if k.Name == "grace" {
			g.Grace = d
		} else {
			g.HardStopAfter = d
		}
		return ok
	case "ca-base":
		if !one() {
			return false
		}
		g.CABase = args[0]
	case "crt-base":
		if !one() {
			return false
		}
		g.CRTBase = args[0]
	case "ssl-server-verify":
		if !one() {
			return false
		}
		v, err := oneOf(args[0], "none", "required")
		if err != nil {
			b.errorf(st.Pos, k.Name, "%v", err)
			return false
		}
		g.SSLServerVerify = v
	case "stats socket":
		if len(args) < 2 {
			b.errorf(st.Pos, k.Name, "missing socket address")
			return false
		}
		g.StatsSockets = append(g.StatsSockets, StatsSocket{Pos: st.Pos, Address: args[1], Params: slices.Clone(args[2:])})
	case "stats timeout":
		if len(args) != 2 {
			b.errorf(st.Pos, k.Name, "expects one time value")
			return false
		}
		d, ok := b.durationArg(st, k.Name, args[1], time.Millisecond)
		g.StatsTimeout = d
		return ok
	case "nbthread", "ulimit-n", "maxsslconn", "maxconnrate", "maxsessrate", "maxsslrate", "maxpipes", "spread-checks":
		if !one() {
			return false
		}
		_, ok := b.strictIntArg(st, k.Name, args[0], 0, 1<<31-1)
		return ok
	}
	return true
}

// minRequestHead is the smallest request head limit the translation
// accepts: HAProxy fails to start with buffers too small for its own error
// pages, and Go's server needs room past its 4 KiB slack.
const minRequestHead = 4096 + 1024

// RequestHeadLimit is the largest request head (request line and headers,
// in bytes) HAProxy accepts: the buffer size less the space reserved for
// rewrites, less 68 bytes of internal framing, measured on HAProxy 2.6 with
// a request of a few headers. HAProxy caps the reserve at half the buffer.
func (g *Global) RequestHeadLimit() int {
	bufSize := g.BufSize
	if bufSize == 0 {
		bufSize = 16384
	}
	maxRewrite := g.MaxRewrite
	if maxRewrite == 0 {
		maxRewrite = 1024
	}
	maxRewrite = min(maxRewrite, bufSize/2)
	return bufSize - maxRewrite - 68
}
