package lbmodule

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// TestPolicyJoinsHandler provisions reverse_proxy handlers and checks what
// the policy takes from them or gives them: the handler gets the policy's
// servers as upstreams when it lists none, and the policy counts the
// handler's retries unless it has its own.
func TestPolicyJoinsHandler(t *testing.T) {
	const servers = `"servers": [{"name": "a", "dial": "127.0.0.1:7001"}, {"name": "b", "dial": "127.0.0.1:7002"}]`
	for _, tc := range []struct {
		name, handler string
		upstreams     []string
		retries       int
	}{
		{"no upstreams",
			`{"load_balancing": {"retries": 2, "selection_policy": {"policy": "haproxy", ` + servers + `}}}`,
			[]string{"127.0.0.1:7001", "127.0.0.1:7002"}, 2},
		{"upstreams written",
			`{"upstreams": [{"dial": "127.0.0.1:7002"}], "load_balancing": {"selection_policy": {"policy": "haproxy", ` + servers + `}}}`,
			[]string{"127.0.0.1:7002"}, 0},
		{"dynamic upstreams, retries of its own",
			`{"dynamic_upstreams": {"source": "a", "name": "localhost", "port": "7003"}, "load_balancing": {"retries": 2, "selection_policy": {"policy": "haproxy", "retries": 5, ` + servers + `}}}`,
			nil, 5},
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
			p := h.LoadBalancing.SelectionPolicy.(*HTTPSelection)
			defer p.Cleanup()
			defer h.Cleanup()
			var got []string
			for _, u := range h.Upstreams {
				got = append(got, u.Dial)
			}
			if !slices.Equal(got, tc.upstreams) {
				t.Errorf("upstreams %v, want %v", got, tc.upstreams)
			}
			if p.Retries == nil || *p.Retries != tc.retries {
				t.Errorf("policy retries %v, want %d", p.Retries, tc.retries)
			}
		})
	}
}
