package haproxyadapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/rewrite"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// HAProxy handles an HTTP request in this order (frontend, then backend):
// monitor-uri, the frontend's http-request rules, its redirect rules,
// use_backend/default_backend, then the backend's http-request and redirect
// rules and the load balancer. Responses pass the backend's http-response
// rules, then the frontend's. The routes below keep that order: every rule
// is a route with the rule's condition as matcher, evaluated when the
// request reaches it, so earlier rewrites are seen by later conditions.

// httpRoutes builds the routes of an HTTP frontend or listen section.
func (t *translator) httpRoutes(fe *config.Proxy) caddyhttp.RouteList {
	t.checkErrorFiles(fe)
	var routes caddyhttp.RouteList
	routes = append(routes, t.frontendCounter(fe))
	t.reportOnce("after-response "+fe.Kind.String()+" "+fe.Name, func() { routes = append(routes, t.afterResponseRoutes(fe)...) })
	routes = append(routes, t.monitorRoutes(fe)...)
	routes = append(routes, t.requestRuleRoutes(fe, "frontend", fe)...)
	routes = append(routes, t.statsRoutes(fe)...)
	routes = append(routes, t.redirectRoutes(fe)...)
	fallback := t.defaultBackendHandler(fe)
	// lastUseBackend is the index in routes of the previous use_backend
	// rule's route, -1 when none is last.
	lastUseBackend := -1
	for _, ub := range fe.UseBackends {
		cm, ok := t.condition("use_backend", ub.Cond)
		var h json.RawMessage
		if strings.Contains(ub.Backend, "%[") {
			h = t.dynamicUseBackend(fe, ub, fallback)
		} else if be := t.lookupBackend(ub.Pos, "use_backend", ub.Backend); be != nil {
			h = t.backendChain(fe, be)
		}
		if !ok || h == nil || cm.never {
			continue
		}
		if prev := lastUseBackend; prev >= 0 && cm.sets != nil && bytes.Equal(routes[prev].HandlersRaw[0], h) {
			// Consecutive rules to the same backend make one route
			// whose matcher sets are tried in order: the same
			// conditions, evaluated in the same order, and one
			// reverse_proxy (one connection pool) instead of several.
			routes[prev].MatcherSetsRaw = append(routes[prev].MatcherSetsRaw, cm.sets...)
			continue
		}
		routes = append(routes, caddyhttp.Route{MatcherSetsRaw: cm.sets, HandlersRaw: []json.RawMessage{h}, Terminal: true})
		lastUseBackend = len(routes) - 1
		if cm.sets == nil {
			// Rules after an unconditional one are never reached.
			return routes
		}
	}
	if fallback != nil {
		routes = append(routes, caddyhttp.Route{HandlersRaw: []json.RawMessage{fallback}, Terminal: true})
	}
	return routes
}

// defaultBackendHandler serves the requests no use_backend rule takes: the
// default backend (a listen section's own servers), or HAProxy's 503.
func (t *translator) defaultBackendHandler(fe *config.Proxy) json.RawMessage {
	var be *config.Proxy
	switch {
	case fe.DefaultBackend != "":
		be = t.lookupBackend(fe.DefaultBackendPos, "default_backend", fe.DefaultBackend)
	case fe.Kind == config.KindListen:
		be = fe
	}
	if be == nil {
		// HAProxy answers 503 when a request reaches no backend.
		return t.errorPage(http.StatusServiceUnavailable, fe)
	}
	return t.backendChain(fe, be)
}

// backendChain returns the handler that serves a request routed from fe to
// be: the backend's own request rules, the response rules of both, then
// the reverse proxy. Without rules it is the reverse proxy alone.
func (t *translator) backendChain(fe, be *config.Proxy) json.RawMessage {
	proxy := t.backendHandler(fe, be)
	if proxy == nil {
		return nil
	}
	t.routedBackends[be.Name] = true
	t.checkErrorFiles(be)
	if be != fe {
		t.reportOnce("after-response "+be.Kind.String()+" "+be.Name, func() { t.checkBackendAfterResponse(be) })
	}
	// The persistence cookie's handler comes first, so that its response
	// side runs after the http-response rules, as in HAProxy.
	routes := cookieRoutes(be)
	// A section's rules are translated for every frontend and backend pair
	// that uses them, but their problems are reported once.
	if be != fe {
		// A listen section's rules run once, as its frontend's.
		t.reportOnce("request "+be.Kind.String()+" "+be.Name, func() {
			routes = append(routes, t.requestRuleRoutes(be, "backend", be, fe)...)
			if statsInBackend(fe, be) && (fe.Stats == nil || !fe.Stats.Enabled) {
				routes = append(routes, t.statsRoutes(be)...)
			}
			routes = append(routes, t.redirectRoutes(be)...)
		})
	}
	// Response header handlers wrap the response writer; the one added
	// last applies first. HAProxy applies the backend's rules in order,
	// then the frontend's: so frontend rules come first, in reverse.
	var resp caddyhttp.RouteList
	t.reportOnce("response "+fe.Kind.String()+" "+fe.Name, func() { resp = t.responseRuleRoutes(fe) })
	if be != fe {
		t.reportOnce("response "+be.Kind.String()+" "+be.Name, func() { resp = append(resp, t.responseRuleRoutes(be)...) })
	}
	routes = append(routes, resp...)
	// use-server rules come after the backend's request rules.
	t.reportOnce("use-server "+be.Kind.String()+" "+be.Name, func() { routes = append(routes, t.useServerRoutes(be)...) })
	// HAProxy adds X-Original-To after the request rules.
	var orig *caddyhttp.Route
	t.reportOnce("originalto "+fe.Name+" "+be.Name, func() { orig, _ = t.originalToRoute(fe, be) })
	if orig != nil {
		routes = append(routes, *orig)
	}
	handlers := []json.RawMessage{proxy}
	if be != fe && t.hasProxyErrorPages(be) {
		handlers = append([]json.RawMessage{backendTag(be)}, handlers...)
	}
	routes = append(routes, caddyhttp.Route{HandlersRaw: handlers})
	return caddyconfig.JSONModuleObject(caddyhttp.Subroute{Routes: routes}, "handler", "subroute", nil)
}

// reportOnce runs f, keeping the diagnostics it adds only the first time
// key is seen.
func (t *translator) reportOnce(key string, f func()) {
	n := len(t.diags)
	f()
	if t.warned[key] {
		t.diags = t.diags[:n]
	}
	t.warned[key] = true
}

// checkStateBackends refuses nbsrv and srv_is_up on backends that no
// frontend routes to: Caddy does not run them, so their servers could not
// be counted.
func (t *translator) checkStateBackends() {
	for _, name := range slices.Sorted(maps.Keys(t.stateBackends)) {
		if !t.routedBackends[name] {
			b := t.cfg.Backend(name)
			t.errorf(b.Pos, b.Kind.String(), "backend %q is tested by nbsrv or srv_is_up but no frontend routes to it, so Caddy does not run it; route to it or remove the test", name)
		}
	}
}

// monitorRoutes answers monitor-uri requests before any rule: 200, or 503
// when a "monitor fail" condition holds.
func (t *translator) monitorRoutes(fe *config.Proxy) caddyhttp.RouteList {
	if fe.MonitorURI == "" {
		return nil
	}
	// HAProxy 2.6 compares the request target as sent, query included.
	uri := matchers.MatchACL{Terms: []matchers.Term{{Name: "monitor-uri", Any: []matchers.Test{{Fetch: "url", Values: []string{fe.MonitorURI}}}}}}
	var inner caddyhttp.RouteList
	for _, c := range fe.MonitorFail {
		cm, ok := t.condition("monitor fail", c)
		if !ok || cm.never {
			continue
		}
		inner = append(inner, caddyhttp.Route{MatcherSetsRaw: cm.sets, HandlersRaw: []json.RawMessage{t.errorPage(http.StatusServiceUnavailable, fe)}, Terminal: true})
	}
	inner = append(inner, caddyhttp.Route{HandlersRaw: []json.RawMessage{t.monitorOK(fe)}, Terminal: true})
	handler := inner[0].HandlersRaw[0]
	if len(inner) > 1 {
		handler = caddyconfig.JSONModuleObject(caddyhttp.Subroute{Routes: inner}, "handler", "subroute", nil)
	}
	return caddyhttp.RouteList{{
		MatcherSetsRaw: caddyhttp.RawMatcherSets{{"haproxy_acl": caddyconfig.JSON(uri, nil)}},
		HandlersRaw:    []json.RawMessage{handler},
		Terminal:       true,
	}}
}

// requestRuleRoutes translates a section's http-request rules (and the
// legacy req* and block lines, which the model keeps with them). pages
// are the sections whose errorfiles the rules' error answers use, in
// order of preference.
func (t *translator) requestRuleRoutes(p *config.Proxy, scope string, pages ...*config.Proxy) caddyhttp.RouteList {
	var routes caddyhttp.RouteList
	// "allow" stops the section's remaining rules: it sets a variable the
	// later rules' routes require to be unset.
	allowVar := "haproxy_allow_" + scope
	allowed := false
	for _, r := range p.HTTPRequest {
		if logOnlyAction(r) {
			continue
		}
		if r.Action == "auth" {
			if h, handled := t.authRule(p, r, pages); handled {
				if h != nil {
					routes = append(routes, caddyhttp.Route{MatcherSetsRaw: guardAllow(nil, allowed, allowVar), HandlersRaw: h})
				}
				continue
			}
		}
		cm, ok := t.condition(r.Keyword, r.Cond)
		handlers, hok := t.requestAction(p, r, allowVar, pages)
		if !ok || !hok || cm.never {
			continue
		}
		routes = append(routes, caddyhttp.Route{MatcherSetsRaw: guardAllow(cm.sets, allowed, allowVar), HandlersRaw: handlers})
		if r.Action == "allow" {
			allowed = true
		}
	}
	return routes
}

// logOnlyAction reports whether a rule only feeds HAProxy's logs (the
// configuration reader has warned that it is ignored).
func logOnlyAction(r *config.Rule) bool {
	switch r.Keyword {
	case "http-request", "http-response":
		return r.Action == "capture" || r.Action == "set-log-level"
	}
	return false
}

// guardAllow adds to each matcher set the requirement that no earlier
// "allow" rule of the section matched.
func guardAllow(sets caddyhttp.RawMatcherSets, allowed bool, allowVar string) caddyhttp.RawMatcherSets {
	if !allowed {
		return sets
	}
	unset := caddyconfig.JSON(caddyhttp.VarsMatcher{allowVar: {""}}, nil)
	if len(sets) == 0 {
		return caddyhttp.RawMatcherSets{{"vars": unset}}
	}
	out := make(caddyhttp.RawMatcherSets, len(sets))
	for i, s := range sets {
		c := caddy.ModuleMap{"vars": unset}
		for k, v := range s {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

// requestAction translates the action of an http-request rule into
// handlers.
func (t *translator) requestAction(p *config.Proxy, r *config.Rule, allowVar string, pages []*config.Proxy) ([]json.RawMessage, bool) {
	kw := r.Keyword + " " + r.Action
	if r.Keyword != "http-request" {
		kw = r.Keyword
	}
	fail := func(format string, args ...any) ([]json.RawMessage, bool) {
		t.errorf(r.Pos, kw, format, args...)
		return nil, false
	}
	one := func(h json.RawMessage) ([]json.RawMessage, bool) { return []json.RawMessage{h}, true }
	switch r.Keyword {
	case "reqadd":
		name, value, ok := legacyHeader(r.Args)
		if !ok {
			return fail("expects one '<name>: <value>' argument")
		}
		return one(requestHeaders(&headers.HeaderOps{Add: http.Header{name: {escapeBraces(value)}}}))
	case "reqidel":
		ops, err := legacyDelete(r.Args)
		if err != nil {
			return fail("%v", err)
		}
		return one(requestHeaders(ops))
	case "http-request", "block", "stats http-request":
	default:
		return fail("not translated: use the http-request equivalent")
	}
	action := r.Action
	if strings.HasPrefix(action, "set-var(") || strings.HasPrefix(action, "set-var-fmt(") || strings.HasPrefix(action, "unset-var(") {
		action = "set-var"
	}
	switch action {
	case "allow":
		if len(r.Args) > 0 {
			return fail("unexpected arguments %q", strings.Join(r.Args, " "))
		}
		return one(caddyconfig.JSONModuleObject(caddyhttp.VarsMiddleware{allowVar: "1"}, "handler", "vars", nil))
	case "auth":
		realm, ok := authRealm(p, r.Args)
		if !ok {
			return fail("expects 'realm <realm>' or nothing before the condition")
		}
		return one(t.authPage(realm, pages))
	case "deny", "return":
		hs, err := t.reply(r, pages)
		if err != nil {
			return fail("%v", err)
		}
		if r.Action == "deny" {
			// The stats page counts denied requests (dreq).
			return append([]json.RawMessage{deniedMark(p)}, hs...), true
		}
		return hs, true
	case "normalize-uri":
		n := matchers.NormalizeURI{}
		if len(r.Args) > 0 {
			n.Normalizer = r.Args[0]
		}
		switch {
		case len(r.Args) == 2 && r.Args[1] == "full" && n.Normalizer == "path-strip-dotdot":
			n.Full = true
		case len(r.Args) == 2 && r.Args[1] == "strict":
			return fail("strict is not translated: Go's HTTP server answers 400 to a malformed escape in the path before any rule, and passes one in the query")
		case len(r.Args) != 1:
			return fail("expects a normalizer and, for path-strip-dotdot, 'full'")
		case strings.HasPrefix(n.Normalizer, "fragment-"):
			return fail("%s is not translated: Go's HTTP server keeps a '#' in the path, where HAProxy sees a fragment", n.Normalizer)
		}
		if err := n.Validate(); err != nil {
			return fail("%v", err)
		}
		return one(caddyconfig.JSONModuleObject(n, "handler", "haproxy_normalize_uri", nil))
	case "set-var":
		hs, err := t.setVar(r)
		if err != nil {
			return fail("%v", err)
		}
		return hs, true
	case "tarpit":
		hs, err := t.reply(r, pages)
		if err != nil {
			return fail("%v", err)
		}
		delay, err := tarpitDelay(p)
		if err != nil {
			return fail("%v", err)
		}
		hold := caddyconfig.JSONModuleObject(matchers.Tarpit{Delay: caddy.Duration(delay)}, "handler", "haproxy_tarpit", nil)
		// A tarpitted request counts as denied, as in HAProxy.
		return append([]json.RawMessage{deniedMark(p), hold}, hs...), true
	case "set-header", "add-header":
		if len(r.Args) != 2 {
			return fail("expects a header name and a value")
		}
		value, pre, err := t.headerValue(r.Pos.File, r.Args[1], false)
		if err != nil {
			return fail("%v", err)
		}
		ops := &headers.HeaderOps{}
		if r.Action == "set-header" {
			ops.Set = http.Header{r.Args[0]: {value}}
		} else {
			ops.Add = http.Header{r.Args[0]: {value}}
		}
		return append(pre, requestHeaders(ops)), true
	case "del-header":
		ops, err := deleteHeaderOps(r.Args)
		if err != nil {
			return fail("%v", err)
		}
		return one(requestHeaders(ops))
	case "replace-header":
		ops, err := replaceHeaderOps(r.Args)
		if err != nil {
			return fail("%v", err)
		}
		if strings.EqualFold(r.Args[0], "host") {
			return fail("replacing the Host header is not translated; use set-header")
		}
		return one(requestHeaders(ops))
	case "replace-value":
		if len(r.Args) > 0 && strings.EqualFold(r.Args[0], "host") {
			return fail("replacing the Host header is not translated; use set-header")
		}
		h, err := replaceValueHandler(r.Args, false, nil)
		if err != nil {
			return fail("%v", err)
		}
		return one(h)
	case "redirect":
		h, err := t.redirect(r.Pos.File, r.Args)
		if err != nil {
			return fail("%v", err)
		}
		return h, true
	case "set-path", "set-query", "set-uri", "set-method":
		if len(r.Args) != 1 {
			return fail("expects one argument")
		}
		value, err := logFormat(r.Args[0])
		if err != nil {
			return fail("%v", err)
		}
		if r.Action != "set-method" && strings.Contains(value, "%") {
			// Caddy's rewrite decodes the new path: an escape would not
			// reach the server as written.
			return fail("percent-encoded characters are not translated")
		}
		rw := rewrite.Rewrite{}
		switch r.Action {
		case "set-path":
			if strings.ContainsAny(value, "?#") {
				return fail("a path containing '?' or '#' is not translated")
			}
			rw.URI = value
		case "set-query":
			rw.URI = "?" + value
		case "set-uri":
			if strings.Contains(value, "#") || !strings.HasPrefix(value, "/") {
				return fail("only a URI starting with '/' is translated")
			}
			rw.URI = value
			if !strings.Contains(value, "?") {
				// A URI without a query drops the request's query.
				rw.URI += "?"
			}
		case "set-method":
			// Caddy's rewrite upper-cases the method; HAProxy keeps it
			// as written.
			if value == "" || strings.ContainsAny(value, "{} ") || value != strings.ToUpper(value) {
				return fail("only a literal upper-case method is translated")
			}
			rw.Method = value
		}
		return one(caddyconfig.JSONModuleObject(rw, "handler", "rewrite", nil))
	}
	return fail("not translated")
}

// tarpitDelay is how long a section's tarpit rules hold a request: its
// "timeout tarpit", else its "timeout connect", which only backends have
// (a frontend without timeout tarpit answers at once, as HAProxy 2.6 does).
func tarpitDelay(p *config.Proxy) (time.Duration, error) {
	for _, d := range []config.Duration{p.Timeouts.Tarpit, p.Timeouts.Connect} {
		if !d.Set {
			continue
		}
		if d.Infinite {
			return 0, fmt.Errorf("an infinite tarpit timeout (%s) is not translated", d.Pos)
		}
		return d.D, nil
	}
	return 0, nil
}

// redirectRoutes translates the legacy "redirect" rules.
func (t *translator) redirectRoutes(p *config.Proxy) caddyhttp.RouteList {
	var routes caddyhttp.RouteList
	for _, r := range p.Redirects {
		cm, ok := t.condition("redirect", r.Cond)
		h, err := t.redirect(r.Pos.File, r.Args)
		if err != nil {
			t.errorf(r.Pos, "redirect", "%v", err)
			continue
		}
		if !ok || cm.never {
			continue
		}
		routes = append(routes, caddyhttp.Route{MatcherSetsRaw: cm.sets, HandlersRaw: h, Terminal: true})
	}
	return routes
}

// redirect translates "location|prefix|scheme <value> [code N] [drop-query]
// [append-slash]" into handlers that answer the redirect.
func (t *translator) redirect(cfgFile string, args []string) ([]json.RawMessage, error) {
	rf := &ruleFormat{t: t, file: cfgFile}
	if len(args) < 2 {
		return nil, fmt.Errorf("expects location, prefix or scheme followed by a value")
	}
	kind, value := args[0], args[1]
	code := http.StatusFound
	dropQuery, appendSlash := false, false
	for i := 2; i < len(args); i++ {
		switch args[i] {
		case "code":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("'code' needs a status")
			}
			n, err := strconv.Atoi(args[i+1])
			if err != nil || !slices.Contains([]int{301, 302, 303, 307, 308}, n) {
				return nil, fmt.Errorf("redirect code %q must be 301, 302, 303, 307 or 308", args[i+1])
			}
			code = n
			i++
		case "drop-query":
			dropQuery = true
		case "append-slash":
			appendSlash = true
		default:
			return nil, fmt.Errorf("redirect option %q is not translated", args[i])
		}
	}
	v, err := rf.format(value)
	if err != nil {
		return nil, err
	}
	var location string
	switch kind {
	case "location":
		return append(rf.pre, redirectResponse(code, v)), nil
	case "prefix":
		if v == "/" {
			// "prefix /" redirects to the same URI.
			v = ""
		}
		location = v
	case "scheme":
		location = v + "://{http.request.hostport}"
	default:
		return nil, fmt.Errorf("expects location, prefix or scheme, found %q", kind)
	}
	// {http.request.uri} is the path and query as sent; dropping the
	// query first leaves the path alone.
	pre := rf.pre
	if dropQuery {
		pre = append(pre, caddyconfig.JSONModuleObject(rewrite.Rewrite{URI: "?"}, "handler", "rewrite", nil))
	}
	uri := location + "{http.request.uri}"
	if !appendSlash {
		return append(pre, redirectResponse(code, uri)), nil
	}
	// append-slash adds a slash to a URI (after drop-query, a path) that
	// does not end with one; HAProxy does so even after a query.
	endsWithSlash := matchers.MatchACL{Terms: []matchers.Term{{Any: []matchers.Test{{Fetch: "url", Match: matchers.MatchEnd, Values: []string{"/"}}}}}}
	choose := caddyhttp.Subroute{Routes: caddyhttp.RouteList{
		{MatcherSetsRaw: caddyhttp.RawMatcherSets{{"haproxy_acl": caddyconfig.JSON(endsWithSlash, nil)}}, HandlersRaw: []json.RawMessage{redirectResponse(code, uri)}, Terminal: true},
		{HandlersRaw: []json.RawMessage{redirectResponse(code, uri+"/")}},
	}}
	return append(pre, caddyconfig.JSONModuleObject(choose, "handler", "subroute", nil)), nil
}

// redirectResponse answers a redirect the way HAProxy does: no body, and
// Cache-Control: no-cache except for permanent redirects.
func redirectResponse(code int, location string) json.RawMessage {
	h := http.Header{"Location": {location}, "Content-Length": {"0"}}
	if code != http.StatusMovedPermanently && code != http.StatusPermanentRedirect {
		h.Set("Cache-Control", "no-cache")
	}
	return caddyconfig.JSONModuleObject(caddyhttp.StaticResponse{
		StatusCode: caddyhttp.WeakString(strconv.Itoa(code)),
		Headers:    h,
	}, "handler", "static_response", nil)
}

// reply translates the options of "return" and "deny": [status|deny_status
// N] [content-type T] [string S | lf-string F | file P | lf-file P |
// errorfile P | default-errorfiles] [hdr N F]*. A deny without options
// answers the error page for its status; without a payload, other replies
// have an empty body.
func (t *translator) reply(r *config.Rule, pages []*config.Proxy) ([]json.RawMessage, error) {
	rf := &ruleFormat{t: t, file: r.Pos.File}
	resp, err := t.replyResponse(r, pages, rf)
	if err != nil {
		return nil, err
	}
	return append(rf.pre, caddyconfig.JSONModuleObject(resp, "handler", "static_response", nil)), nil
}

// replyResponse builds the answer of a reply (see reply); rf translates its
// log-format strings (nil: placeholders only).
func (t *translator) replyResponse(r *config.Rule, pages []*config.Proxy, rf *ruleFormat) (caddyhttp.StaticResponse, error) {
	// A tarpit answers like a deny once its delay is over, 500 by
	// default.
	deny := r.Action == "deny" || r.Action == "tarpit"
	code := http.StatusOK
	switch r.Action {
	case "deny":
		code = http.StatusForbidden
	case "tarpit":
		code = http.StatusInternalServerError
	}
	var contentType, body string
	payload := ""
	var extra [][2]string
	var full *caddyhttp.StaticResponse
	var section *config.HTTPErrors
	args := r.Args
	for i := 0; i < len(args); i++ {
		opt := args[i]
		need := 1
		switch opt {
		case "hdr":
			need = 2
		case "default-errorfiles":
			need = 0
		}
		if i+need >= len(args) {
			return caddyhttp.StaticResponse{}, fmt.Errorf("'%s' needs %d argument(s)", opt, need)
		}
		switch opt {
		case "status", "deny_status":
			if opt == "status" && deny || opt == "deny_status" && !deny {
				return caddyhttp.StaticResponse{}, fmt.Errorf("unknown option %q", opt)
			}
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n < 200 || n > 599 {
				return caddyhttp.StaticResponse{}, fmt.Errorf("invalid status %q", args[i+1])
			}
			code = n
		case "content-type":
			contentType = args[i+1]
		case "string", "lf-string", "file", "lf-file", "errorfile", "default-errorfiles":
			if payload != "" {
				return caddyhttp.StaticResponse{}, fmt.Errorf("'%s' and '%s' cannot both be given", payload, opt)
			}
			payload = opt
			var err error
			switch opt {
			case "string":
				body = escapeBraces(args[i+1])
			case "lf-string":
				body, err = rf.format(args[i+1])
			case "file", "lf-file":
				var data []byte
				data, err = readConfigFile(relativeToConfig(r.Pos.File, args[i+1]))
				body = escapeBraces(string(data))
				if err == nil && opt == "lf-file" {
					body, err = rf.format(string(data))
				}
			case "errorfile":
				var resp caddyhttp.StaticResponse
				resp, err = parseErrorFile(r.Pos.File, args[i+1])
				full = &resp
			}
			if err != nil {
				return caddyhttp.StaticResponse{}, err
			}
		case "hdr":
			v, err := rf.format(args[i+2])
			if err != nil {
				return caddyhttp.StaticResponse{}, err
			}
			extra = append(extra, [2]string{args[i+1], v})
		case "errorfiles":
			if payload != "" {
				return caddyhttp.StaticResponse{}, fmt.Errorf("'%s' and '%s' cannot both be given", payload, opt)
			}
			payload = opt
			section = t.cfg.HTTPErrors[args[i+1]]
			if section == nil {
				return caddyhttp.StaticResponse{}, fmt.Errorf("no http-errors section %q", args[i+1])
			}
		default:
			return caddyhttp.StaticResponse{}, fmt.Errorf("option %q is not translated", opt)
		}
		i += need
	}
	var resp caddyhttp.StaticResponse
	if section != nil {
		// The section's page for the status; without one HAProxy answers
		// an empty reply.
		if ef := section.ErrorFiles[code]; ef != nil {
			if page, ok := t.errorFile(ef); ok {
				full = &page
			}
		} else {
			t.warnf(r.Pos, r.Keyword+" "+r.Action, "http-errors section %q has no page for %d: the answer is empty, as in HAProxy", section.Name, code)
		}
	}
	switch {
	case full != nil:
		resp = *full
	case payload == "string" || payload == "lf-string" || payload == "file" || payload == "lf-file":
		if contentType == "" && body != "" {
			return caddyhttp.StaticResponse{}, fmt.Errorf("a body needs a content-type")
		}
		resp = caddyhttp.StaticResponse{StatusCode: caddyhttp.WeakString(strconv.Itoa(code)), Headers: http.Header{}, Body: body}
		if contentType != "" {
			resp.Headers.Set("Content-Type", escapeBraces(contentType))
		}
		if body == "" {
			resp.Headers.Set("Content-Length", "0")
		}
	case deny && payload == "" && contentType == "" && len(extra) == 0 || payload == "default-errorfiles":
		// A bare deny answers the error page; one with reply options
		// but no payload answers an empty body.
		if errorMessages[code] == "" && t.pageFile(code, pages) == nil {
			return caddyhttp.StaticResponse{}, fmt.Errorf("status %d has no HAProxy error page", code)
		}
		resp = t.errorResponse(code, pages)
	default:
		if contentType != "" {
			return caddyhttp.StaticResponse{}, fmt.Errorf("content-type without a body is not translated")
		}
		resp = caddyhttp.StaticResponse{StatusCode: caddyhttp.WeakString(strconv.Itoa(code)), Headers: http.Header{"Content-Length": {"0"}}}
	}
	if len(extra) > 0 {
		h := http.Header{}
		for k, v := range resp.Headers {
			h[k] = v
		}
		for _, kv := range extra {
			h.Add(kv[0], kv[1])
		}
		resp.Headers = h
	}
	if len(resp.Headers) == 0 {
		resp.Headers = nil
	}
	return resp, nil
}

// relativeToConfig resolves a path from the configuration file's
// directory.
func relativeToConfig(cfgFile, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(cfgFile), path)
}

// responseRuleRoutes translates a section's http-response rules (and the
// legacy rsp* lines) into response header handlers, in reverse order (see
// backendChain).
func (t *translator) responseRuleRoutes(p *config.Proxy) caddyhttp.RouteList {
	return t.headerRuleRoutes(p.HTTPResponse)
}

// afterResponseRoutes translates the http-after-response rules of a
// frontend or listen section. They apply to every response, HAProxy's own
// answers (deny, redirect, monitor-uri, error pages) included: their
// routes come first among the frontend's routes and its error routes, so
// that their deferred header operations wrap everything else. A backend's
// rules are refused: Caddy answers a failed connection outside the
// backend's handlers.
func (t *translator) afterResponseRoutes(fe *config.Proxy) caddyhttp.RouteList {
	return t.headerRuleRoutes(fe.HTTPAfterResponse)
}

// checkBackendAfterResponse refuses the http-after-response rules of a
// backend (see afterResponseRoutes).
func (t *translator) checkBackendAfterResponse(be *config.Proxy) {
	for _, r := range be.HTTPAfterResponse {
		t.errorf(r.Pos, r.Keyword+" "+r.Action, "http-after-response rules are translated in frontend and listen sections only (Caddy answers a failed connection outside the backend's handlers); move the rule to the frontend")
	}
}

// headerRuleRoutes translates http-response or http-after-response rules
// into response header handlers, in reverse order (see backendChain).
func (t *translator) headerRuleRoutes(rules []*config.Rule) caddyhttp.RouteList {
	var routes caddyhttp.RouteList
	for _, r := range rules {
		if logOnlyAction(r) {
			continue
		}
		kw := r.Keyword + " " + r.Action
		if !strings.HasPrefix(r.Keyword, "http-") {
			kw = r.Keyword
		}
		cond, require, err := splitStatusCondition(r.Cond)
		if err != nil {
			t.errorf(r.Pos, kw, "%v", err)
			continue
		}
		t.atResponse = true
		cm, ok := t.condition(kw, cond)
		t.atResponse = false
		var h json.RawMessage
		var pre []json.RawMessage
		switch {
		case r.Action == "replace-value" && strings.HasPrefix(r.Keyword, "http-"):
			h, err = replaceValueHandler(r.Args, true, require)
		case r.Action == "set-status" && strings.HasPrefix(r.Keyword, "http-"):
			h, err = setStatusHandler(r.Args, require)
		default:
			var ops *headers.HeaderOps
			ops, pre, err = t.responseOps(r)
			h = caddyconfig.JSONModuleObject(headers.Handler{Response: &headers.RespHeaderOps{HeaderOps: ops, Deferred: true, Require: require}}, "handler", "headers", nil)
		}
		if err != nil {
			t.errorf(r.Pos, kw, "%v", err)
			continue
		}
		if !ok || cm.never || require != nil && len(require.StatusCode) == 0 {
			continue
		}
		routes = append(routes, caddyhttp.Route{MatcherSetsRaw: cm.sets, HandlersRaw: append(pre, h)})
	}
	slices.Reverse(routes)
	return routes
}

// responseOps translates the header action of an http-response rule, with
// the handlers that must run before it (see headerValue).
func (t *translator) responseOps(r *config.Rule) (*headers.HeaderOps, []json.RawMessage, error) {
	if r.Keyword == "http-response" || r.Keyword == "http-after-response" {
		if r.Action == "set-header" || r.Action == "add-header" {
			if len(r.Args) != 2 {
				return nil, nil, fmt.Errorf("expects a header name and a value")
			}
			if strings.Contains(r.Args[1], "var(req.") {
				return nil, nil, fmt.Errorf("req variables end with the request: use a txn variable in a response rule")
			}
			value, pre, err := t.headerValue(r.Pos.File, r.Args[1], true)
			if err != nil {
				return nil, nil, err
			}
			if r.Action == "set-header" {
				return &headers.HeaderOps{Set: http.Header{r.Args[0]: {value}}}, pre, nil
			}
			return &headers.HeaderOps{Add: http.Header{r.Args[0]: {value}}}, pre, nil
		}
	}
	ops, err := responseOps(r)
	return ops, nil, err
}

// responseOps translates the header actions of an http-response rule that
// need no handler before them.
func responseOps(r *config.Rule) (*headers.HeaderOps, error) {
	switch r.Keyword {
	case "rspadd":
		name, value, ok := legacyHeader(r.Args)
		if !ok {
			return nil, fmt.Errorf("expects one '<name>: <value>' argument")
		}
		return &headers.HeaderOps{Add: http.Header{name: {escapeBraces(value)}}}, nil
	case "rspidel":
		return legacyDelete(r.Args)
	case "http-response", "http-after-response":
	default:
		return nil, fmt.Errorf("not translated: use the http-response equivalent")
	}
	switch r.Action {
	case "set-header", "add-header":
		if len(r.Args) != 2 {
			return nil, fmt.Errorf("expects a header name and a value")
		}
		value, err := logFormat(r.Args[1])
		if err != nil {
			return nil, err
		}
		if strings.Contains(r.Args[1], "var(req.") {
			return nil, fmt.Errorf("req variables end with the request: use a txn variable in a response rule")
		}
		if r.Action == "set-header" {
			return &headers.HeaderOps{Set: http.Header{r.Args[0]: {value}}}, nil
		}
		return &headers.HeaderOps{Add: http.Header{r.Args[0]: {value}}}, nil
	case "del-header":
		return deleteHeaderOps(r.Args)
	case "replace-header":
		return replaceHeaderOps(r.Args)
	}
	return nil, fmt.Errorf("not translated")
}

// splitStatusCondition takes the response status tests out of an
// http-response condition: they become the header operations' required
// status codes, the rest stays a request condition. Only terms written side
// by side (no "or", no "unless") testing "status" with integer patterns
// are translated; other tests of the response are refused.
func splitStatusCondition(c *config.Condition) (*config.Condition, *caddyhttp.ResponseMatcher, error) {
	if c == nil || !condUsesResponse(c) {
		return c, nil, nil
	}
	unsupported := fmt.Errorf("conditions on the response are translated only as positive 'status' tests joined by and (no or, unless, !, res.* or converters)")
	if c.Unless || len(c.Terms) != 1 {
		return nil, nil, unsupported
	}
	rest := &config.Condition{Pos: c.Pos}
	var kept []config.CondTerm
	var codes []int
	first := true
	for _, ct := range c.Terms[0] {
		acls := ct.Defs
		if ct.Anonymous != nil {
			acls = []*config.ACL{ct.Anonymous}
		}
		if !condUsesResponse(&config.Condition{Terms: [][]config.CondTerm{{ct}}}) {
			kept = append(kept, ct)
			continue
		}
		if ct.Negate {
			return nil, nil, unsupported
		}
		// The lines of one ACL are OR'ed: the union of their codes.
		var union []int
		for _, a := range acls {
			got, ok := statusCodes(a)
			if !ok {
				return nil, nil, unsupported
			}
			union = append(union, got...)
		}
		if first {
			codes, first = union, false
			continue
		}
		codes = slices.DeleteFunc(codes, func(c int) bool { return !slices.Contains(union, c) })
	}
	if len(kept) > 0 {
		rest.Terms = [][]config.CondTerm{kept}
	} else {
		rest = nil
	}
	slices.Sort(codes)
	return rest, &caddyhttp.ResponseMatcher{StatusCode: statusClasses(slices.Compact(codes))}, nil
}

// statusClasses writes a whole class of codes (500 to 599) as Caddy's class
// number (5).
func statusClasses(codes []int) []int {
	var out []int
	for i := 0; i < len(codes); {
		c := codes[i]
		if c%100 == 0 && i+99 < len(codes) && codes[i+99] == c+99 {
			out = append(out, c/100)
			i += 100
			continue
		}
		out = append(out, c)
		i++
	}
	return out
}

// statusCodes lists the codes an ACL on "status" matches (its patterns
// read as HAProxy's integer patterns).
func statusCodes(a *config.ACL) ([]int, bool) {
	if a.Fetch != "status" || len(a.Patterns) == 0 {
		return nil, false
	}
	for _, f := range a.Flags {
		if f[0] != "-m" || f[1] != "int" {
			return nil, false
		}
	}
	match, err := matchers.IntMatcher(a.Patterns)
	if err != nil {
		return nil, false
	}
	var codes []int
	for code := 100; code <= 999; code++ {
		if match(int64(code)) {
			codes = append(codes, code)
		}
	}
	return codes, true
}

// condUsesResponse reports whether a condition tests the response.
func condUsesResponse(c *config.Condition) bool {
	for _, g := range c.Terms {
		for _, ct := range g {
			acls := ct.Defs
			if ct.Anonymous != nil {
				acls = []*config.ACL{ct.Anonymous}
			}
			for _, a := range acls {
				if strings.HasPrefix(a.Fetch, "res.") || strings.HasPrefix(a.Fetch, "status") || strings.HasPrefix(a.Fetch, "shdr") || strings.HasPrefix(a.Fetch, "scook") {
					return true
				}
			}
		}
	}
	return false
}

func requestHeaders(ops *headers.HeaderOps) json.RawMessage {
	return caddyconfig.JSONModuleObject(headers.Handler{Request: ops}, "handler", "headers", nil)
}

// deleteHeaderOps translates "del-header <name> [-m str|beg|end|sub]".
// Header names compare case-insensitively.
func deleteHeaderOps(args []string) (*headers.HeaderOps, error) {
	if len(args) != 1 && (len(args) != 3 || args[1] != "-m") {
		return nil, fmt.Errorf("expects a header name and optionally -m <method>")
	}
	name := args[0]
	if strings.ContainsAny(name, "*{}") {
		return nil, fmt.Errorf("header name %q is not translated", name)
	}
	method := "str"
	if len(args) == 3 {
		method = args[2]
	}
	// Caddy's wildcards compare with the lower-cased header name.
	lower := strings.ToLower(name)
	switch method {
	case "str":
	case "beg":
		name = lower + "*"
	case "end":
		name = "*" + lower
	case "sub":
		name = "*" + lower + "*"
	default:
		return nil, fmt.Errorf("del-header -m %s is not translated (str, beg, end and sub are)", method)
	}
	return &headers.HeaderOps{Delete: []string{name}}, nil
}

// replaceHeaderOps translates "replace-header <name> <regex> <replacement>":
// every value of the header that the regex matches is replaced entirely by
// the replacement, where \1…\9 refer to the regex's groups.
func replaceHeaderOps(args []string) (*headers.HeaderOps, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("expects a header name, a regular expression and a replacement")
	}
	// The regex may match anywhere; the whole value is replaced, so the
	// search expression takes in what is around the match.
	search := "(?s)^.*?(?:" + args[1] + ").*$"
	if _, err := regexp.Compile(search); err != nil {
		return nil, fmt.Errorf("regular expression %q: %v", args[1], err)
	}
	repl, err := regexReplacement(args[2])
	if err != nil {
		return nil, err
	}
	return &headers.HeaderOps{Replace: map[string][]headers.Replacement{
		args[0]: {{SearchRegexp: search, Replace: repl}},
	}}, nil
}

// replaceValueHandler translates "replace-value <name> <regex>
// <replacement>" into the haproxy_replace_value handler.
func replaceValueHandler(args []string, response bool, require *caddyhttp.ResponseMatcher) (json.RawMessage, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("expects a header name, a regular expression and a replacement")
	}
	repl, err := goReplacement(args[2], false)
	if err != nil {
		return nil, err
	}
	rv := matchers.ReplaceValue{Header: args[0], Regexp: args[1], Replace: repl, Response: response, Require: require}
	if err := rv.Validate(); err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(rv, "handler", "haproxy_replace_value", nil), nil
}

// regexReplacement converts a replacement with \N back-references into Go's
// ${N} form, braces protected from Caddy's placeholders. Only literal text
// is translated.
func regexReplacement(s string) (string, error) { return goReplacement(s, true) }

// goReplacement converts a replacement with \N back-references into Go's
// ${N} form; placeholders protects braces for a Caddy handler that expands
// placeholders in it.
func goReplacement(s string, placeholders bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		case c == '%':
			return "", fmt.Errorf("log-format expressions in a replacement (%q) are not translated", s)
		case c == '$':
			b.WriteString("$$")
		case placeholders && (c == '{' || c == '}'):
			b.WriteString(`\` + string(c))
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// legacyHeader splits the "Name: value" argument of reqadd and rspadd.
func legacyHeader(args []string) (name, value string, ok bool) {
	if len(args) != 1 {
		return "", "", false
	}
	name, value, ok = strings.Cut(args[0], ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", "", false
	}
	return name, strings.TrimLeft(value, " \t"), true
}

// legacyHeaderDelete matches the reqidel/rspidel regexes that delete whole
// headers by name: "^Name:" alone or followed by ".*".
var legacyHeaderDelete = regexp.MustCompile(`^\^([A-Za-z0-9!#$%&'*+.^_|~-]+):(\.\*)?$`)

// legacyDelete translates "reqidel|rspidel <regex>" when the regex names a
// header (case-insensitively, as the 'i' forms compare): the header is
// deleted. Regexes on values cannot be expressed as Caddy header
// operations.
func legacyDelete(args []string) (*headers.HeaderOps, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("expects one regular expression")
	}
	m := legacyHeaderDelete.FindStringSubmatch(args[0])
	if m == nil || strings.ContainsAny(m[1], `\.*+?|^$`) {
		return nil, fmt.Errorf("only '^<Header-Name>:' is translated (as del-header <Header-Name>); write an http-request/http-response del-header or replace-header rule instead")
	}
	return &headers.HeaderOps{Delete: []string{m[1]}}, nil
}

// escapeBraces protects literal braces from Caddy's placeholder expansion.
func escapeBraces(s string) string {
	return strings.NewReplacer("{", `\{`, "}", `\}`).Replace(s)
}

// formatFetches maps the sample fetches of log-format expressions that have
// an exact Caddy placeholder.
var formatFetches = map[string]string{
	"src":           "{http.request.remote.host}",
	"src_port":      "{http.request.remote.port}",
	"dst":           "{http.request.local.host}",
	"dst_port":      "{http.request.local.port}",
	"req.hdr(host)": "{http.request.hostport}",
	"hdr(host)":     "{http.request.hostport}",
	"req.hdr(Host)": "{http.request.hostport}",
	"hdr(Host)":     "{http.request.hostport}",
	// HAProxy's method stays the client's after set-method.
	"method":     "{http.request.orig_method}",
	"query":      "{http.request.uri.query}",
	"ssl_fc_sni": "{http.request.tls.server_name}",
}

// formatAliases maps the %-letters of log-format that have an exact Caddy
// placeholder.
var formatAliases = map[string]string{
	"ci": "{http.request.remote.host}",
	"cp": "{http.request.remote.port}",
	"fi": "{http.request.local.host}",
	"fp": "{http.request.local.port}",
	"HM": "{http.request.orig_method}",
}

// logFormat converts an HAProxy log-format string into a Caddy string
// with placeholders. Literal text is kept (braces escaped); %[fetch] and
// the %-letters listed in formatFetches and formatAliases become
// placeholders; anything else is an error.
func logFormat(s string) (string, error) { return logFormatWith(s, nil) }

// logFormatWith is logFormat with a translation for the %[expressions]
// that have no placeholder (nil: none).
func logFormatWith(s string, exprFn func(string) (string, error)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' || c == '}' {
			b.WriteString(`\` + string(c))
			continue
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("log-format %q ends with '%%'", s)
		}
		if s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if strings.HasSuffix(b.String(), `\`) {
			return "", fmt.Errorf("log-format %q: a backslash before an expression is not translated", s)
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return "", fmt.Errorf("log-format %q: missing ']'", s)
			}
			expr := rest[1:end]
			ph, ok := formatFetches[expr]
			if name, isVar := strings.CutPrefix(expr, "var("); isVar && strings.HasSuffix(name, ")") && !strings.Contains(name, ",") {
				// A variable not set reads as an empty string, as in
				// HAProxy.
				name = strings.TrimSuffix(name, ")")
				if scope, _, _ := strings.Cut(name, "."); scope != "txn" && scope != "req" {
					return "", fmt.Errorf("log-format expression %%[%s]: only txn and req variables are translated", expr)
				}
				ph, ok = matchers.VarPlaceholder(name), true
			}
			if !ok && exprFn != nil {
				var err error
				if ph, err = exprFn(expr); err != nil {
					return "", fmt.Errorf("log-format expression %%[%s]: %v", expr, err)
				}
				ok = true
			}
			if !ok {
				return "", fmt.Errorf("log-format expression %%[%s] is not translated", expr)
			}
			b.WriteString(ph)
			i += end + 1
			continue
		}
		j := 0
		for j < len(rest) && (rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= 'A' && rest[j] <= 'Z') {
			j++
		}
		alias := rest[:j]
		ph, ok := formatAliases[alias]
		if !ok {
			if alias == "" {
				return "", fmt.Errorf("log-format %q: '%%' must be followed by [expression], a variable or '%%'", s)
			}
			return "", fmt.Errorf("log-format variable %%%s is not translated", alias)
		}
		b.WriteString(ph)
		i += j
	}
	return b.String(), nil
}

// errorMessages are HAProxy's built-in error pages.
var errorMessages = map[int]string{
	400: "Your browser sent an invalid request.",
	401: "You need a valid user and password to access this content.",
	403: "Request forbidden by administrative rules.",
	404: "The resource could not be found.",
	405: "A request was made of a resource using a request method not supported by that resource",
	408: "Your browser didn't send a complete request in time.",
	410: "The resource is no longer available and will not be available again.",
	429: "You have sent too many requests in a given amount of time.",
	500: "An internal server error occurred.",
	502: "The server returned an invalid or incomplete response.",
	503: "No server is available to handle this request.",
	504: "The server didn't respond in time.",
}

// errorPage answers with the errorfile for the status of the first of
// pages that has one, or HAProxy's built-in page.
func (t *translator) errorPage(code int, pages ...*config.Proxy) json.RawMessage {
	return caddyconfig.JSONModuleObject(t.errorResponse(code, pages), "handler", "static_response", nil)
}

func (t *translator) errorResponse(code int, pages []*config.Proxy) caddyhttp.StaticResponse {
	if ef := t.pageFile(code, pages); ef != nil {
		if resp, ok := t.errorFile(ef); ok {
			return resp
		}
	}
	return builtinErrorResponse(code)
}

// pageFile returns the errorfile for a status of the first of pages that
// has one.
func (t *translator) pageFile(code int, pages []*config.Proxy) *config.ErrorFile {
	for _, p := range pages {
		if ef := t.sectionPage(p, code); ef != nil {
			return ef
		}
	}
	return nil
}

// builtinErrorResponse is HAProxy's built-in page for a status.
func builtinErrorResponse(code int) caddyhttp.StaticResponse {
	return caddyhttp.StaticResponse{
		StatusCode: caddyhttp.WeakString(strconv.Itoa(code)),
		Headers: http.Header{
			"Content-Type":  {"text/html"},
			"Cache-Control": {"no-cache"},
		},
		Body: fmt.Sprintf("<html><body><h1>%d %s</h1>\n%s\n</body></html>\n", code, http.StatusText(code), errorMessages[code]),
	}
}

// errorFile reads an errorfile: a complete HTTP response, sent as it is
// (its own status, headers and body). It is read once, when the
// configuration is adapted, as HAProxy reads it at startup. A relative
// path is taken from the configuration file's directory.
func (t *translator) errorFile(ef *config.ErrorFile) (caddyhttp.StaticResponse, bool) {
	if r, ok := t.errorFiles[ef]; ok {
		return r.resp, r.ok
	}
	if ef.Location != "" {
		return errorLocation(ef), true
	}
	if ef.Keyword == "http-error" {
		// The reply options of "return", with the page's status.
		r := &config.Rule{Pos: ef.Pos, Keyword: "http-error", Action: "return", Args: append([]string{"status", strconv.Itoa(ef.Code)}, ef.Reply...)}
		resp, err := t.replyResponse(r, nil, nil)
		if err != nil {
			t.errorf(ef.Pos, "http-error", "%v", err)
		}
		t.errorFiles[ef] = errorFileResult{resp, err == nil}
		return resp, err == nil
	}
	resp, err := parseErrorFile(ef.Pos.File, ef.File)
	if err != nil {
		t.errorf(ef.Pos, ef.Keyword, "%s: %v", ef.File, err)
	} else if resp.Body != "" && resp.Headers.Get("Content-Type") == "" {
		// Caddy's static_response types every body it sends.
		t.warnf(ef.Pos, ef.Keyword, "%s has no Content-Type header: Caddy sends it as text/plain", ef.File)
	}
	t.errorFiles[ef] = errorFileResult{resp, err == nil}
	return resp, err == nil
}

// errorLocation is the answer of an errorloc line: a redirect to its URL
// (302, or 303 for errorloc303) in place of the error, whatever its status.
func errorLocation(ef *config.ErrorFile) caddyhttp.StaticResponse {
	code := http.StatusFound
	if ef.Keyword == "errorloc303" {
		code = http.StatusSeeOther
	}
	return caddyhttp.StaticResponse{
		StatusCode: caddyhttp.WeakString(strconv.Itoa(code)),
		Headers: http.Header{
			"Location":       {escapeBraces(ef.Location)},
			"Cache-Control":  {"no-cache"},
			"Content-Length": {"0"},
		},
	}
}

// checkErrorFiles warns about errorfiles for errors that Caddy answers
// itself (bad requests, request timeouts, internal errors), whose pages are
// Caddy's. The proxy errors (502, 503, 504) are HAProxy's pages: see
// errorRoutes.
func (t *translator) checkErrorFiles(p *config.Proxy) {
	t.checkErrorFilesSections(p)
	for _, code := range []int{400, 408, 500} {
		ef := t.sectionPage(p, code)
		if ef == nil {
			continue
		}
		key := fmt.Sprintf("%s %d", ef.Pos, code)
		if t.warned[key] {
			continue
		}
		t.warned[key] = true
		t.warnf(ef.Pos, ef.Keyword, "Caddy answers %d errors itself; this page is used only by deny and tarpit rules answering %d", code, code)
	}
}

// errorFileResult caches a parsed errorfile.
type errorFileResult struct {
	resp caddyhttp.StaticResponse
	ok   bool
}

func parseErrorFile(cfgFile, path string) (caddyhttp.StaticResponse, error) {
	data, err := readConfigFile(relativeToConfig(cfgFile, path))
	if err != nil {
		return caddyhttp.StaticResponse{}, err
	}
	if len(data) == 0 {
		// An empty errorfile makes HAProxy close without answering.
		return caddyhttp.StaticResponse{Abort: true}, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
	if err != nil {
		return caddyhttp.StaticResponse{}, fmt.Errorf("not an HTTP response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil && len(body) == 0 {
		return caddyhttp.StaticResponse{}, fmt.Errorf("reading the body: %v", err)
	}
	out := caddyhttp.StaticResponse{
		StatusCode: caddyhttp.WeakString(strconv.Itoa(resp.StatusCode)),
		Headers:    http.Header{},
		Body:       escapeBraces(string(body)),
	}
	for name, values := range resp.Header {
		switch name {
		case "Connection", "Content-Length", "Transfer-Encoding", "Keep-Alive":
			// Connection management is the server's.
			continue
		}
		for _, v := range values {
			out.Headers.Add(name, escapeBraces(v))
		}
	}
	return out, nil
}

// monitorOK is HAProxy's monitor-uri answer: the errorfile for 200 when
// one is set.
func (t *translator) monitorOK(fe *config.Proxy) json.RawMessage {
	if ef := t.pageFile(http.StatusOK, []*config.Proxy{fe}); ef != nil {
		if resp, ok := t.errorFile(ef); ok {
			return caddyconfig.JSONModuleObject(resp, "handler", "static_response", nil)
		}
	}
	return caddyconfig.JSONModuleObject(caddyhttp.StaticResponse{
		StatusCode: "200",
		Headers: http.Header{
			"Content-Type":  {"text/html"},
			"Cache-Control": {"no-cache"},
		},
		Body: "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
	}, "handler", "static_response", nil)
}
