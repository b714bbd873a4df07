package haproxyadapter

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
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
		"    server tlsdefault 127.0.0.1:443 check ssl\n"+
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
		"tlsdefault":  `{"inter":"3s","fall":5,"ssl":true}`,
		"proxied":     `{"inter":"3s","fall":5,"proxy_protocol":"v1"}`,
		"proxied2":    `{"inter":"3s","fall":5,"proxy_protocol":"v2"}`,
		"proxiedport": `{"inter":"3s","fall":5,"port":81}`,
	}
	for _, s := range b.Servers {
		sc, diags := serverCheck(b, s, "")
		js, _ := json.Marshal(sc)
		if string(js) != want[s.Name] {
			t.Errorf("server %s:\n got %s\nwant %s", s.Name, js, want[s.Name])
		}
		if len(diags) != 0 {
			t.Errorf("server %s: diagnostics %v", s.Name, diags)
		}
	}
	// Global "ssl-server-verify none" is the default of "verify".
	for _, s := range b.Servers {
		if s.Name == "tlsdefault" {
			if sc, _ := serverCheck(b, s, "none"); !sc.InsecureSkipVerify {
				t.Error("ssl-server-verify none not applied to checks")
			}
		}
	}
}

// requestRecorder answers checks with "200 OK" and a body of "ok", and
// keeps the first request's bytes.
func requestRecorder(t *testing.T) (addr string, first func() string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(time.Second))
				var data []byte
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					data = append(data, buf[:n]...)
					head, body, ok := strings.Cut(string(data), "\r\n\r\n")
					if ok && (!strings.Contains(strings.ToLower(head), "content-length: 3") || len(body) >= 3) || err != nil {
						break
					}
				}
				mu.Lock()
				if got == "" {
					got = string(data)
				}
				mu.Unlock()
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	}()
	return ln.Addr().String(), func() string {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// TestCheckTranslationAgainstHAProxy reads the same haproxy.cfg backends
// in HAProxy and through the translator, and compares what each side's
// first check sends and how it is logged (option log-health-checks).
func TestCheckTranslationAgainstHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	backends := []struct{ name, lines string }{
		{"legacy", `    option httpchk HEAD /p HTTP/1.1\r\nHost:\ www.example.com`},
		{"send", "    option httpchk\n    http-check send meth POST uri /q ver HTTP/1.1 hdr Host h.example body abc\n    http-check expect status 200"},
		{"string", "    option httpchk GET /s\n    http-check expect string ok\n    http-check expect ! string down"},
		{"miss", "    option httpchk GET /m\n    http-check expect rstring ^up"},
		{"status", "    option httpchk GET /t\n    http-check expect status 201-299"},
	}
	build := func(addrs map[string]string, listen string) string {
		var b strings.Builder
		b.WriteString("global\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n    option log-health-checks\n" +
			"    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    default-server inter 300 rise 2 fall 3\n")
		for _, be := range backends {
			fmt.Fprintf(&b, "backend %s\n%s\n    server s %s check\n", be.name, be.lines, addrs[be.name])
		}
		fmt.Fprintf(&b, "frontend fe\n    bind %s\n    default_backend legacy\n", listen)
		return b.String()
	}
	theirs, ours := map[string]func() string{}, map[string]func() string{}
	hAddrs, oAddrs := map[string]string{}, map[string]string{}
	for _, be := range backends {
		hAddrs[be.name], theirs[be.name] = requestRecorder(t)
		oAddrs[be.name], ours[be.name] = requestRecorder(t)
	}
	port := porttest.Free(t)
	listen := porttest.Loopback(port)

	// HAProxy's side.
	var mu sync.Mutex
	hLines := map[string]string{}
	haproxytest.StartLines(t, haproxytest.Command(t, bin, build(hAddrs, listen)), func(l string) {
		if rest, ok := strings.CutPrefix(l, "Health check for server "); ok {
			be, _, _ := strings.Cut(rest, "/")
			mu.Lock()
			if _, seen := hLines[be]; !seen {
				hLines[be] = l
			}
			mu.Unlock()
		}
	}).MustListen(t, port)

	// The translator's side.
	cfg, diags := config.Load("haproxy.cfg", []byte(build(oAddrs, listen)), func(string) (string, bool) { return "", false })
	if config.HasErrors(diags) {
		t.Fatal(diags)
	}
	oLines := map[string]string{}
	for _, p := range cfg.Proxies {
		if p.Kind == config.KindFrontend {
			continue
		}
		hc, d := healthChecks(p)
		if len(d) > 0 {
			t.Errorf("%s: diagnostics %v", p.Name, d)
		}
		sc, d := serverCheck(p, p.Servers[0], cfg.Global.SSLServerVerify)
		if len(d) > 0 {
			t.Errorf("%s: diagnostics %v", p.Name, d)
		}
		events := make(chan checks.Event, 1)
		c, err := checks.New(checks.Options{Backend: p.Name, Server: "s", Dial: oAddrs[p.Name], Check: *sc, Config: hc,
			OnEvent: func(e checks.Event) {
				select {
				case events <- e:
				default:
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		select {
		case e := <-events:
			oLines[p.Name] = e.CheckMessage(false)
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no check", p.Name)
		}
		c.Stop()
	}

	dur := regexp.MustCompile(`check duration: \d+ms`)
	deadline := time.Now().Add(5 * time.Second)
	for _, be := range backends {
		for theirs[be.name]() == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got, want := ours[be.name](), theirs[be.name](); got != want {
			t.Errorf("%s request:\nhaproxy %q\n  model %q", be.name, want, got)
		}
		for {
			mu.Lock()
			want, ok := hLines[be.name]
			mu.Unlock()
			if ok || time.Now().After(deadline) {
				want = dur.ReplaceAllString(want, "check duration: Nms")
				if got := dur.ReplaceAllString(oLines[be.name], "check duration: Nms"); got != want {
					t.Errorf("%s log line:\nhaproxy %s\n  model %s", be.name, want, got)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
