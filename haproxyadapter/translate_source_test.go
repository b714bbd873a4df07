package haproxyadapter

import (
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

func TestSourceTranslation(t *testing.T) {
	const head = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten li\n  bind :8080\n"
	for _, tc := range []struct {
		name, body string
		json, err  string
	}{
		{"backend source is the transport's local address", "  source 127.0.0.9\n  server s1 127.0.0.1:81 check\n  server s2 127.0.0.1:82 agent-check agent-port 9000\n",
			`"local_address":"127.0.0.9"`, ""},
		{"a port is kept", "  source 127.0.0.9:4000\n  server s1 127.0.0.1:81\n", `"local_address":"127.0.0.9:4000"`, ""},
		{"any address on any port is no source", "  source 0.0.0.0\n  server s1 127.0.0.1:81\n", "", ""},
		{"servers with different sources need two backends", "  source 127.0.0.9\n  server s1 127.0.0.1:81\n  server s2 127.0.0.1:82 source 127.0.0.10\n",
			"", "t.cfg:10: source: backend \"li\" gives servers different sources"},
		{"usesrc is the transport's, the address the checks'", "  source 127.0.0.9 usesrc clientip\n  server s1 127.0.0.1:81 check\n", `"usesrc":"clientip"`, ""},
		{"usesrc with send-proxy is refused", "  source 0.0.0.0 usesrc clientip\n  server s1 127.0.0.1:81 send-proxy\n", "", "t.cfg:8: source: usesrc with send-proxy"},
		{"interface is refused", "  server s1 127.0.0.1:81 source 127.0.0.9 interface eth1\n", "", "t.cfg:8: source: interface is not translated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := config.Load("t.cfg", []byte(head+tc.body), func(string) (string, bool) { return "", false })
			if config.HasErrors(diags) {
				t.Fatal(diags)
			}
			out, tdiags := Translate(cfg)
			var errs []string
			for _, d := range tdiags {
				if d.Severity == config.Error {
					errs = append(errs, d.Error())
				}
			}
			all := strings.Join(errs, "\n")
			if tc.err == "" && all != "" || tc.err != "" && !strings.Contains(all, tc.err) {
				t.Fatalf("errors %q, want %q", all, tc.err)
			}
			if tc.err != "" {
				return
			}
			app := string(out.AppsRaw["http"])
			if tc.json != "" && !strings.Contains(app, tc.json) {
				t.Errorf("no %s in %s", tc.json, app)
			}
			if tc.json == "" && strings.Contains(app, "local_address") {
				t.Errorf("a local address in %s", app)
			}
			// Each check and agent comes from the source address.
			if n := strings.Count(tc.body, "check"); strings.Count(app, `"source":"127.0.0.9"`) != n {
				t.Errorf("not all %d checks and agents come from the source: %s", n, app)
			}
		})
	}
}
