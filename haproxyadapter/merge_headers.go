package haproxyadapter

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

// mergeHeaderHandlers merges consecutive headers handlers that commute
// into one. Each HAProxy header rule becomes a headers handler of its
// own, but a handler applies its operations in a fixed order (add, set,
// delete), not the order of the rules, so two handlers merge only when
// reordering cannot show: both act on the same side (the request, or the
// response when it is written, with no status condition), they name
// different headers, with no wildcard, and their values use no
// placeholder that could read a header.
func mergeHeaderHandlers(handlers []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	var acc *headers.Handler
	for i, raw := range handlers {
		h, ok := mergeableHeaders(raw)
		if ok && acc != nil && sameSide(acc, h) && disjoint(acc, h) {
			if out == nil {
				out = slices.Clone(handlers[:i])
			}
			mergeOps(acc, h)
			out[len(out)-1] = caddyconfig.JSONModuleObject(acc, "handler", "headers", nil)
			continue
		}
		acc = nil
		if ok {
			acc = h
		}
		if out != nil {
			out = append(out, raw)
		}
	}
	if out == nil {
		return handlers
	}
	return out
}

// mergeableHeaders decodes raw when it is a headers handler that may be
// merged with a neighbour: operations on one side only, no replacements,
// no wildcard deletes and no status condition.
func mergeableHeaders(raw json.RawMessage) (*headers.Handler, bool) {
	var probe struct {
		Handler string `json:"handler"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.Handler != "headers" {
		return nil, false
	}
	var h headers.Handler
	if json.Unmarshal(raw, &h) != nil {
		return nil, false
	}
	var ops *headers.HeaderOps
	switch {
	case h.Request != nil && h.Response == nil:
		ops = h.Request
	case h.Request == nil && h.Response != nil && h.Response.Deferred && h.Response.Require == nil && h.Response.HeaderOps != nil:
		ops = h.Response.HeaderOps
	default:
		return nil, false
	}
	if len(ops.Replace) > 0 {
		return nil, false
	}
	for _, name := range ops.Delete {
		if name == "*" || len(name) > 0 && (name[0] == '*' || name[len(name)-1] == '*') {
			return nil, false
		}
	}
	for _, vals := range [...]http.Header{ops.Add, ops.Set} {
		for _, vs := range vals {
			for _, v := range vs {
				if !safePlaceholders(v) {
					return nil, false
				}
			}
		}
	}
	return &h, true
}

// placeholder matches a Caddy placeholder in a header value.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// safePlaceholders reports whether value uses only placeholders that read
// the connection's addresses, never a header.
func safePlaceholders(value string) bool {
	for _, p := range placeholder.FindAllString(value, -1) {
		switch p {
		case "{http.request.remote}", "{http.request.remote.host}", "{http.request.remote.port}",
			"{http.request.local}", "{http.request.local.host}", "{http.request.local.port}":
		default:
			return false
		}
	}
	return true
}

// opsOf returns the operations of a mergeable handler.
func opsOf(h *headers.Handler) *headers.HeaderOps {
	if h.Request != nil {
		return h.Request
	}
	return h.Response.HeaderOps
}

// sameSide reports whether a and b both act on the request, or both on
// the response.
func sameSide(a, b *headers.Handler) bool { return (a.Request != nil) == (b.Request != nil) }

// names returns the canonical names of the headers ops acts on.
func names(ops *headers.HeaderOps) map[string]bool {
	m := map[string]bool{}
	for _, hs := range [...]http.Header{ops.Add, ops.Set} {
		for k := range hs {
			m[http.CanonicalHeaderKey(k)] = true
		}
	}
	for _, k := range ops.Delete {
		m[http.CanonicalHeaderKey(k)] = true
	}
	return m
}

// disjoint reports whether a and b act on different headers.
func disjoint(a, b *headers.Handler) bool {
	na := names(opsOf(a))
	for k := range names(opsOf(b)) {
		if na[k] {
			return false
		}
	}
	return true
}

// mergeOps adds b's operations to a's.
func mergeOps(a, b *headers.Handler) {
	dst, src := opsOf(a), opsOf(b)
	if len(src.Add) > 0 {
		if dst.Add == nil {
			dst.Add = http.Header{}
		}
		maps.Copy(dst.Add, src.Add)
	}
	if len(src.Set) > 0 {
		if dst.Set == nil {
			dst.Set = http.Header{}
		}
		maps.Copy(dst.Set, src.Set)
	}
	dst.Delete = append(dst.Delete, src.Delete...)
}
