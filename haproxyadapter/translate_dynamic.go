package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/matchers"
)

// A use_backend rule may name its backend with a log-format expression
// ("use_backend be_%[req.hdr(host),lower]"). HAProxy evaluates it when the
// condition holds and looks the name up; an unknown name sends the request
// to the default backend. The translation tests the expression against the
// name of every backend it could produce, in a subroute that falls back to
// the default backend.

// dynamicName is a backend name made of literal text around one sample
// expression.
type dynamicName struct {
	prefix, suffix string
	test           matchers.Test
}

// parseDynamicName reads "<prefix>%[<expr>]<suffix>".
func parseDynamicName(cfgFile, name string) (dynamicName, error) {
	start := strings.Index(name, "%[")
	end := -1
	if start >= 0 {
		end = strings.IndexByte(name[start:], ']') + start
	}
	if start < 0 || end < start {
		return dynamicName{}, fmt.Errorf("backend name %q: expects literal text around one %%[expression]", name)
	}
	d := dynamicName{prefix: name[:start], suffix: name[end+1:]}
	if strings.Contains(d.prefix+d.suffix, "%") {
		return dynamicName{}, fmt.Errorf("backend name %q: only one %%[expression] and literal text are translated", name)
	}
	fetch, args, match, convs, err := sampleExpression(cfgFile, name[start+2:end])
	if err != nil {
		return dynamicName{}, fmt.Errorf("backend name %q: %v", name, err)
	}
	if match != "" {
		return dynamicName{}, fmt.Errorf("backend name %q: %s is not a sample fetch", name, name[start+2:end])
	}
	d.test = matchers.Test{Fetch: fetch, Args: args, Converters: convs, Single: true, Match: matchers.MatchStr}
	return d, nil
}

// dynamicCandidates lists the HTTP backends a dynamic name can produce,
// with the sample that selects each.
func (t *translator) dynamicCandidates(d dynamicName) (backends []*config.Proxy, samples []string) {
	for _, p := range t.cfg.Proxies {
		if !p.Kind.HasBackend() || p.Mode != "http" {
			continue
		}
		s, ok := strings.CutPrefix(p.Name, d.prefix)
		if s, ok2 := strings.CutSuffix(s, d.suffix); ok && ok2 && len(p.Name) >= len(d.prefix)+len(d.suffix) {
			backends = append(backends, p)
			samples = append(samples, s)
		}
	}
	return backends, samples
}

// dynamicUseBackend translates a use_backend rule with a dynamic name into
// the handler that picks the backend; fallback serves the requests whose
// name matches no backend. It returns nil after an error.
func (t *translator) dynamicUseBackend(fe *config.Proxy, ub *config.UseBackend, fallback json.RawMessage) json.RawMessage {
	d, err := parseDynamicName(ub.Pos.File, ub.Backend)
	if err != nil {
		t.errorf(ub.Pos, "use_backend", "%v", err)
		return nil
	}
	backends, samples := t.dynamicCandidates(d)
	var routes caddyhttp.RouteList
	for i, be := range backends {
		if samples[i] == "" {
			// HAProxy writes a missing sample as nothing: the name would
			// be the literal text alone, which the test cannot tell apart.
			t.errorf(ub.Pos, "use_backend", "backend %q is named by the literal text of %q alone; rename it", be.Name, ub.Backend)
			return nil
		}
		h := t.backendChain(fe, be)
		if h == nil {
			continue
		}
		test := d.test
		test.Values = []string{samples[i]}
		if err := test.Validate(); err != nil {
			t.errorf(ub.Pos, "use_backend", "%v", err)
			return nil
		}
		acl := matchers.MatchACL{Terms: []matchers.Term{{Name: "backend " + be.Name, Any: []matchers.Test{test}}}}
		routes = append(routes, caddyhttp.Route{
			MatcherSetsRaw: caddyhttp.RawMatcherSets{{"haproxy_acl": caddyconfig.JSON(acl, nil)}},
			HandlersRaw:    []json.RawMessage{h},
			Terminal:       true,
		})
	}
	if fallback != nil {
		routes = append(routes, caddyhttp.Route{HandlersRaw: []json.RawMessage{fallback}, Terminal: true})
	}
	return caddyconfig.JSONModuleObject(caddyhttp.Subroute{Routes: routes}, "handler", "subroute", nil)
}

// useBackendNames lists the backends a use_backend rule can choose: its
// backend, or every candidate of a dynamic name.
func (t *translator) useBackendNames(ub *config.UseBackend) []string {
	if !strings.Contains(ub.Backend, "%[") {
		return []string{ub.Backend}
	}
	d, err := parseDynamicName(ub.Pos.File, ub.Backend)
	if err != nil {
		return nil
	}
	backends, _ := t.dynamicCandidates(d)
	names := make([]string, len(backends))
	for i, be := range backends {
		names[i] = be.Name
	}
	return names
}

// useServerRoutes translates a backend's use-server rules: each whose
// condition holds names its server to the haproxy selection policy, which
// takes the first one that is running. Rules of a backend with a
// persistence cookie are refused: HAProxy then skips the cookie's
// insertion, which the policy does not reproduce.
func (t *translator) useServerRoutes(be *config.Proxy) caddyhttp.RouteList {
	var routes caddyhttp.RouteList
	for _, us := range be.UseServers {
		if be.Cookie != nil {
			t.errorf(us.Pos, "use-server", "use-server with cookie persistence is not translated (HAProxy skips the cookie for a request a rule sends); remove one of them")
			continue
		}
		if !slices.ContainsFunc(be.Servers, func(s *config.Server) bool { return s.Name == us.Server }) {
			t.errorf(us.Pos, "use-server", "no server %q in %s %q", us.Server, be.Kind, be.Name)
			continue
		}
		cm, ok := t.condition("use-server", us.Cond)
		if !ok || cm.never {
			continue
		}
		h := caddyconfig.JSONModuleObject(lbmodule.UseServerHandler{Server: us.Server}, "handler", "haproxy_use_server", nil)
		routes = append(routes, caddyhttp.Route{MatcherSetsRaw: cm.sets, HandlersRaw: []json.RawMessage{h}})
	}
	return routes
}
