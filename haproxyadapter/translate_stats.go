package haproxyadapter

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/stats"
)

// defaultStatsRealm is HAProxy's realm for "stats auth".
const defaultStatsRealm = "HAProxy Statistics"

// proxyIDs numbers the proxies as HAProxy does for its stats (iid): an
// explicit "id", or the next free number in configuration order. HAProxy
// gives its CLI proxy the first number when a stats socket is declared.
func proxyIDs(cfg *config.Config) map[*config.Proxy]int {
	ids := make(map[*config.Proxy]int, len(cfg.Proxies))
	used := make(map[int]bool)
	for _, p := range cfg.Proxies {
		if p.ID > 0 {
			ids[p], used[p.ID] = p.ID, true
		}
	}
	next := 1
	if len(cfg.Global.StatsSockets) > 0 {
		next = 2
	}
	for _, p := range cfg.Proxies {
		if p.ID > 0 {
			continue
		}
		for used[next] {
			next++
		}
		ids[p], used[next] = next, true
	}
	return ids
}

// frontendCounter is the route that leads every route list of a frontend:
// the haproxy_frontend handler counting its traffic for the stats page.
func (t *translator) frontendCounter(fe *config.Proxy) caddyhttp.Route {
	h := lbmodule.FrontendHandler{FrontendConfig: lbmodule.FrontendConfig{
		Name:   fe.Name,
		ID:     t.ids[fe],
		Listen: fe.Kind == config.KindListen,
		// The haproxy_maxconn listener wrapper enforces it.
		MaxConn: fe.MaxConn,
	}}
	return caddyhttp.Route{HandlersRaw: []json.RawMessage{caddyconfig.JSONModuleObject(h, "handler", "haproxy_frontend", nil)}}
}

// statsRoutes translates the "stats" keywords of p into a route serving
// the stats page under its URI, for GET, HEAD and POST: the access rules
// ("stats http-request", or the accounts of "stats auth"), then the
// haproxy_stats handler. Other requests pass on, as in HAProxy.
func (t *translator) statsRoutes(p *config.Proxy) caddyhttp.RouteList {
	s := p.Stats
	if s == nil || !s.Enabled {
		return nil
	}
	if len(s.HTTPRequests) > 0 && (len(s.Auths) > 0 || s.Realm != "") {
		// HAProxy refuses this combination too.
		t.errorf(s.HTTPRequests[0].Pos, "stats http-request", "%s %q: stats 'auth'/'realm' and 'http-request' can't be used at the same time", p.Kind, p.Name)
		return nil
	}
	for _, st := range s.Other {
		t.warnf(st.Pos, "stats "+st.Words[1], "ignored: the stats page has no such option")
	}
	h, ok := t.statsHandler(p)
	if !ok {
		return nil
	}
	realm := s.Realm
	if realm == "" {
		realm = defaultStatsRealm
	}
	var inner caddyhttp.RouteList
	if len(s.HTTPRequests) > 0 {
		rules := *p
		rules.HTTPRequest = nil
		for _, r := range s.HTTPRequests {
			if r.Action == "auth" && len(r.Args) == 0 {
				// Without a realm, the challenge names the stats realm.
				withRealm := *r
				withRealm.Args = []string{"realm", realm}
				r = &withRealm
			}
			rules.HTTPRequest = append(rules.HTTPRequest, r)
		}
		inner = t.requestRuleRoutes(&rules, "stats", p)
	}
	if len(s.Auths) > 0 {
		auth, ok := t.statsAuth(s, realm)
		if !ok {
			return nil
		}
		inner = append(inner, caddyhttp.Route{HandlersRaw: []json.RawMessage{auth}})
	}
	inner = append(inner, caddyhttp.Route{HandlersRaw: []json.RawMessage{h}, Terminal: true})
	uri := s.URI
	if uri == "" {
		uri = stats.DefaultURI
	}
	prefix := matchers.MatchACL{Terms: []matchers.Term{{Name: "stats uri", Any: []matchers.Test{{Fetch: "url", Match: "beg", Values: []string{uri}}}}}}
	return caddyhttp.RouteList{{
		MatcherSetsRaw: caddyhttp.RawMatcherSets{{
			"method":      caddyconfig.JSON(caddyhttp.MatchMethod{http.MethodGet, http.MethodHead, http.MethodPost}, nil),
			"haproxy_acl": caddyconfig.JSON(prefix, nil),
		}},
		HandlersRaw: []json.RawMessage{caddyconfig.JSONModuleObject(caddyhttp.Subroute{Routes: inner}, "handler", "subroute", nil)},
		Terminal:    true,
	}}
}

// statsHandler builds the haproxy_stats handler of p's stats settings.
func (t *translator) statsHandler(p *config.Proxy) (json.RawMessage, bool) {
	s := p.Stats
	h := stats.Handler{
		URI:         s.URI,
		Refresh:     caddy.Duration(s.Refresh),
		HideVersion: s.HideVersion,
		ShowLegends: s.ShowLegends,
		ShowNode:    s.ShowNodeSet,
		Node:        s.ShowNode,
		ShowDesc:    s.ShowDesc != "",
		Description: s.ShowDesc,
	}
	if h.URI == stats.DefaultURI {
		h.URI = ""
	}
	for _, name := range s.Scopes {
		if name == "." {
			name = p.Name
		}
		if !slices.Contains(h.Scope, name) {
			h.Scope = append(h.Scope, name)
		}
	}
	admin, ok := t.statsAdmin(s)
	if !ok {
		return nil, false
	}
	h.Admin = admin
	return caddyconfig.JSONModuleObject(h, "handler", "haproxy_stats", nil), true
}

// statsAdmin translates the "stats admin if|unless <cond>" lines, which
// add up: nil (no admin), true, or one matcher set that holds when any of
// the conditions does.
func (t *translator) statsAdmin(s *config.Stats) (json.RawMessage, bool) {
	var sets caddyhttp.RawMatcherSets
	for _, c := range s.Admin {
		cm, ok := t.condition("stats admin", c)
		switch {
		case !ok:
			return nil, false
		case cm.never:
		case cm.sets == nil:
			return json.RawMessage("true"), true
		default:
			sets = append(sets, cm.sets...)
		}
	}
	switch len(sets) {
	case 0:
		return nil, true
	case 1:
		return caddyconfig.JSON(sets[0], nil), true
	}
	// Any of several sets: not(not(any)).
	anyOf := caddy.ModuleMap{"not": caddyconfig.JSON(sets, nil)}
	return caddyconfig.JSON(caddy.ModuleMap{"not": caddyconfig.JSON([]caddy.ModuleMap{anyOf}, nil)}, nil), true
}

// statsAuth is Caddy's basic authentication with the "stats auth"
// accounts, their clear-text passwords hashed as the userlists' are.
func (t *translator) statsAuth(s *config.Stats, realm string) (json.RawMessage, bool) {
	basic := caddyauth.HTTPBasicAuth{
		HashRaw:   hashModule(),
		Realm:     realm,
		HashCache: &caddyauth.Cache{},
	}
	for _, a := range s.Auths {
		hash, err := insecureHash(a.Password)
		if err != nil {
			t.errorf(a.Pos, "stats auth", "user %q: %v", a.User, err)
			return nil, false
		}
		if i := slices.IndexFunc(basic.AccountList, func(x caddyauth.Account) bool { return x.Username == a.User }); i >= 0 {
			// HAProxy checks the first account of a name.
			continue
		}
		basic.AccountList = append(basic.AccountList, caddyauth.Account{Username: a.User, Password: hash})
	}
	auth := caddyauth.Authentication{ProvidersRaw: caddy.ModuleMap{"http_basic": caddyconfig.JSON(basic, nil)}}
	return caddyconfig.JSONModuleObject(auth, "handler", "authentication", nil), true
}

// deniedMark records in a request variable that a rule of section p
// denied the request, for the stats page's dreq counters.
func deniedMark(p *config.Proxy) json.RawMessage {
	return caddyconfig.JSONModuleObject(map[string]string{lbmodule.DeniedVar: p.Name}, "handler", "vars", nil)
}

// statsInBackend reports whether backend be serves its own stats page,
// reached through frontend fe: HAProxy looks at the stats settings of the
// frontend and of the backend.
func statsInBackend(fe, be *config.Proxy) bool {
	return be != fe && be.Stats != nil && be.Stats.Enabled && !strings.EqualFold(be.Mode, "tcp")
}
