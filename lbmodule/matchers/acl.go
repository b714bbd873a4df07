// Package matchers provides Caddy request matchers for what HAProxy's ACLs
// test and Caddy's standard matchers cannot express exactly: the raw
// request path and URL, comma-separated header values, HAProxy's match
// methods (beg, end, sub, dir, dom, len, int ranges), userlist
// authentication and the state of the plugin's backends (nbsrv,
// srv_is_up), sample expressions with converters and variables. Beside the
// matcher it has the handlers for HAProxy rule actions that Caddy lacks:
// tarpit, set-var, normalize-uri, replace-value and set-status. Its
// semantics were checked against HAProxy 2.6.
package matchers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/cryptauth"
)

func init() {
	caddy.RegisterModule(MatchACL{})
}

// MatchACL matches requests the way a group of HAProxy ACL terms written
// side by side in a condition does: every term must hold. It is the
// http.matchers.haproxy_acl module; the haproxy adapter uses it for the
// ACLs that Caddy's standard matchers cannot express exactly.
//
//	"haproxy_acl": {"terms": [{"name": "is_api", "any": [
//		{"fetch": "path", "match": "beg", "values": ["/api/"]}]}]}
type MatchACL struct {
	// Terms must all hold for the request to match.
	Terms []Term `json:"terms,omitempty"`
}

// Term is one operand of an HAProxy condition: a named ACL (whose lines are
// OR'ed) or an anonymous one, possibly negated.
type Term struct {
	// Name is the ACL's name, for people reading the config; empty for an
	// anonymous ACL.
	Name string `json:"name,omitempty"`
	// Negate inverts the term ("!name").
	Negate bool `json:"negate,omitempty"`
	// Any lists the ACL's tests; the term holds when any of them matches.
	Any []Test `json:"any,omitempty"`
}

// Test is one ACL line: a sample fetch, a match method and patterns. It
// matches when any value the fetch returns matches any pattern.
type Test struct {
	// Fetch is the HAProxy sample fetch without match suffix: path, url,
	// base, query, url_param, hdr, fhdr, hdr_cnt, hdr_val, hdr_ip, cook,
	// cook_cnt, cook_val, method, req_ver, src, src_port, dst, dst_port,
	// ssl_fc, ssl_fc_sni, ssl_c_used, ssl_c_verify, nbsrv, srv_is_up,
	// http_auth, http_auth_group, always_true or always_false. Paths and URLs are read as the client
	// sent them (not decoded); method is the client's method even after a
	// rewrite, as in HAProxy.
	Fetch string `json:"fetch"`
	// Args are the fetch's arguments: the header, cookie or parameter name
	// (hdr, hdr_val and hdr_ip also take an occurrence, url_param a
	// delimiter and "i"), the
	// backend for nbsrv, "backend/server" for srv_is_up, the userlist's
	// name for http_auth and http_auth_group (informative: the users are
	// in Accounts).
	Args []string `json:"args,omitempty"`
	// Match is the match method: str, beg, end, sub, reg, dir, dom, len,
	// int, ip, bool or found. Empty means the fetch type's default (str
	// for strings, int for integers, ip for addresses, bool for booleans).
	Match string `json:"match,omitempty"`
	// IgnoreCase compares strings case-insensitively (HAProxy's -i).
	IgnoreCase bool `json:"ignore_case,omitempty"`
	// Values are the patterns (the groups for http_auth_group). Integer
	// patterns may be ranges ("1:5", ":5", "10:") or follow an operator
	// (eq, ge, gt, le, lt); address patterns are addresses or networks.
	Values []string `json:"values,omitempty"`

	// Single evaluates the fetch as HAProxy does outside an ACL (in a
	// log-format expression): one sample, the last occurrence of a header
	// or cookie.
	Single bool `json:"single,omitempty"`
	// Converters transform each sample before it is matched
	// ("hdr(host),lower"). With converters, and for the var, str, int and
	// bool fetches, the patterns are matched against the converted
	// sample's kind.
	Converters []Converter `json:"converters,omitempty"`

	// Accounts are the userlist's users for http_auth and
	// http_auth_group.
	Accounts []Account `json:"accounts,omitempty"`

	compiled  *patterns
	occ       int
	authCache *authCache
}

// CaddyModule returns the Caddy module information.
func (MatchACL) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.matchers.haproxy_acl",
		New: func() caddy.Module { return new(MatchACL) },
	}
}

// Provision compiles the patterns.
func (m *MatchACL) Provision(caddy.Context) error {
	for i := range m.Terms {
		term := &m.Terms[i]
		if len(term.Any) == 0 {
			return fmt.Errorf("term %d (%s) has no test", i, term.Name)
		}
		for j := range term.Any {
			if err := term.Any[j].provision(); err != nil {
				name := term.Name
				if name == "" {
					name = "anonymous"
				}
				return fmt.Errorf("ACL %s: %v", name, err)
			}
		}
	}
	return nil
}

func (t *Test) provision() error {
	if t.isExpression() {
		return t.provisionExpression()
	}
	info, ok := fetches[t.Fetch]
	if !ok {
		return fmt.Errorf("unknown fetch %q", t.Fetch)
	}
	if len(t.Args) < info.minArgs || len(t.Args) > info.maxArgs {
		return fmt.Errorf("fetch %s takes %d to %d arguments, got %d", t.Fetch, info.minArgs, info.maxArgs, len(t.Args))
	}
	method := t.Match
	if method == "" {
		method = defaultMethod(info.kind)
	}
	if err := checkMethod(info.kind, method); err != nil {
		return fmt.Errorf("fetch %s: %v", t.Fetch, err)
	}
	if (t.Fetch == "hdr" || t.Fetch == "fhdr" || t.Fetch == "hdr_val" || t.Fetch == "hdr_ip") && len(t.Args) == 2 {
		n, err := strconv.Atoi(t.Args[1])
		if err != nil {
			return fmt.Errorf("fetch %s: occurrence %q is not an integer", t.Fetch, t.Args[1])
		}
		t.occ = n
	}
	if t.Fetch == "srv_is_up" && !strings.Contains(t.Args[0], "/") {
		return fmt.Errorf("srv_is_up needs backend/server, got %q", t.Args[0])
	}
	if t.Fetch == "http_auth" || t.Fetch == "http_auth_group" {
		if len(t.Accounts) == 0 {
			return fmt.Errorf("%s needs the userlist's accounts", t.Fetch)
		}
		for _, a := range t.Accounts {
			if err := cryptauth.Check(a.Password); err != nil {
				return fmt.Errorf("%s: user %q: %v", t.Fetch, a.Username, err)
			}
		}
		t.authCache = new(authCache)
		if t.Fetch == "http_auth_group" {
			// The values are group names, compared as such.
			t.compiled = &patterns{method: MatchStr}
			return nil
		}
	}
	p, err := compilePatterns(method, t.IgnoreCase, t.Values)
	if err != nil {
		return err
	}
	t.compiled = p
	return nil
}

// checkMethod refuses match methods that do not apply to a sample type.
func checkMethod(kind sampleKind, method string) error {
	ok := false
	switch kind {
	case kindString:
		ok = method != MatchIP && method != MatchInt && method != MatchBool
	case kindInt:
		ok = method == MatchInt || method == MatchBool || method == MatchFound
	case kindIP:
		ok = method == MatchIP || method == MatchFound
	case kindBool:
		ok = method == MatchBool || method == MatchInt || method == MatchFound
	}
	if !ok {
		return fmt.Errorf("match method %q does not apply to this sample type", method)
	}
	return nil
}

// Match returns true if the request matches every term.
func (m MatchACL) Match(r *http.Request) bool {
	for i := range m.Terms {
		if !m.Terms[i].eval(r) {
			return false
		}
	}
	return true
}

func (term *Term) eval(r *http.Request) bool {
	hit := false
	for i := range term.Any {
		if term.Any[i].eval(r) {
			hit = true
			break
		}
	}
	return hit != term.Negate
}

// Interface guards
var (
	_ caddy.Provisioner        = (*MatchACL)(nil)
	_ caddyhttp.RequestMatcher = (*MatchACL)(nil)
)

// Validate checks a test the way Provision does, so that a configuration
// generator can report a problem before Caddy loads the configuration.
func (t Test) Validate() error { return t.provision() }
