package config

import (
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestServerParams(t *testing.T) {
	tests := []struct {
		params string
		check  func(sp ServerParams) bool
	}{
		{"", func(sp ServerParams) bool {
			return sp.Weight == 1 && sp.Inter == 2*time.Second && sp.Rise == 2 && sp.Fall == 3 && !sp.Check && !sp.Backup
		}},
		{"weight 0", func(sp ServerParams) bool { return sp.Weight == 0 }},
		{"weight 256", func(sp ServerParams) bool { return sp.Weight == 256 }},
		{"backup", func(sp ServerParams) bool { return sp.Backup }},
		{"backup no-backup", func(sp ServerParams) bool { return !sp.Backup }},
		{"disabled", func(sp ServerParams) bool { return sp.Disabled }},
		{"disabled enabled", func(sp ServerParams) bool { return !sp.Disabled }},
		{"cookie s1", func(sp ServerParams) bool { return sp.Cookie == "s1" }},
		{"maxconn 100 maxqueue 10 minconn 5", func(sp ServerParams) bool {
			return sp.MaxConn == 100 && sp.MaxQueue == 10 && sp.MinConn == 5
		}},
		{"check inter 5s fastinter 1s downinter 10s rise 4 fall 6", func(sp ServerParams) bool {
			return sp.Check && sp.Inter == 5*time.Second && sp.FastInter == time.Second && sp.DownInter == 10*time.Second && sp.Rise == 4 && sp.Fall == 6
		}},
		{"check no-check", func(sp ServerParams) bool { return !sp.Check }},
		{"port 8081 addr 10.0.0.9 check-ssl check-sni x.example", func(sp ServerParams) bool {
			return sp.CheckPort == 8081 && sp.CheckAddr == "10.0.0.9" && sp.CheckSSL && sp.CheckSNI == "x.example"
		}},
		{"agent-check agent-port 9999 agent-inter 3s", func(sp ServerParams) bool {
			return sp.AgentCheck && sp.AgentPort == 9999 && sp.AgentInter == 3*time.Second
		}},
		{"slowstart 30s", func(sp ServerParams) bool { return sp.SlowStart == 30*time.Second }},
		{"on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions observe layer7 on-error mark-down error-limit 5", func(sp ServerParams) bool {
			return sp.OnMarkedDown == "shutdown-sessions" && sp.OnMarkedUp == "shutdown-backup-sessions" && sp.Observe == "layer7" && sp.OnError == "mark-down" && sp.ErrorLimit == 5
		}},
		{"ssl verify none sni req.hdr(host) ca-file /ca.pem crt /c.pem alpn h2,http/1.1 verifyhost x.example", func(sp ServerParams) bool {
			return sp.SSL && sp.Verify == "none" && sp.SNI == "req.hdr(host)" && sp.CAFile == "/ca.pem" && sp.Crt == "/c.pem" &&
				slices.Equal(sp.ALPN, []string{"h2", "http/1.1"}) && sp.VerifyHost == "x.example"
		}},
		{"ssl no-ssl", func(sp ServerParams) bool { return !sp.SSL }},
		{"send-proxy", func(sp ServerParams) bool { return sp.SendProxy && !sp.SendProxyV2 }},
		{"send-proxy-v2 no-send-proxy-v2", func(sp ServerParams) bool { return !sp.SendProxyV2 }},
		{"resolvers dns init-addr last,libc,none resolve-prefer ipv4", func(sp ServerParams) bool {
			return sp.Resolvers == "dns" && sp.InitAddr == "last,libc,none" && sp.ResolvePrefer == "ipv4"
		}},
		{"track other/s1", func(sp ServerParams) bool { return sp.Track == "other/s1" }},
		{"id 42", func(sp ServerParams) bool { return sp.ID == 42 }},
		{"tfo pool-max-conn 10 pool-max-conn 20", func(sp ServerParams) bool {
			return reflect.DeepEqual(sp.Other, [][]string{{"tfo"}, {"pool-max-conn", "20"}})
		}},
	}
	for _, tt := range tests {
		cfg, diags := load(t, "backend b\n  server s 10.0.0.1:80 "+tt.params+"\n")
		if errs := errorsOf(diags); len(errs) > 0 {
			t.Errorf("%q: errors %q", tt.params, errs)
			continue
		}
		sp := proxy(t, cfg, "b").Servers[0].Params
		if !tt.check(sp) {
			t.Errorf("%q: params = %+v", tt.params, sp)
		}
	}
}

func TestServerErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"server web1 10.0.0.1:80 wieght 3", `t.cfg:2: server "web1": unknown option "wieght" (did you mean "weight"?)`},
		{"server web1 10.0.0.1:80 chek", `t.cfg:2: server "web1": unknown option "chek" (did you mean "check"?)`},
		{"server web1 10.0.0.1:80 frobnicate", `t.cfg:2: server "web1": unknown option "frobnicate"`},
		{"server web1 10.0.0.1:80 weight 257", `t.cfg:2: server "web1": option "weight": 257 is out of range (0..256)`},
		{"server web1 10.0.0.1:80 weight -1", `t.cfg:2: server "web1": option "weight": -1 is out of range (0..256)`},
		{"server web1 10.0.0.1:80 weight", `t.cfg:2: server "web1": option "weight" needs 1 argument`},
		{"server web1 10.0.0.1:80 verify sometimes", `t.cfg:2: server "web1": option "verify": invalid value 'sometimes' (expected none, required)`},
		{"server web1 10.0.0.1:99999", `t.cfg:2: server "web1": invalid port '99999' in address '10.0.0.1:99999'`},
		{"server web1 foo@10.0.0.1:80", `t.cfg:2: server "web1": unknown address family 'foo@' in 'foo@10.0.0.1:80'`},
		{"server web1", `t.cfg:2: server "web1": missing address`},
		{"server", `t.cfg:2: server: missing server name and address`},
		{"server web/1 10.0.0.1:80", `t.cfg:2: server "web/1": invalid server name: only letters, digits, '-', '_', '.' and ':' are allowed`},
		{"default-server id 3", `t.cfg:2: default-server: 'id' is only allowed on server lines, not on default-server`},
		{"server web1 10.0.0.1:80 redir http://x", `t.cfg:2: server "web1": option "redir" not supported: redirecting clients to the server is not supported; use Caddy's redir directive`},
		{"server-template w 0 app:80", `t.cfg:2: server-template "w": invalid server count or range '0': 0 is out of range (1..2147483647)`},
		{"server-template w 5-2 app:80", `t.cfg:2: server-template "w": invalid server count or range '5-2': the range end is lower than its start`},
		{"server-template w 3 app:80 wieght 2", `t.cfg:2: server-template "w1": unknown option "wieght" (did you mean "weight"?)`},
	}
	for _, tt := range tests {
		_, diags := load(t, "backend b\n  "+tt.line+"\n")
		if got := errorsOf(diags); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}

func TestServerLaxNumbers(t *testing.T) {
	cfg, diags := load(t, "backend b\n  server web1 10.0.0.1:80 weight 5x maxconn 100k\n")
	want := []string{
		`t.cfg:2: server "web1": option "weight": '5x' is not a number: read as its leading digits, as HAProxy does`,
		`t.cfg:2: server "web1": option "maxconn": '100k' is not a number: read as its leading digits, as HAProxy does`,
	}
	if got := warningsOf(diags); !slices.Equal(got, want) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, want)
	}
	if p := proxy(t, cfg, "b").Servers[0].Params; p.Weight != 5 || p.MaxConn != 100 {
		t.Errorf("weight %d maxconn %d, want 5 and 100", p.Weight, p.MaxConn)
	}
}

func TestServerWarningsGrouped(t *testing.T) {
	_, diags := load(t, "backend b\n  server web1 10.0.0.1:80 check inter 3s observe layer4 on-error fastinter cookie a tfo\n")
	want := []string{
		`t.cfg:2: server "web1": options "observe", "on-error" ignored: ` + noteChecksUnsupported,
		`t.cfg:2: server "web1": option "tfo" ignored: ` + noteTune,
	}
	if got := warningsOf(diags); !slices.Equal(got, want) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, want)
	}
}

func TestDefaultServerAccumulation(t *testing.T) {
	cfg := mustLoad(t, `
defaults
  default-server inter 3s weight 10
backend b
  default-server fall 5
  server a 10.0.0.1:80
  default-server weight 20 backup
  server b 10.0.0.2:80
  server c 10.0.0.3:80 no-backup weight 1
backend other
  server d 10.0.0.4:80
`)
	s := proxy(t, cfg, "b").Servers
	check := func(i int, weight, fall int, backup bool) {
		t.Helper()
		p := s[i].Params
		if p.Weight != weight || p.Fall != fall || p.Backup != backup || p.Inter != 3*time.Second {
			t.Errorf("server %s: weight %d fall %d backup %v inter %v; want %d %d %v 3s", s[i].Name, p.Weight, p.Fall, p.Backup, p.Inter, weight, fall, backup)
		}
	}
	check(0, 10, 5, false)
	check(1, 20, 5, true)
	check(2, 1, 5, false)
	// A backend's default-server lines do not leak into the next backend.
	if p := proxy(t, cfg, "other").Servers[0].Params; p.Weight != 10 || p.Fall != 3 || p.Backup {
		t.Errorf("other backend's server = %+v", p)
	}
}

func TestServerTemplateAndIDs(t *testing.T) {
	cfg := mustLoad(t, `
backend b
  server first 10.0.0.1:80 id 2
  server-template web 3 app.example:8080 weight 5
  server-template api 8-9 api.example
  server last 10.0.0.2:80
`)
	var got []string
	for _, s := range proxy(t, cfg, "b").Servers {
		got = append(got, s.Name+"="+s.Host+":"+s.Port+"#"+strconv.Itoa(s.ID))
		if s.Name[:3] == "web" && s.Params.Weight != 5 {
			t.Errorf("%s weight = %d", s.Name, s.Params.Weight)
		}
	}
	want := []string{
		"first=10.0.0.1:80#2",
		"web1=app.example:8080#1",
		"web2=app.example:8080#3",
		"web3=app.example:8080#4",
		"api8=api.example:#5",
		"api9=api.example:#6",
		"last=10.0.0.2:80#7",
	}
	if !slices.Equal(got, want) {
		t.Errorf("servers =\n%q\nwant\n%q", got, want)
	}

	_, diags := load(t, "backend b\n  server a 10.0.0.1:80 id 1\n  server b 10.0.0.2:80 id 1\n  server a 10.0.0.3:80\n  server a2 10.0.0.4:80\n  server-template a 2 x:80\n")
	wantE := []string{
		`t.cfg:3: server "b": id 1 is already used by server 'a' (declared at t.cfg:2)`,
		`t.cfg:4: server "a": backend 'b' already has a server named 'a' (declared at t.cfg:2); use distinct names`,
		`t.cfg:6: server-template "a2": backend 'b' already has a server named 'a2' (declared at t.cfg:5); use distinct names`,
	}
	if got := errorsOf(diags); !slices.Equal(got, wantE) {
		t.Errorf("errors =\n%q\nwant\n%q", got, wantE)
	}
}

func TestSplitServerAddress(t *testing.T) {
	tests := []struct {
		in                  string
		network, host, port string
		err                 bool
	}{
		{"10.0.0.1:80", "tcp", "10.0.0.1", "80", false},
		{"10.0.0.1", "tcp", "10.0.0.1", "", false},
		{"web.example:8080", "tcp", "web.example", "8080", false},
		{"10.0.0.1:+1000", "tcp", "10.0.0.1", "+1000", false},
		{"10.0.0.1:-10", "tcp", "10.0.0.1", "-10", false},
		{"[2001:db8::1]:443", "tcp", "2001:db8::1", "443", false},
		{"[2001:db8::1]", "tcp", "2001:db8::1", "", false},
		{"2001:db8::1:443", "tcp", "2001:db8::1", "443", false},
		{"::1", "", "", "", true}, // host ":" port 1, as in HAProxy
		{":::80", "tcp", "::", "80", false},
		{"::1:", "tcp", "::1", "", false},
		{"2001:db8::1", "", "", "", true},
		{"ipv4@10.0.0.1:80", "tcp4", "10.0.0.1", "80", false},
		{"ipv6@::1:80", "tcp6", "::1", "80", false},
		{"unix@/run/app.sock", "unix", "/run/app.sock", "", false},
		{"/run/app.sock", "unix", "/run/app.sock", "", false},
		{"abns@app", "abns", "app", "", false},
		{"0.0.0.0", "tcp", "0.0.0.0", "", false},
		{"10.0.0.1:http", "", "", "", true},
		{"10.0.0.1:70000", "", "", "", true},
		{"[::1", "", "", "", true},
		{"[::1]x", "", "", "", true},
		{"bogus@x", "", "", "", true},
		{"ipv4@", "", "", "", true},
	}
	for _, tt := range tests {
		n, h, p, err := SplitServerAddress(tt.in)
		if (err != nil) != tt.err || n != tt.network || h != tt.host || p != tt.port {
			t.Errorf("SplitServerAddress(%q) = %q %q %q %v; want %q %q %q error=%v", tt.in, n, h, p, err, tt.network, tt.host, tt.port, tt.err)
		}
	}
}
