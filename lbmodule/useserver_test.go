package lbmodule

import (
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestUseServerForcesRunningServer checks the servers use-server rules
// force: the first named one that runs, weight 0 and draining included;
// a down or maintained one is passed over (option persist forces it); no
// usable name leaves the request to the load balancer.
func TestUseServerForcesRunningServer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		persist bool
		setup   func(b *Backend)
		names   []string
		want    string
	}{
		{"first named", false, nil, []string{"B", "C"}, "B"},
		{"weight 0", false, nil, []string{"D"}, "D"},
		{"draining", false, func(b *Backend) { _ = b.SetAdminState("B", AdminDrain) }, []string{"B"}, "B"},
		{"down passed over", false, func(b *Backend) { _ = b.SetOperational("B", false) }, []string{"B", "C"}, "C"},
		{"maintenance passed over", false, func(b *Backend) { _ = b.SetAdminState("B", AdminMaint) }, []string{"B"}, "A"},
		{"persist forces a down server", true, func(b *Backend) { _ = b.SetOperational("B", false) }, []string{"B"}, "B"},
		{"unknown name", false, nil, []string{"Z"}, "A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := BackendConfig{Servers: servers(1, 1, 1, 0), Persist: tc.persist}
			p := newPolicy(t, cfg)
			if tc.setup != nil {
				tc.setup(p.RuntimeBackend())
			}
			r, end := newRequest()
			defer end()
			caddyhttp.SetVar(r.Context(), useServerVarKey, tc.names)
			up := p.Select(poolFor(cfg), r, nil)
			if up == nil {
				t.Fatal("no server selected")
			}
			got := ""
			for _, s := range cfg.Servers {
				if s.Dial == up.Dial {
					got = s.Name
				}
			}
			if got != tc.want {
				t.Errorf("selected %s, want %s", got, tc.want)
			}
		})
	}
}
