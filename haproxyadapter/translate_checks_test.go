package haproxyadapter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// checkBackend builds the backend "be" of a small configuration.
func checkBackend(t *testing.T, body string) *config.Proxy {
	t.Helper()
	src := "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n" + body
	cfg, diags := config.Load("haproxy.cfg", []byte(src), func(string) (string, bool) { return "", false })
	if config.HasErrors(diags) {
		t.Fatalf("config errors: %v", diags)
	}
	for _, p := range cfg.Proxies {
		if p.Name == "be" {
			return p
		}
	}
	t.Fatal("no backend be")
	return nil
}

func TestHealthChecksTranslation(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		// want is the JSON of the checks config ("null" for the default).
		want string
		// diags are substrings of the expected diagnostics, in order.
		diags []string
	}{
		{
			name: "default TCP check",
			cfg:  "backend be\n    server s1 127.0.0.1:80 check\n",
			want: `null`,
		},
		{
			name: "httpchk defaults and log-health-checks",
			cfg:  "backend be\n    option httpchk\n    option log-health-checks\n    server s1 127.0.0.1:80 check\n",
			want: `{"type":"http","http":{},"log_health_checks":true}`,
		},
		{
			name: "httpchk uri only",
			cfg:  "backend be\n    option httpchk /health\n",
			want: `{"type":"http","http":{"uri":"/health"}}`,
		},
		{
			name: "httpchk with headers smuggled in the version",
			cfg:  `backend be` + "\n" + `    option httpchk HEAD / HTTP/1.1\r\nHost:\ www.example.com\r\nX-A:\ b` + "\n",
			want: `{"type":"http","http":{"method":"HEAD","uri":"/","version":"HTTP/1.1","headers":[{"name":"Host","value":"www.example.com"},{"name":"X-A","value":"b"}]}}`,
		},
		{
			name: "http-check send and expect",
			cfg: "backend be\n    option httpchk\n    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host example.com body hi\n" +
				"    http-check expect status 200-299\n    http-check expect ! rstring ^maintenance\n    http-check disable-on-404\n",
			want: `{"type":"http","http":{"method":"GET","uri":"/ready","version":"HTTP/1.1","headers":[{"name":"Host","value":"example.com"}],"body":"hi","expect":[{"match":"status","pattern":"200-299"},{"match":"rstring","pattern":"^maintenance","negate":true}],"disable_on_404":true}}`,
		},
		{
			name:  "unsupported expect is reported",
			cfg:   "backend be\n    option httpchk\n    http-check expect hdr name X-Ok\n",
			want:  `{"type":"http","http":{}}`,
			diags: []string{`haproxy.cfg:8: http-check expect: matching 'hdr' is not supported`},
		},
		{
			name: "timeouts",
			cfg:  "backend be\n    timeout check 500ms\n    server s1 127.0.0.1:80 check\n",
			want: `{"connect_timeout":"1s","check_timeout":"500ms"}`,
		},
		{
			name: "tcp-check rules",
			cfg: "backend be\n    mode tcp\n    option tcp-check\n    tcp-check connect port 6379 ssl sni r.example\n    tcp-check send PING\\r\\n\n" +
				"    tcp-check send-binary 0a0b\n    tcp-check expect string +PONG\n    tcp-check expect ! rstring ^-ERR\n    tcp-check comment done\n",
			want: `{"type":"tcp-check","tcp_rules":[{"action":"connect","port":6379,"ssl":true,"sni":"r.example"},{"action":"send","data":"PING\r\n"},{"action":"send-binary","data":"0a0b"},{"action":"expect","match":"string","pattern":"+PONG"},{"action":"expect","match":"rstring","pattern":"^-ERR","negate":true}]}`,
		},
		{
			name:  "bad send-binary",
			cfg:   "backend be\n    mode tcp\n    option tcp-check\n    tcp-check send-binary zz\n",
			want:  `{"type":"tcp-check"}`,
			diags: []string{`haproxy.cfg:9: tcp-check send-binary: bad hexadecimal string "zz"`},
		},
		{
			name: "protocol checks",
			cfg:  "backend be\n    mode tcp\n    option mysql-check user haproxy\n",
			want: `{"type":"mysql","user":"haproxy"}`,
		},
		{
			name:  "pgsql without user",
			cfg:   "backend be\n    mode tcp\n    option pgsql-check\n",
			want:  `null`,
			diags: []string{`option pgsql-check: needs 'user <name>'`},
		},
		{
			name: "the last check option wins",
			cfg:  "backend be\n    mode tcp\n    option ssl-hello-chk\n    option redis-check\n",
			want: `{"type":"redis"}`,
		},
		{
			name: "smtpchk",
			cfg:  "backend be\n    mode tcp\n    option smtpchk EHLO mx.example\n",
			want: `{"type":"smtp","domain":"mx.example","hello":"EHLO"}`,
		},
		{
			name:  "http-check without httpchk",
			cfg:   "backend be\n    http-check expect status 200\n",
			want:  `null`,
			diags: []string{`http-check expect: has no effect without 'option httpchk'`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := checkBackend(t, tt.cfg)
			got, diags := healthChecks(b)
			js, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != tt.want {
				t.Errorf("config:\n got %s\nwant %s", js, tt.want)
			}
			if len(diags) != len(tt.diags) {
				t.Fatalf("diagnostics: %v, want %v", diags, tt.diags)
			}
			for i, d := range diags {
				if !strings.Contains(d.Error(), tt.diags[i]) {
					t.Errorf("diagnostic %d: %q does not contain %q", i, d.Error(), tt.diags[i])
				}
			}
		})
	}
}

func TestServerCheckTranslation(t *testing.T) {
	b := checkBackend(t, "backend be\n"+
		"    default-server inter 3s fall 5\n"+
		"    server plain 127.0.0.1:80\n"+
		"    server dflt 127.0.0.1:80 check\n"+
		"    server tuned 127.0.0.1:80 check inter 200 fastinter 100 downinter 1s rise 1 fall 2 port 8080 addr 127.0.0.2\n"+
		"    server tls 127.0.0.1:443 check ssl verify none\n"+
		"    server tlsport 127.0.0.1:443 check ssl verify none port 8080\n"+
		"    server checkssl 127.0.0.1:80 check check-ssl check-sni h.example verify none\n"+
		"    server proxied 127.0.0.1:80 check send-proxy\n"+
		"    server proxied2 127.0.0.1:80 check send-proxy-v2\n"+
		"    server proxiedport 127.0.0.1:80 check send-proxy port 81\n")
	want := map[string]string{
		"plain":       `null`,
		"dflt":        `{"inter":"3s","fall":5}`,
		"tuned":       `{"inter":"200ms","fastinter":"100ms","downinter":"1s","rise":1,"fall":2,"port":8080,"addr":"127.0.0.2"}`,
		"tls":         `{"inter":"3s","fall":5,"ssl":true,"insecure_skip_verify":true}`,
		"tlsport":     `{"inter":"3s","fall":5,"port":8080}`,
		"checkssl":    `{"inter":"3s","fall":5,"ssl":true,"sni":"h.example","insecure_skip_verify":true}`,
		"proxied":     `{"inter":"3s","fall":5,"proxy_protocol":"v1"}`,
		"proxied2":    `{"inter":"3s","fall":5,"proxy_protocol":"v2"}`,
		"proxiedport": `{"inter":"3s","fall":5,"port":81}`,
	}
	for _, s := range b.Servers {
		sc, diags := serverCheck(b, s)
		js, _ := json.Marshal(sc)
		if string(js) != want[s.Name] {
			t.Errorf("server %s:\n got %s\nwant %s", s.Name, js, want[s.Name])
		}
		if len(diags) != 0 {
			t.Errorf("server %s: diagnostics %v", s.Name, diags)
		}
	}
}
