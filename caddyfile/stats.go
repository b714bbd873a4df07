package caddyfile

import (
	"encoding/json"
	"github.com/caddy-haproxy/caddy-haproxy/cryptauth"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
)

// defaultStatsRealm is HAProxy's realm for "stats auth".
const defaultStatsRealm = "HAProxy Statistics"

// parseStats reads the haproxy_stats directive, HAProxy's "stats" keywords
// without the "stats" word:
//
//	haproxy_stats [<matcher>] {
//		uri <prefix>             # default /haproxy?stats
//		auth <user>:<password>   # repeatable: Basic authentication for the page
//		realm <realm>            # default "HAProxy Statistics"
//		refresh <interval>
//		admin [<named matcher>]  # the admin form, for every request or those matching
//		hide-version
//		show-legends
//		show-node [<name>]
//		show-desc <text>
//		scope <proxy>…           # repeatable; default every proxy
//	}
//
// Requests outside the URI go on to the next handler, as HAProxy passes
// them to its backend. With auth, only requests for the page are asked
// for a login.
func parseStats(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next() // directive name
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	s := &stats.Handler{URI: stats.DefaultURI}
	realm := defaultStatsRealm
	var accounts []caddyauth.Account
	for h.NextBlock(0) {
		sub := h.Val()
		args := h.RemainingArgs()
		one := func() (string, error) {
			if len(args) != 1 {
				return "", h.ArgErr()
			}
			return args[0], nil
		}
		var err error
		switch sub {
		case "uri":
			s.URI, err = one()
		case "realm":
			realm, err = one()
		case "auth":
			var a caddyauth.Account
			if a, err = statsAccount(h, args); err == nil {
				accounts = append(accounts, a)
			}
		case "refresh":
			var v string
			if v, err = one(); err == nil {
				var d caddy.Duration
				if err = d.UnmarshalJSON([]byte(`"` + v + `"`)); err != nil || d <= 0 {
					return nil, h.Errf("refresh: want a positive duration such as 10s, not %q", v)
				}
				s.Refresh = d
			}
		case "admin":
			s.Admin, err = statsAdmin(h, args)
		case "hide-version", "show-legends":
			if len(args) != 0 {
				return nil, h.ArgErr()
			}
			s.HideVersion = s.HideVersion || sub == "hide-version"
			s.ShowLegends = s.ShowLegends || sub == "show-legends"
		case "show-node":
			if len(args) > 1 {
				return nil, h.ArgErr()
			}
			s.ShowNode = true
			if len(args) == 1 {
				s.Node = args[0]
			}
		case "show-desc":
			s.ShowDesc = true
			s.Description = strings.Join(args, " ")
		case "scope":
			if len(args) == 0 {
				return nil, h.ArgErr()
			}
			s.Scope = append(s.Scope, args...)
		default:
			return nil, h.Errf("haproxy_stats: unknown subdirective %q (uri, auth, realm, refresh, admin, hide-version, show-legends, show-node, show-desc, scope)", sub)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(accounts) == 0 {
		return s, nil
	}
	return statsWithAuth(s, realm, accounts), nil
}

// statsAccount reads "auth <user>:<password>". The password is in the
// Caddyfile in clear, as in haproxy.cfg; Caddy checks bcrypt hashes, so
// it is hashed here, at the lowest cost since the hash protects nothing.
func statsAccount(h httpcaddyfile.Helper, args []string) (caddyauth.Account, error) {
	if len(args) != 1 {
		return caddyauth.Account{}, h.ArgErr()
	}
	user, pass, ok := strings.Cut(args[0], ":")
	if !ok || user == "" {
		return caddyauth.Account{}, h.Errf("auth: want <user>:<password>, not %q", args[0])
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		return caddyauth.Account{}, h.Errf("auth: %v", err)
	}
	return caddyauth.Account{Username: user, Password: string(hash)}, nil
}

// statsAdmin reads "admin [<named matcher>]" into the handler's Admin:
// true, or the matcher set.
func statsAdmin(h httpcaddyfile.Helper, args []string) (json.RawMessage, error) {
	if len(args) == 0 {
		return json.RawMessage("true"), nil
	}
	if len(args) > 1 || !strings.HasPrefix(args[0], "@") {
		return nil, h.Errf("admin: want nothing or a named matcher (@name), not %q", strings.Join(args, " "))
	}
	// Go back to the matcher token so that the helper resolves it.
	h.Prev()
	set, ok, err := h.MatcherToken()
	if err != nil {
		return nil, h.Errf("admin: %v", err)
	}
	if !ok || set == nil {
		return nil, h.Errf("admin: %s is not a named matcher", args[0])
	}
	return caddyconfig.JSON(set, nil), nil
}

// statsWithAuth puts Basic authentication in front of the page, for the
// requests the page answers: a subroute matching the URI prefix as
// haproxy_acl's url_beg.
func statsWithAuth(s *stats.Handler, realm string, accounts []caddyauth.Account) caddyhttp.MiddlewareHandler {
	basic := caddyauth.HTTPBasicAuth{
		// The crypt module checks bcrypt too, and an unknown user costs
		// a SHA-512-crypt check, not Caddy's bcrypt of cost 14.
		HashRaw:     caddyconfig.JSONModuleObject(cryptauth.Hash{}, "algorithm", "crypt", nil),
		AccountList: accounts,
		Realm:       realm,
		// bcrypt is slow on purpose; browsers send the same login with
		// every request.
		HashCache: &caddyauth.Cache{},
	}
	auth := caddyauth.Authentication{ProvidersRaw: caddy.ModuleMap{"http_basic": caddyconfig.JSON(basic, nil)}}
	page := matchers.MatchACL{Terms: []matchers.Term{{Any: []matchers.Test{{Fetch: "url", Match: "beg", Values: []string{s.URI}}}}}}
	return &caddyhttp.Subroute{Routes: caddyhttp.RouteList{{
		MatcherSetsRaw: []caddy.ModuleMap{{"haproxy_acl": caddyconfig.JSON(page, nil)}},
		HandlersRaw: []json.RawMessage{
			caddyconfig.JSONModuleObject(auth, "handler", "authentication", nil),
			caddyconfig.JSONModuleObject(s, "handler", "haproxy_stats", nil),
		},
	}}}
}
