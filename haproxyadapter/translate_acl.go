package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// A condition becomes Caddy matcher sets: the sets are OR'ed, as HAProxy's
// "or" groups are, and the matchers of one set are AND'ed, as terms written
// side by side are. A term becomes a standard Caddy matcher (method,
// remote_ip, protocol) when that matcher behaves exactly like the ACL, and
// otherwise a term of the plugin's haproxy_acl matcher, which evaluates
// HAProxy's fetches and match methods on the request as sent.

// condMatch is a translated condition.
type condMatch struct {
	// sets are the matcher sets; nil with never false means the
	// condition always holds.
	sets caddyhttp.RawMatcherSets
	// never is true when the condition can never hold.
	never bool
}

// aclTerm is a translated condition term.
type aclTerm struct {
	// constant is +1 for a term that always holds, -1 for one that never
	// does, 0 otherwise.
	constant int
	// std and stdValue are a standard Caddy matcher that is exact for the
	// term, when there is one.
	std      string
	stdValue json.RawMessage
	// plugin is the term for the haproxy_acl matcher (always set for a
	// non-constant term).
	plugin matchers.Term
}

// aclResult caches the translation of one acl line, so that an ACL used by
// several rules is diagnosed once.
type aclResult struct {
	tests []matchers.Test
	ok    bool
}

// condition translates an if/unless condition; keyword names the directive
// for messages. A nil condition always holds. ok is false when something
// could not be translated (an error was reported).
func (t *translator) condition(keyword string, c *config.Condition) (condMatch, bool) {
	if c == nil {
		return condMatch{}, true
	}
	var out condMatch
	always := false
	ok := true
	for _, group := range c.Terms {
		set, constant, gok := t.conditionGroup(keyword, c.Pos, group)
		if !gok {
			ok = false
			continue
		}
		switch constant {
		case 1:
			always = true
		case -1:
			// This alternative never holds.
		default:
			out.sets = append(out.sets, set)
		}
	}
	if !ok {
		return condMatch{}, false
	}
	if len(c.Terms) == 0 {
		// HAProxy treats an empty condition as true.
		always = true
	}
	switch {
	case always:
		out = condMatch{}
	case len(out.sets) == 0:
		out = condMatch{never: true}
	}
	if c.Unless {
		switch {
		case out.never:
			out = condMatch{}
		case out.sets == nil:
			out = condMatch{never: true}
		default:
			out.sets = caddyhttp.RawMatcherSets{{"not": caddyconfig.JSON(out.sets, nil)}}
		}
	}
	return out, true
}

// conditionGroup translates terms written side by side (AND) into one
// matcher set. constant is +1 when the group always holds, -1 when it
// never does.
func (t *translator) conditionGroup(keyword string, pos config.Pos, group []config.CondTerm) (caddy.ModuleMap, int, bool) {
	set := caddy.ModuleMap{}
	var pluginTerms []matchers.Term
	var notSets []caddy.ModuleMap
	ok := true
	never := false
	for _, ct := range group {
		term, tok := t.conditionTerm(keyword, pos, ct)
		if !tok {
			ok = false
			continue
		}
		switch term.constant {
		case 1:
			continue
		case -1:
			never = true
			continue
		}
		switch {
		case term.std != "" && term.plugin.Negate:
			notSets = append(notSets, caddy.ModuleMap{term.std: term.stdValue})
		case term.std != "" && set[term.std] == nil:
			set[term.std] = term.stdValue
		default:
			pluginTerms = append(pluginTerms, term.plugin)
		}
	}
	if !ok {
		return nil, 0, false
	}
	if never {
		return nil, -1, true
	}
	if len(pluginTerms) > 0 {
		set["haproxy_acl"] = caddyconfig.JSON(matchers.MatchACL{Terms: pluginTerms}, nil)
	}
	if len(notSets) > 0 {
		set["not"] = caddyconfig.JSON(notSets, nil)
	}
	if len(set) == 0 {
		return nil, 1, true
	}
	return set, 0, true
}

// conditionTerm translates one operand: a named ACL (its lines OR'ed), a
// predefined ACL or an anonymous one, possibly negated.
func (t *translator) conditionTerm(keyword string, pos config.Pos, ct config.CondTerm) (aclTerm, bool) {
	var tests []matchers.Test
	var constant int
	switch {
	case ct.Anonymous != nil:
		r := t.aclLine(keyword, ct.Anonymous)
		if !r.ok {
			return aclTerm{}, false
		}
		tests = r.tests
	case ct.Defs != nil:
		ok := true
		for _, def := range ct.Defs {
			r := t.aclLine("acl", def)
			if !r.ok {
				ok = false
				continue
			}
			tests = append(tests, r.tests...)
		}
		if !ok {
			return aclTerm{}, false
		}
	default:
		var ok bool
		tests, constant, ok = predefinedACL(ct.Name)
		if !ok {
			t.errorf(pos, keyword, "predefined ACL %s is not supported: it tests the connection below HTTP, which Caddy does not expose", ct.Name)
			return aclTerm{}, false
		}
	}
	if t.atResponse && len(tests) > 0 {
		var ok bool
		if tests, ok = t.responseTests(keyword, pos, ct, tests); !ok {
			return aclTerm{}, false
		}
		if len(tests) == 0 {
			constant = -1
		}
	}
	// always_true and always_false fold like TRUE and FALSE.
	if constant == 0 && len(tests) > 0 {
		constant = constantTests(tests)
	}
	if constant != 0 {
		if ct.Negate {
			constant = -constant
		}
		return aclTerm{constant: constant}, true
	}
	term := aclTerm{plugin: matchers.Term{Name: ct.Name, Negate: ct.Negate, Any: tests}}
	term.std, term.stdValue = standardMatcher(tests)
	if term.std == "method" && t.rewritesMethod() {
		// Caddy's method matcher sees a set-method rewrite; HAProxy's
		// method fetch keeps the client's method, as the plugin does.
		term.std, term.stdValue = "", nil
	}
	return term, true
}

// rewritesMethod reports whether any http-request rule changes the method.
func (t *translator) rewritesMethod() bool {
	for _, p := range t.cfg.Proxies {
		for _, r := range p.HTTPRequest {
			if r.Keyword == "http-request" && r.Action == "set-method" {
				return true
			}
		}
	}
	return false
}

// requestOnlyFetches are the fetches HAProxy cannot evaluate in an
// http-response rule: the request's line and headers are gone by then, so
// an ACL using them never matches there (HAProxy warns at startup).
var requestOnlyFetches = map[string]bool{
	"path": true, "url": true, "base": true, "query": true, "url_param": true,
	"hdr": true, "fhdr": true, "hdr_cnt": true, "hdr_val": true, "hdr_ip": true,
	"cook": true, "cook_cnt": true, "cook_val": true, "req_ver": true,
	"http_auth": true, "http_auth_group": true,
}

// responseTests keeps the tests of a term that an http-response rule can
// evaluate: the others never match, as in HAProxy. Backend state tests are
// refused there, since Caddy would evaluate them before the response.
func (t *translator) responseTests(keyword string, pos config.Pos, ct config.CondTerm, tests []matchers.Test) ([]matchers.Test, bool) {
	var kept []matchers.Test
	for _, ts := range tests {
		switch {
		case requestOnlyFetches[ts.Fetch] || ts.Fetch == "var" && strings.HasPrefix(ts.Args[0], "req."):
			key := fmt.Sprintf("response-only %s %s %s", pos, ct.Name, ts.Fetch)
			if !t.warned[key] {
				t.warned[key] = true
				what := "anonymous ACL"
				if ct.Name != "" {
					what = fmt.Sprintf("ACL %q", ct.Name)
				}
				t.warnf(pos, keyword, "%s never matches here, as in HAProxy: %s reads the request, which a response rule cannot see", what, ts.Fetch)
			}
		case ts.Fetch == "nbsrv" || ts.Fetch == "srv_is_up":
			t.errorf(pos, keyword, "%s in a response rule is not translated: Caddy would test it before the response", ts.Fetch)
			return nil, false
		default:
			kept = append(kept, ts)
		}
	}
	return kept, true
}

// constantTests returns +1 when the tests always match, -1 when none ever
// can, 0 otherwise.
func constantTests(tests []matchers.Test) int {
	allFalse := true
	for _, ts := range tests {
		plain := ts.Match == "" && len(ts.Values) == 0
		switch {
		case ts.Fetch == "always_true" && plain:
			return 1
		case ts.Fetch == "always_false" && plain:
		default:
			allFalse = false
		}
	}
	if allFalse {
		return -1
	}
	return 0
}

// predefinedACL returns the tests of one of HAProxy's predefined ACLs, or
// a constant. ok is false for the ones that cannot be translated.
func predefinedACL(name string) (tests []matchers.Test, constant int, ok bool) {
	method := func(ms ...string) []matchers.Test {
		return []matchers.Test{{Fetch: "method", Values: ms}}
	}
	switch name {
	case "TRUE", "HTTP":
		// Every request reaching an HTTP route is valid HTTP.
		return nil, 1, true
	case "FALSE":
		return nil, -1, true
	case "HTTP_1.0", "HTTP_1.1", "HTTP_2.0":
		return []matchers.Test{{Fetch: "req_ver", Values: []string{strings.TrimPrefix(name, "HTTP_")}}}, 0, true
	case "HTTP_CONTENT":
		return []matchers.Test{{Fetch: "hdr_val", Args: []string{"content-length"}, Values: []string{"gt", "0"}}}, 0, true
	case "HTTP_URL_ABS":
		return []matchers.Test{{Fetch: "url", Match: matchers.MatchReg, Values: []string{"^[^/:]*://"}}}, 0, true
	case "HTTP_URL_SLASH":
		return []matchers.Test{{Fetch: "url", Match: matchers.MatchBeg, Values: []string{"/"}}}, 0, true
	case "HTTP_URL_STAR":
		return []matchers.Test{{Fetch: "url", Values: []string{"*"}}}, 0, true
	case "LOCALHOST":
		return []matchers.Test{{Fetch: "src", Values: []string{"127.0.0.0/8", "::1/128"}}}, 0, true
	case "METH_GET":
		return method("GET", "HEAD"), 0, true
	case "METH_CONNECT", "METH_DELETE", "METH_HEAD", "METH_OPTIONS", "METH_POST", "METH_PUT", "METH_TRACE":
		return method(strings.TrimPrefix(name, "METH_")), 0, true
	}
	return nil, 0, false
}

// standardMatcher returns a standard Caddy matcher that behaves exactly like
// the OR of the tests, or "" when there is none.
func standardMatcher(tests []matchers.Test) (string, json.RawMessage) {
	for _, ts := range tests {
		if len(ts.Converters) > 0 || ts.Single {
			// Caddy's matchers see the sample before any converter.
			return "", nil
		}
	}
	all := func(pred func(matchers.Test) bool) bool {
		for _, ts := range tests {
			if !pred(ts) {
				return false
			}
		}
		return true
	}
	switch {
	case all(func(ts matchers.Test) bool {
		// Caddy's method matcher compares the method exactly, as HAProxy
		// does without -i, but it upper-cases its values: only upper-case
		// patterns translate to it.
		if ts.Fetch != "method" || ts.Match != "" && ts.Match != matchers.MatchStr || ts.IgnoreCase || len(ts.Values) == 0 {
			return false
		}
		for _, v := range ts.Values {
			if v != strings.ToUpper(v) {
				return false
			}
		}
		return true
	}):
		var ms []string
		for _, ts := range tests {
			for _, v := range ts.Values {
				if !slices.Contains(ms, v) {
					ms = append(ms, v)
				}
			}
		}
		return "method", caddyconfig.JSON(ms, nil)
	case all(func(ts matchers.Test) bool {
		return ts.Fetch == "src" && (ts.Match == "" || ts.Match == matchers.MatchIP) && len(ts.Values) > 0
	}):
		// remote_ip tests the connection's address like src; an IPv6
		// network also holds the IPv4 addresses HAProxy maps into it.
		var ranges []string
		for _, ts := range tests {
			for _, v := range ts.Values {
				pfx, err := matchers.ParseIPPattern(v)
				if err != nil {
					return "", nil
				}
				ranges = append(ranges, prefixString(pfx))
				if v4, ok := mappedIPv4(pfx); ok {
					ranges = append(ranges, prefixString(v4))
				}
			}
		}
		return "remote_ip", caddyconfig.JSON(map[string][]string{"ranges": ranges}, nil)
	case len(tests) == 1 && tests[0].Fetch == "ssl_fc" && (tests[0].Match == "" || tests[0].Match == matchers.MatchBool) && len(tests[0].Values) == 0:
		return "protocol", caddyconfig.JSON("https", nil)
	case len(tests) == 1 && tests[0].Fetch == "req_ver" && tests[0].Match == "" && !tests[0].IgnoreCase && len(tests[0].Values) == 1:
		proto := map[string]string{"1.0": "http/1.0", "1.1": "http/1.1", "2.0": "http/2"}[tests[0].Values[0]]
		if proto != "" {
			return "protocol", caddyconfig.JSON(proto, nil)
		}
	}
	return "", nil
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// mappedIPv4 returns the IPv4 network an IPv6 network holds through
// IPv4-mapped addresses (::ffff:a.b.c.d), which is how HAProxy compares an
// IPv4 client with an IPv6 pattern.
func mappedIPv4(p netip.Prefix) (netip.Prefix, bool) {
	if !p.Addr().Is6() {
		return netip.Prefix{}, false
	}
	mapped := netip.PrefixFrom(netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff}), 96)
	switch {
	case p.Bits() >= 96 && mapped.Contains(p.Addr()):
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), true
	case p.Bits() < 96 && p.Contains(mapped.Addr()):
		return netip.MustParsePrefix("0.0.0.0/0"), true
	}
	return netip.Prefix{}, false
}

// aclLine translates one acl line (or anonymous ACL) into matcher tests.
func (t *translator) aclLine(keyword string, acl *config.ACL) aclResult {
	if r, ok := t.acls[acl]; ok {
		return r
	}
	r := aclResult{}
	r.tests, r.ok = t.translateACLLine(keyword, acl)
	t.acls[acl] = r
	return r
}

func (t *translator) translateACLLine(keyword string, acl *config.ACL) ([]matchers.Test, bool) {
	fail := func(format string, args ...any) ([]matchers.Test, bool) {
		t.aclErrorf(keyword, acl, format, args...)
		return nil, false
	}
	fetch, args, match, convs, err := sampleExpression(acl.Pos.File, acl.Fetch)
	if err != nil {
		return fail("%v", err)
	}
	name, _, _ := matchers.SplitFetch(acl.Fetch)
	test := matchers.Test{Args: args, Match: match, Converters: convs}
	if fetch == "http_auth" || fetch == "http_auth_group" {
		if len(args) != 1 {
			return fail("%s needs a userlist", name)
		}
		accounts, ok := t.userlistAccounts(acl.Pos, keyword, args[0])
		if !ok {
			return nil, false
		}
		test.Accounts = accounts
	}
	test.Fetch = fetch

	if err := applyACLFlags(acl, &test); err != nil {
		return fail("%v", err)
	}
	switch test.Match {
	case matchers.MatchBin:
		return fail("match method 'bin' is not translated")
	}
	if test.Fetch == "src" || test.Fetch == "dst" || test.Fetch == "hdr_ip" {
		for _, v := range test.Values {
			if addr, _, _ := strings.Cut(v, "/"); !strings.Contains(addr, ":") && strings.Count(addr, ".") < 3 {
				if pfx, err := matchers.ParseIPPattern(v); err == nil {
					t.warnf(acl.Pos, keyword, "address pattern %q is read the way HAProxy reads it, as %s", v, prefixString(pfx))
				}
			}
		}
	}
	if err := test.Validate(); err != nil {
		return fail("%v", err)
	}
	if test.Fetch == "nbsrv" || test.Fetch == "srv_is_up" {
		be, _, _ := strings.Cut(test.Args[0], "/")
		b := t.cfg.Backend(be)
		if b == nil || !b.Kind.HasBackend() {
			return fail("%s(%s): no backend %q", name, test.Args[0], be)
		}
		t.stateBackends[be] = true
	}
	return []matchers.Test{test}, true
}

// aclErrorf reports an ACL line that cannot be translated, naming it.
func (t *translator) aclErrorf(keyword string, acl *config.ACL, format string, args ...any) {
	what := "anonymous ACL"
	if acl.Name != "" {
		what = fmt.Sprintf("ACL %q", acl.Name)
	}
	t.errorf(acl.Pos, keyword, "%s: %s", what, fmt.Sprintf(format, args...))
}

// applyACLFlags reads an ACL line's flags into test (-i, -m, -f) and sets
// its values: the patterns written on the line, then those of -f files.
func applyACLFlags(acl *config.ACL, test *matchers.Test) error {
	var patterns []string
	for _, f := range acl.Flags {
		switch f[0] {
		case "-i":
			test.IgnoreCase = true
		case "-n", "-u", "--":
			// -n forbids DNS lookups, which are refused anyway; -u only
			// names the ACL for the runtime API.
		case "-m":
			// HAProxy 2.6 lets -m override a derived fetch's method
			// (hdr_dir(x) -m dom is hdr(x) -m dom).
			test.Match = f[1]
		case "-f":
			values, err := readPatternFile(acl.Pos.File, f[1])
			if err != nil {
				return fmt.Errorf("-f %s: %v", f[1], err)
			}
			patterns = append(patterns, values...)
		case "-M":
			return fmt.Errorf("map files (-M) are not translated")
		default:
			return fmt.Errorf("flag %s is not translated", f[0])
		}
	}
	test.Values = append(slices.Clone(acl.Patterns), patterns...)
	return nil
}

// readPatternFile reads an ACL pattern file the way HAProxy does: one
// pattern per line, lines starting with '#' and empty lines skipped,
// leading blanks removed. A relative path is taken from the directory of
// the configuration file.
func readPatternFile(cfgFile, path string) ([]string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(cfgFile), path)
	}
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimLeft(line, " \t")
		if i := strings.IndexAny(line, "\r"); i >= 0 {
			line = line[:i]
		}
		if line == "" {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}
