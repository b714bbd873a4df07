package haproxyadapter

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// TestServerSlowStartTranslation: "slowstart" reaches the server's
// configuration, inherited from default-server like any parameter.
func TestServerSlowStartTranslation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  string
		want map[string]time.Duration
	}{
		{"on a server", "backend be\n    server s1 127.0.0.1:80 slowstart 30s\n    server s2 127.0.0.1:81\n",
			map[string]time.Duration{"s1": 30 * time.Second, "s2": 0}},
		{"milliseconds", "backend be\n    server s1 127.0.0.1:80 slowstart 1500\n",
			map[string]time.Duration{"s1": 1500 * time.Millisecond}},
		{"from default-server", "backend be\n    default-server slowstart 1m\n    server s1 127.0.0.1:80\n    server s2 127.0.0.1:81 slowstart 5s\n",
			map[string]time.Duration{"s1": time.Minute, "s2": 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &translator{cfg: &config.Config{}}
			bc := tr.backendConfig(checkBackend(t, tc.cfg))
			for _, sc := range bc.Servers {
				if got, want := sc.SlowStart, caddy.Duration(tc.want[sc.Name]); got != want {
					t.Errorf("%s: slowstart %v, want %v", sc.Name, time.Duration(got), time.Duration(want))
				}
			}
			for _, d := range tr.diags {
				if d.Keyword == "slowstart" {
					t.Errorf("unexpected diagnostic: %v", d)
				}
			}
		})
	}
}
