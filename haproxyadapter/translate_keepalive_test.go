package haproxyadapter

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/tcpkeepalive"
)

func TestTCPKeepAliveTranslation(t *testing.T) {
	sec := func(n int) caddy.Duration { return caddy.Duration(time.Duration(n) * time.Second) }
	for _, tc := range []struct {
		name, cfg string
		side      string
		want      *tcpkeepalive.Probes
	}{
		{"off by default", "listen p\n bind :80\n", "clitcpka", nil},
		{"clitcpka with settings", "listen p\n bind :80\n option clitcpka\n clitcpka-idle 30\n clitcpka-intvl 1m\n clitcpka-cnt 5\n", "clitcpka",
			&tcpkeepalive.Probes{Idle: sec(30), Interval: sec(60), Count: 5}},
		{"clitcpka leaves the server side off", "listen p\n bind :80\n option clitcpka\n", "srvtcpka", nil},
		{"tcpka turns on both", "listen p\n bind :80\n option tcpka\n", "srvtcpka", &tcpkeepalive.Probes{}},
		{"seconds are whole, as HAProxy hands them to the kernel", "listen p\n bind :80\n option srvtcpka\n srvtcpka-idle 1500ms\n srvtcpka-intvl 200ms\n", "srvtcpka",
			&tcpkeepalive.Probes{Idle: sec(1)}},
		{"a later no option clitcpka turns tcpka's client side off", "defaults\n option tcpka\nlisten p\n bind :80\n no option clitcpka\n", "clitcpka", nil},
		{"a later tcpka turns it back on", "listen p\n bind :80\n no option clitcpka\n option tcpka\n", "clitcpka", &tcpkeepalive.Probes{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := config.Load("t.cfg", []byte(tc.cfg), func(string) (string, bool) { return "", false })
			if config.HasErrors(diags) {
				t.Fatal(diags)
			}
			var p *config.Proxy
			for _, q := range cfg.Proxies {
				if q.Name == "p" {
					p = q
				}
			}
			got := tcpKeepAlive(p, tc.side)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
