package haproxyadapter

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-haproxy/caddy-haproxy/cryptauth"
	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// authPage is HAProxy's answer to "http-request auth": 401 with a Basic
// challenge for the realm.
func (t *translator) authPage(realm string, pages []*config.Proxy) json.RawMessage {
	resp := t.errorResponse(http.StatusUnauthorized, pages)
	if resp.Headers == nil {
		resp.Headers = http.Header{}
	}
	resp.Headers.Set("WWW-Authenticate", escapeBraces(`Basic realm="`+realm+`"`))
	return caddyconfig.JSONModuleObject(resp, "handler", "static_response", nil)
}

// authRule translates "http-request auth [realm R] unless { http_auth(L) }"
// (or "if !…", with a named ACL or an anonymous one, or http_auth_group)
// into Caddy's authentication handler with the userlist's accounts.
// handled is false for other conditions: the rule is then an ordinary one
// answering 401, its condition evaluated by the haproxy_acl matcher.
func (t *translator) authRule(p *config.Proxy, r *config.Rule, pages []*config.Proxy) (handlers []json.RawMessage, handled bool) {
	if r.Cond == nil {
		return nil, false
	}
	userlist, groups, ok := authCondition(r.Cond)
	if !ok {
		return nil, false
	}
	kw := r.Keyword + " auth"
	realm, ok := authRealm(p, r.Args)
	if !ok {
		t.errorf(r.Pos, kw, "expects 'realm <realm>' or nothing before the condition")
		return nil, true
	}
	accounts, ok := t.userlistAccounts(r.Pos, kw, userlist)
	if !ok {
		return nil, true
	}
	basic := caddyauth.HTTPBasicAuth{
		HashRaw: hashModule(),
		Realm:   realm,
		// bcrypt is slow on purpose; clients send the same credentials
		// with every request.
		HashCache: &caddyauth.Cache{},
	}
	for _, a := range accounts {
		// http_auth_group lets only the members of its groups in.
		if groups == nil || slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(a.Groups, g) }) {
			basic.AccountList = append(basic.AccountList, caddyauth.Account{Username: a.Username, Password: a.Password})
		}
	}
	if len(basic.AccountList) == 0 {
		// Nobody can pass: every request gets the challenge.
		return []json.RawMessage{t.authPage(realm, pages)}, true
	}
	auth := caddyauth.Authentication{ProvidersRaw: caddy.ModuleMap{"http_basic": caddyconfig.JSON(basic, nil)}}
	return []json.RawMessage{caddyconfig.JSONModuleObject(auth, "handler", "authentication", nil)}, true
}

// hashModule returns the basic_auth hash module that checks the accounts'
// passwords: the plugin's crypt module, which checks every crypt(3) hash
// HAProxy accepts, bcrypt included. Caddy's own bcrypt module would check
// an unknown user against a bcrypt hash of cost 14 (about a second of CPU
// per request, where HAProxy answers at once); the crypt module's stand-in
// costs what a SHA-512-crypt check costs.
func hashModule() json.RawMessage {
	return caddyconfig.JSONModuleObject(cryptauth.Hash{}, "algorithm", "crypt", nil)
}

// isBcrypt reports whether a crypt(3) hash is a bcrypt one.
func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// authRealm reads "[realm <r>]"; the default realm is the proxy's name.
func authRealm(p *config.Proxy, args []string) (string, bool) {
	switch {
	case len(args) == 0:
		return p.Name, true
	case len(args) == 2 && args[0] == "realm":
		return args[1], true
	}
	return "", false
}

// authACLUserlist returns the userlist of an ACL that is exactly
// http_auth(<userlist>), or http_auth_group(<userlist>) with its groups.
func authACLUserlist(a *config.ACL) (userlist string, groups []string, ok bool) {
	name, args, convs := matchers.SplitFetch(a.Fetch)
	if len(args) != 1 || len(convs) > 0 || len(a.Flags) > 0 {
		return "", nil, false
	}
	switch {
	case name == "http_auth" && len(a.Patterns) == 0:
		return args[0], nil, true
	case name == "http_auth_group" && len(a.Patterns) > 0:
		return args[0], a.Patterns, true
	}
	return "", nil, false
}

// authCondition returns the userlist (and groups) when the condition is
// "unless T" or "if !T" with T testing only http_auth(<userlist>) or one
// http_auth_group.
func authCondition(c *config.Condition) (string, []string, bool) {
	if len(c.Terms) != 1 || len(c.Terms[0]) != 1 {
		return "", nil, false
	}
	ct := c.Terms[0][0]
	if ct.Negate == c.Unless {
		return "", nil, false
	}
	acls := ct.Defs
	if ct.Anonymous != nil {
		acls = []*config.ACL{ct.Anonymous}
	}
	if len(acls) != 1 {
		return "", nil, false
	}
	return authACLUserlist(acls[0])
}

// userlistAccounts turns a userlist into accounts Caddy can check, with
// their groups. An insecure-password is hashed now with bcrypt; MD5,
// SHA-256, SHA-512 crypt and bcrypt hashes are kept (cryptauth checks them
// as crypt() does); other crypt(3) hashes (traditional DES, yescrypt …)
// cannot be checked, so they are refused. The result is cached so that a
// userlist is hashed once.
func (t *translator) userlistAccounts(pos config.Pos, keyword, name string) ([]matchers.Account, bool) {
	if r, ok := t.userlists[name]; ok {
		return r.accounts, r.ok
	}
	var ul *config.Userlist
	for _, u := range t.cfg.Userlists {
		if u.Name == name {
			ul = u
		}
	}
	if ul == nil {
		t.errorf(pos, keyword, "no userlist %q", name)
		return nil, false
	}
	var accounts []matchers.Account
	ok := true
	for _, u := range ul.Users {
		a := matchers.Account{Username: u.Name, Groups: slices.Clone(u.Groups)}
		for _, g := range ul.Groups {
			if slices.Contains(g.Users, u.Name) && !slices.Contains(a.Groups, g.Name) {
				a.Groups = append(a.Groups, g.Name)
			}
		}
		switch {
		case u.Insecure:
			hash, err := insecureHash(u.Password)
			if err != nil {
				t.errorf(u.Pos, "user", "user %q: %v", u.Name, err)
				ok = false
				continue
			}
			a.Password = hash
		default:
			if err := cryptauth.Check(u.Password); err != nil {
				t.errorf(u.Pos, "user", "user %q: this %s hash cannot be checked (%v): use a SHA-512 crypt hash (mkpasswd -m sha-512), SHA-256, MD5 or bcrypt, or insecure-password", u.Name, cryptScheme(u.Password), err)
				ok = false
				continue
			}
			a.Password = u.Password
		}
		accounts = append(accounts, a)
	}
	t.userlists[name] = userlistResult{accounts, ok}
	return accounts, ok
}

// userlistResult caches the accounts of a userlist.
type userlistResult struct {
	accounts []matchers.Account
	ok       bool
}

// cryptScheme names the crypt(3) scheme of a hash.
func cryptScheme(h string) string {
	switch {
	case strings.HasPrefix(h, "$6$"):
		return "SHA-512 crypt"
	case strings.HasPrefix(h, "$5$"):
		return "SHA-256 crypt"
	case strings.HasPrefix(h, "$1$"):
		return "MD5 crypt"
	case strings.HasPrefix(h, "$y$"):
		return "yescrypt"
	}
	return "crypt(3)"
}

// insecureHash hashes a clear-text password from haproxy.cfg for Caddy's
// basic authentication. The clear text is in haproxy.cfg already: a costly
// hash would protect nothing and slow every request down.
func insecureHash(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	return string(hash), err
}
