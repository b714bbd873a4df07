package haproxyadapter

import (
	"encoding/json"
	"slices"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// compactRoutes returns routes with the same behaviour and fewer levels,
// since each costs time on every request: Caddy builds a subroute's
// handler chain anew for each request it serves, every route wraps the
// next in a closure, and every headers handler applies its operations on
// its own. Consecutive routes without matchers are joined when the first
// is not terminal (its handlers run, then the next route's, either way); a
// handler that is a subroute whose routes join into one without matchers
// is replaced by that route's handlers; consecutive headers handlers that
// commute are merged (see mergeHeaderHandlers), and so are consecutive
// matcher sets of one ACL test that differ in their patterns only (see
// mergeACLSets).
func compactRoutes(routes caddyhttp.RouteList) caddyhttp.RouteList {
	out := make(caddyhttp.RouteList, 0, len(routes))
	for _, r := range routes {
		if n := len(out); n > 0 && joinable(out[n-1]) && unmatched(r) {
			prev := &out[n-1]
			prev.HandlersRaw = append(slices.Clip(prev.HandlersRaw), r.HandlersRaw...)
			prev.Terminal = r.Terminal
			continue
		}
		out = append(out, r)
	}
	for i := range out {
		out[i].MatcherSetsRaw = mergeACLSets(out[i].MatcherSetsRaw)
		out[i].HandlersRaw = mergeHeaderHandlers(inlineSubroutes(out[i].HandlersRaw))
	}
	return out
}

// unmatched reports whether r runs for every request reaching it.
func unmatched(r caddyhttp.Route) bool {
	return len(r.MatcherSetsRaw) == 0 && r.Group == ""
}

// joinable reports whether the route after r may be merged into r.
func joinable(r caddyhttp.Route) bool { return unmatched(r) && !r.Terminal }

// inlineSubroutes replaces each handler that is a subroute whose routes
// compact into a single route without matchers (terminal or not: it is
// the last of its subroute) by that route's handlers.
func inlineSubroutes(handlers []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	for i, h := range handlers {
		inner, ok := singleRouteSubroute(h)
		if !ok {
			if out != nil {
				out = append(out, h)
			}
			continue
		}
		if out == nil {
			out = append(make([]json.RawMessage, 0, len(handlers)), handlers[:i]...)
		}
		out = append(out, inner...)
	}
	if out == nil {
		return handlers
	}
	return out
}

// singleRouteSubroute returns the handlers of h when h is a subroute
// handler (with no error routes) whose routes compact into one route
// without matchers.
func singleRouteSubroute(h json.RawMessage) ([]json.RawMessage, bool) {
	var sr struct {
		Handler string              `json:"handler"`
		Routes  caddyhttp.RouteList `json:"routes"`
		Errors  *json.RawMessage    `json:"errors"`
	}
	if json.Unmarshal(h, &sr) != nil || sr.Handler != "subroute" || sr.Errors != nil {
		return nil, false
	}
	routes := compactRoutes(sr.Routes)
	if len(routes) != 1 || !unmatched(routes[0]) {
		return nil, false
	}
	return routes[0].HandlersRaw, true
}
