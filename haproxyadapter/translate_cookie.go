package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
)

// cookieConfig translates backend b's "cookie" line (and its
// "dynamic-cookie-key") into the selection policy's persistence cookie;
// nil when b has none. The servers' "cookie <value>" go into their
// ServerConfig as they are.
func cookieConfig(b *config.Proxy) (*persist.Config, []config.Diagnostic) {
	ck := b.Cookie
	if ck == nil {
		return nil, nil
	}
	var diags []config.Diagnostic
	warn := func(pos config.Pos, subject, format string, args ...any) {
		diags = append(diags, config.Diagnostic{
			Severity: config.Warning, Pos: pos, Keyword: "cookie", Subject: subject,
			Message: fmt.Sprintf(format, args...),
		})
	}
	pc := &persist.Config{
		Name:     ck.Name,
		Mode:     ck.Mode,
		Indirect: ck.Indirect,
		NoCache:  ck.NoCache,
		PostOnly: ck.PostOnly,
		Preserve: ck.Preserve,
		HTTPOnly: ck.HTTPOnly,
		Secure:   ck.Secure,
		Domains:  ck.Domains,
		MaxIdle:  persist.Duration(ck.MaxIdle),
		MaxLife:  persist.Duration(ck.MaxLife),
		Dynamic:  ck.Dynamic,
		Attrs:    ck.Attrs,
	}
	if err := pc.Validate(); err != nil {
		diags = append(diags, config.Diagnostic{Severity: config.Error, Pos: ck.Pos, Keyword: "cookie", Message: err.Error()})
		return nil, diags
	}

	// dynamic-cookie-key may come from the defaults section; the last one
	// wins.
	for _, st := range b.Other {
		if st.Keyword() == "dynamic-cookie-key" && len(st.Words) > 1 {
			pc.DynamicKey = st.Words[1]
		}
	}
	if !ck.Dynamic {
		return pc, diags
	}
	if pc.DynamicKey == "" {
		warn(ck.Pos, b.Name, "dynamic cookies need a dynamic-cookie-key: servers without a cookie value get none")
		return pc, diags
	}
	for _, s := range b.Servers {
		if s.Params.Cookie != "" {
			continue
		}
		// The value hashes the server's IP address, which HAProxy knows
		// once it resolved the name at startup; only literal addresses
		// give the same value here.
		if _, err := netip.ParseAddr(s.Host); err != nil || s.Port == "" {
			warn(s.Pos, b.Name, "server %s (%s) gets no dynamic cookie: only servers with an IP address and a port get one", s.Name, s.Address)
		}
	}
	return pc, diags
}

// cookieHandler is the handler that must run before the reverse_proxy of
// a backend with a persistence cookie: the selection policy cannot see the
// response, so this handler applies the response side (inserting the
// cookie, rewriting or prefixing the server's, nocache).
func cookieHandler() json.RawMessage {
	return caddyconfig.JSONModuleObject(lbmodule.CookieHandler{}, "handler", "haproxy_cookie", nil)
}

// cookieRoutes is the route that puts the cookie handler in front of
// backend be's chain when be has a persistence cookie. It must come first:
// its response hook then runs after the http-response rules, as HAProxy
// handles the cookie after them.
func cookieRoutes(be *config.Proxy) caddyhttp.RouteList {
	if be.Cookie == nil {
		return nil
	}
	return caddyhttp.RouteList{{HandlersRaw: []json.RawMessage{cookieHandler()}}}
}
