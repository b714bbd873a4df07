package lbmodule

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// TestPolicySuppliesUpstreams provisions reverse_proxy handlers and checks
// which upstreams they end up with: the policy's servers when the handler
// lists none, its own otherwise.
func TestPolicySuppliesUpstreams(t *testing.T) {
	const policy = `"load_balancing": {"selection_policy": {"policy": "haproxy",
		"servers": [{"name": "a", "dial": "127.0.0.1:7001"}, {"name": "b", "dial": "127.0.0.1:7002"}]}}`
	for _, tc := range []struct {
		name, handler string
		want          []string
	}{
		{"no upstreams", `{` + policy + `}`, []string{"127.0.0.1:7001", "127.0.0.1:7002"}},
		{"upstreams written", `{"upstreams": [{"dial": "127.0.0.1:7002"}], ` + policy + `}`, []string{"127.0.0.1:7002"}},
		{"dynamic upstreams", `{"dynamic_upstreams": {"source": "a", "name": "localhost", "port": "7003"}, ` + policy + `}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// reverse_proxy reads the events app: it needs a config.
			ctx, err := caddy.ProvisionContext(&caddy.Config{Admin: &caddy.AdminConfig{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			mod, err := ctx.LoadModuleByID("http.handlers.reverse_proxy", json.RawMessage(tc.handler))
			if err != nil {
				t.Fatal(err)
			}
			h := mod.(*reverseproxy.Handler)
			defer h.LoadBalancing.SelectionPolicy.(*HTTPSelection).Cleanup()
			defer h.Cleanup()
			var got []string
			for _, u := range h.Upstreams {
				got = append(got, u.Dial)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("upstreams %v, want %v", got, tc.want)
			}
		})
	}
}
