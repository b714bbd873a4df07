package haproxyadapter

import (
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// originalToRoute translates "option originalto [except <net>] [header
// <name>]" of a frontend and backend pair: the address the client
// connected to is appended as X-Original-To (or the backend's header name,
// else the frontend's) after the request rules, unless it lies in the
// except network of a section that sets the option (HAProxy 2.6 skips the
// header when either section's network holds it). ok is false after an
// error.
func (t *translator) originalToRoute(fe, be *config.Proxy) (route *caddyhttp.Route, ok bool) {
	header := "X-Original-To"
	var except []string
	enabled := false
	for _, p := range []*config.Proxy{fe, be} {
		o := p.Option("originalto")
		if o == nil || p == be && be == fe {
			continue
		}
		enabled = true
		for i := 0; i < len(o.Args); i++ {
			if i+1 >= len(o.Args) || o.Args[i] != "except" && o.Args[i] != "header" {
				t.errorf(o.Pos, "option originalto", "expects [except <network>] [header <name>], found %q", o.Args[i])
				return nil, false
			}
			if o.Args[i] == "header" {
				header = o.Args[i+1]
			} else {
				if _, err := matchers.ParseIPPattern(o.Args[i+1]); err != nil {
					t.errorf(o.Pos, "option originalto", "except %q: %v", o.Args[i+1], err)
					return nil, false
				}
				except = append(except, o.Args[i+1])
			}
			i++
		}
	}
	if !enabled {
		return nil, true
	}
	add := caddyconfig.JSONModuleObject(headers.Handler{Request: &headers.HeaderOps{
		Add: http.Header{header: {"{http.request.local.host}"}},
	}}, "handler", "headers", nil)
	route = &caddyhttp.Route{HandlersRaw: []json.RawMessage{add}}
	if len(except) > 0 {
		outside := matchers.MatchACL{Terms: []matchers.Term{{Name: "originalto except", Negate: true, Any: []matchers.Test{{Fetch: "dst", Values: except}}}}}
		route.MatcherSetsRaw = caddyhttp.RawMatcherSets{{"haproxy_acl": caddyconfig.JSON(outside, nil)}}
	}
	return route, true
}
