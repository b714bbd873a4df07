package haproxyadapter

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
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

// TestServerAgentCheckTranslation: agent-check with its port, address,
// interval and send string; without agent-port it is an error at the
// server's line, as HAProxy refuses it.
func TestServerAgentCheckTranslation(t *testing.T) {
	p := checkBackend(t, "backend be\n"+
		"    default-server agent-port 9000\n"+
		"    server s1 127.0.0.1:80 agent-check agent-addr 127.0.0.2 agent-inter 3s agent-send \"hello\\n\"\n"+
		"    server s2 127.0.0.1:81 agent-check agent-port 9001\n"+
		"    server s3 127.0.0.1:82\n")
	tr := &translator{cfg: &config.Config{}}
	bc := tr.backendConfig(p)
	want := []*checks.AgentConfig{
		{Port: 9000, Addr: "127.0.0.2", Inter: checks.Duration(3 * time.Second), Send: "hello\n"},
		{Port: 9001},
		nil,
	}
	for i, sc := range bc.Servers {
		if got := sc.AgentCheck; (got == nil) != (want[i] == nil) || (got != nil && *got != *want[i]) {
			t.Errorf("%s: agent %+v, want %+v", sc.Name, got, want[i])
		}
	}
	if len(tr.diags) != 0 {
		t.Errorf("diagnostics: %v", tr.diags)
	}

	tr = &translator{cfg: &config.Config{}}
	tr.backendConfig(checkBackend(t, "backend be\n    server s1 127.0.0.1:80 agent-check\n"))
	if len(tr.diags) != 1 || tr.diags[0].Severity != config.Error || tr.diags[0].Keyword != "agent-check" || tr.diags[0].Pos.Line != 7 {
		t.Errorf("agent-check without a port: %v, want one error at line 7", tr.diags)
	}
}
