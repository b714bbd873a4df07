package lbmodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// joinHandler fits the policy to the reverse_proxy handler that loads it,
// for settings that only one of the two can hold:
//
//   - a handler that lists no upstreams (and has no upstream source) gets
//     the backend's servers as its upstreams, so that servers are named
//     once, in the policy. reverse_proxy provisions its selection policy
//     before its upstreams, so these are provisioned like written ones.
//   - without Retries, the policy takes the handler's load_balancing
//     retries, which are the retries Caddy makes, to find the last one for
//     RedispatchInterval.
func (p *HTTPSelection) joinHandler(ctx caddy.Context) {
	mods := ctx.Modules()
	if len(mods) < 2 {
		return
	}
	h, ok := mods[len(mods)-2].(*reverseproxy.Handler)
	if !ok {
		return
	}
	if len(h.Upstreams) == 0 && h.DynamicUpstreamsRaw == nil {
		for _, s := range p.Servers {
			h.Upstreams = append(h.Upstreams, &reverseproxy.Upstream{Dial: s.Dial})
		}
	}
	if p.Retries == nil && h.LoadBalancing != nil {
		retries := h.LoadBalancing.Retries
		p.Retries = &retries
	}
}
