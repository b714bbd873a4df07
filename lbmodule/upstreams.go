package lbmodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// supplyUpstreams gives the reverse_proxy handler that loads the policy the
// backend's servers as its upstreams when it lists none, so that servers
// are named once, in the policy. reverse_proxy provisions its selection
// policy before its upstreams, so the upstreams set here are provisioned
// like written ones. A handler with upstreams or an upstream source of its
// own is left alone.
func (p *HTTPSelection) supplyUpstreams(ctx caddy.Context) {
	mods := ctx.Modules()
	if len(mods) < 2 {
		return
	}
	h, ok := mods[len(mods)-2].(*reverseproxy.Handler)
	if !ok || len(h.Upstreams) > 0 || h.DynamicUpstreamsRaw != nil {
		return
	}
	for _, s := range p.Servers {
		h.Upstreams = append(h.Upstreams, &reverseproxy.Upstream{Dial: s.Dial})
	}
}
