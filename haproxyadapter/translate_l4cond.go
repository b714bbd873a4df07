package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// A condition of a mode tcp proxy becomes caddy-l4 matcher sets. Only
// fetches that a caddy-l4 matcher reproduces exactly are translated: src
// (remote_ip), dst (local_ip), dst_port (known from the listening address),
// req.ssl_sni (the tls matcher's sni or sni_regexp), req.ssl_alpn (its alpn)
// and req.ssl_hello_type 1 (the tls matcher). Anything else is an error: these conditions decide who
// gets in.

// l4Set is one matcher set of a layer4 route: the matchers in match must all
// hold (tls holds the tls matcher's own handshake matchers, nil when the set
// does not test TLS) and none of the sets in not may hold.
type l4Set struct {
	match map[string]json.RawMessage
	tls   map[string]json.RawMessage
	not   []l4Set
}

// l4Cond is a condition: the OR of its sets. nil never holds; a condition
// with an empty set always holds.
type l4Cond []l4Set

// l4Always is the condition that always holds.
var l4Always = l4Cond{{}}

// maxL4Sets bounds the expansion of a condition into matcher sets.
const maxL4Sets = 64

func (s l4Set) empty() bool { return len(s.match) == 0 && s.tls == nil && len(s.not) == 0 }

// always reports whether the condition always holds.
func (c l4Cond) always() bool { return slices.ContainsFunc(c, l4Set.empty) }

// l4Or is a OR b.
func l4Or(a, b l4Cond) l4Cond {
	if a.always() || b.always() {
		return l4Always
	}
	return append(slices.Clip(a), b...)
}

// l4Not is NOT c: one set whose "not" matcher holds c's sets.
func l4Not(c l4Cond) l4Cond {
	switch {
	case len(c) == 0:
		return l4Always
	case c.always():
		return nil
	}
	return l4Cond{{not: c}}
}

// l4And is a AND b, distributed into sets. It fails when two sets test the
// same matcher, which one caddy-l4 matcher set cannot express.
func l4And(a, b l4Cond) (l4Cond, error) {
	var out l4Cond
	for _, x := range a {
		for _, y := range b {
			s, err := mergeL4Sets(x, y)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	if len(out) > maxL4Sets {
		return nil, fmt.Errorf("the condition expands into more than %d matcher sets", maxL4Sets)
	}
	return out, nil
}

func mergeL4Sets(x, y l4Set) (l4Set, error) {
	s := l4Set{match: maps.Clone(x.match), tls: maps.Clone(x.tls), not: append(slices.Clip(x.not), y.not...)}
	for k, v := range y.match {
		if s.match == nil {
			s.match = map[string]json.RawMessage{}
		}
		if _, dup := s.match[k]; dup {
			return l4Set{}, fmt.Errorf("two %s tests in one AND group cannot be combined into one matcher set", k)
		}
		s.match[k] = v
	}
	if y.tls != nil && s.tls == nil {
		s.tls = map[string]json.RawMessage{}
	}
	for k, v := range y.tls {
		if _, dup := s.tls[k]; dup {
			return l4Set{}, fmt.Errorf("two server name tests in one AND group cannot be combined into one matcher set")
		}
		s.tls[k] = v
	}
	return s, nil
}

// raw returns the caddy-l4 matcher sets of c.
func (c l4Cond) raw() []caddy.ModuleMap {
	out := make([]caddy.ModuleMap, 0, len(c))
	for _, s := range c {
		out = append(out, s.raw())
	}
	return out
}

func (s l4Set) raw() caddy.ModuleMap {
	m := caddy.ModuleMap{}
	maps.Copy(m, s.match)
	if s.tls != nil {
		m["tls"] = caddyconfig.JSON(s.tls, nil)
	}
	if len(s.not) > 0 {
		m["not"] = caddyconfig.JSON(l4Cond(s.not).raw(), nil)
	}
	return m
}

// l4Context is what is known about a connection when a condition is
// evaluated.
type l4Context struct {
	// keyword names the directive in messages.
	keyword string
	// noBuffer is set for tcp-request connection and session rules, which
	// run before any data is read.
	noBuffer bool
	// port is the local port when every listening address of the server
	// has the same one, 0 otherwise.
	port int
	// hello is +1 on the branch of the routes where the client sent a TLS
	// ClientHello, -1 on the branch where it did not, 0 when the routes
	// are not split.
	hello int
	// sslBind is set when the bind terminates TLS: the stream the
	// conditions read is the decrypted one.
	sslBind bool
	// proxied is set after the PROXY header of an accept-proxy bind has
	// been read: the addresses are the ones it carries.
	proxied bool
}

// l4Condition translates an if/unless condition. A nil condition always
// holds.
func (t *translator) l4Condition(ctx l4Context, c *config.Condition) (l4Cond, bool) {
	if c == nil {
		return l4Always, true
	}
	var out l4Cond
	ok := true
	for _, group := range c.Terms {
		set := l4Always
		for _, ct := range group {
			term, tok := t.l4Term(ctx, c.Pos, ct)
			if !tok {
				ok = false
				continue
			}
			var err error
			if set, err = l4And(set, term); err != nil {
				t.errorf(c.Pos, ctx.keyword, "%v", err)
				ok = false
			}
		}
		out = l4Or(out, set)
	}
	if len(c.Terms) == 0 {
		// HAProxy treats an empty condition as true.
		out = l4Always
	}
	if c.Unless {
		out = l4Not(out)
	}
	return out, ok
}

// l4Term translates one operand of a condition: a named ACL (its lines
// OR'ed), a predefined one or an anonymous one, maybe negated.
func (t *translator) l4Term(ctx l4Context, pos config.Pos, ct config.CondTerm) (l4Cond, bool) {
	var out l4Cond
	ok := true
	switch {
	case ct.Anonymous != nil:
		out, ok = t.l4ACL(ctx, ct.Anonymous)
	case ct.Defs != nil:
		for _, def := range ct.Defs {
			c, dok := t.l4ACL(ctx, def)
			ok = ok && dok
			out = l4Or(out, c)
		}
	default:
		switch ct.Name {
		case "TRUE":
			out = l4Always
		case "FALSE":
		case "LOCALHOST":
			out, ok = t.l4Fetch(ctx, &config.ACL{Pos: pos, Fetch: "src", Patterns: []string{"127.0.0.0/8", "::1"}})
		default:
			t.errorf(pos, ctx.keyword, "predefined ACL %s is not translated in mode tcp", ct.Name)
			return nil, false
		}
	}
	if ct.Negate {
		out = l4Not(out)
	}
	return out, ok
}

func (t *translator) l4ACL(ctx l4Context, acl *config.ACL) (l4Cond, bool) {
	ctx.keyword = orKeyword(acl.Name != "", "acl", ctx.keyword)
	return t.l4Fetch(ctx, acl)
}

func orKeyword(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// l4Fetch translates one ACL line.
func (t *translator) l4Fetch(ctx l4Context, acl *config.ACL) (l4Cond, bool) {
	fail := func(format string, args ...any) (l4Cond, bool) {
		t.aclErrorf(ctx.keyword, acl, format, args...)
		return nil, false
	}
	name, args, convs := matchers.SplitFetch(acl.Fetch)
	if len(convs) > 0 {
		return fail("converters (%s) are not translated; only plain fetches are", strings.Join(convs, ","))
	}
	test := matchers.Test{}
	if err := applyACLFlags(acl, &test); err != nil {
		return fail("%v", err)
	}
	switch name {
	case "req.ssl_sni", "req_ssl_sni", "req.ssl_hello_type", "req_ssl_hello_type", "req.ssl_alpn":
		switch {
		case ctx.noBuffer:
			return fail("%s reads the request buffer, which %s rules do not see; use tcp-request content with tcp-request inspect-delay", name, ctx.keyword)
		case ctx.sslBind:
			return fail("%s reads a TLS ClientHello, but the bind terminates TLS (ssl): the stream is already decrypted", name)
		}
	}
	if len(args) > 0 {
		return fail("%s(%s): fetch arguments are not translated in mode tcp", name, strings.Join(args, ","))
	}
	switch name {
	case "always_true":
		return l4Always, true
	case "always_false":
		return nil, true
	case "src", "dst":
		if test.Match != "" && test.Match != matchers.MatchIP || len(test.Values) == 0 {
			return fail("%s is translated with address patterns only", name)
		}
		test.Fetch = "src"
		std, value := standardMatcher([]matchers.Test{test})
		if std == "" {
			return fail("invalid address pattern in %q", strings.Join(test.Values, " "))
		}
		matcher := "remote_ip"
		if name == "dst" {
			matcher = "local_ip"
		}
		return l4Cond{{match: map[string]json.RawMessage{matcher: value}}}, true
	case "dst_port":
		switch {
		case ctx.proxied:
			return fail("dst_port after accept-proxy is the port the PROXY header carries, which is not translated")
		case ctx.port == 0:
			return fail("dst_port is translated only for bind lines on at most %d TCP ports (one layer4 server per port)", maxPortParts)
		}
		if test.Match != "" && test.Match != "int" {
			return fail("dst_port is translated with integer patterns only")
		}
		holds, err := intPatternsHold(test.Values, ctx.port)
		if err != nil {
			return fail("%v", err)
		}
		if holds {
			return l4Always, true
		}
		return nil, true
	case "req.ssl_hello_type", "req_ssl_hello_type":
		if test.Match != "" && test.Match != "int" || !slices.Equal(test.Values, []string{"1"}) {
			return fail("%s is translated only as '%s 1' (a ClientHello)", name, name)
		}
		switch ctx.hello {
		case 1:
			return l4Always, true
		case -1:
			return nil, true
		}
		return l4Cond{{tls: map[string]json.RawMessage{}}}, true
	case "req.ssl_alpn":
		if ctx.hello == -1 {
			return nil, true
		}
		// HAProxy matches when any protocol the client offers equals a
		// pattern, as caddy-l4's alpn matcher does; that matcher reads
		// placeholders in its values.
		if test.Match != "" && test.Match != matchers.MatchStr || test.IgnoreCase || len(test.Values) == 0 ||
			slices.ContainsFunc(test.Values, func(v string) bool { return strings.Contains(v, "{") }) {
			return fail("req.ssl_alpn is translated with exact, case-sensitive patterns without '{' only")
		}
		return l4Cond{{tls: map[string]json.RawMessage{"alpn": caddyconfig.JSON(test.Values, nil)}}}, true
	case "req.ssl_sni", "req_ssl_sni":
		if ctx.hello == -1 {
			return nil, true
		}
		m, value, err := sniMatcher(test)
		if err != nil {
			return fail("%s: %v", name, err)
		}
		return l4Cond{{tls: map[string]json.RawMessage{m: value}}}, true
	}
	return fail("fetch %q is not translated in mode tcp (src, dst, dst_port, req.ssl_sni, req.ssl_alpn and req.ssl_hello_type are)", name)
}

// sniMatcher returns the tls handshake matcher that tests the server name
// as the ACL does: Caddy's sni matcher when the comparison is exact and
// case-insensitive, otherwise a regular expression.
func sniMatcher(test matchers.Test) (string, json.RawMessage, error) {
	if test.Match == matchers.MatchFound {
		// The fetch fails when the ClientHello carries no server name.
		return "sni_regexp", caddyconfig.JSON(map[string]string{"pattern": "^."}, nil), nil
	}
	if len(test.Values) == 0 {
		return "", nil, fmt.Errorf("no pattern")
	}
	match := test.Match
	if match == "" {
		match = matchers.MatchStr
	}
	if match == matchers.MatchStr && test.IgnoreCase && !slices.ContainsFunc(test.Values, func(v string) bool {
		// Caddy reads '*' as a wildcard label; HAProxy compares it literally.
		return strings.ContainsAny(v, "*[]:")
	}) {
		return "sni", caddyconfig.JSON(test.Values, nil), nil
	}
	var alts []string
	for _, v := range test.Values {
		if match == matchers.MatchReg {
			if _, err := regexp.Compile(v); err != nil {
				return "", nil, fmt.Errorf("regular expression %q: %v", v, err)
			}
			alts = append(alts, "(?:"+v+")")
		} else {
			alts = append(alts, regexp.QuoteMeta(v))
		}
	}
	expr := strings.Join(alts, "|")
	switch match {
	case matchers.MatchStr:
		expr = "^(?:" + expr + ")$"
	case matchers.MatchBeg:
		expr = "^(?:" + expr + ")"
	case matchers.MatchEnd:
		expr = "(?:" + expr + ")$"
	case matchers.MatchSub, matchers.MatchReg:
	default:
		return "", nil, fmt.Errorf("match method %q is not translated (str, beg, end, sub, reg and found are)", match)
	}
	if test.IgnoreCase {
		expr = "(?i)" + expr
	}
	return "sni_regexp", caddyconfig.JSON(map[string]string{"pattern": expr}, nil), nil
}

// intPatternsHold reports whether v matches one of HAProxy's integer
// patterns: a number or a range "lo:hi" (either end may be empty).
func intPatternsHold(patterns []string, v int) (bool, error) {
	holds := false
	for _, p := range patterns {
		lo, hi, isRange := strings.Cut(p, ":")
		if !isRange {
			hi = lo
		}
		low, high := 0, int(^uint(0)>>1)
		var err error
		if lo != "" {
			if low, err = strconv.Atoi(lo); err != nil {
				return false, fmt.Errorf("integer pattern %q is not translated (numbers and lo:hi ranges are)", p)
			}
		}
		if hi != "" {
			if high, err = strconv.Atoi(hi); err != nil {
				return false, fmt.Errorf("integer pattern %q is not translated (numbers and lo:hi ranges are)", p)
			}
		}
		if v >= low && v <= high {
			holds = true
		}
	}
	return holds, nil
}

// isHelloFetch reports whether a fetch reads the TLS ClientHello.
func isHelloFetch(name string) bool {
	return strings.HasPrefix(name, "req.ssl_") || strings.HasPrefix(name, "req_ssl_")
}

// condUsesFetch reports whether a condition uses a fetch for which uses is
// true.
func condUsesFetch(c *config.Condition, uses func(name string) bool) bool {
	if c == nil {
		return false
	}
	for _, group := range c.Terms {
		for _, ct := range group {
			acls := ct.Defs
			if ct.Anonymous != nil {
				acls = []*config.ACL{ct.Anonymous}
			}
			for _, acl := range acls {
				if name, _, _ := matchers.SplitFetch(acl.Fetch); uses(name) {
					return true
				}
			}
		}
	}
	return false
}
