package config

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// defaultsWith returns a config whose anonymous defaults holds line,
// followed by a frontend, a backend and a listen.
func defaultsWith(lines string) string {
	return "defaults\n" + lines + "\nfrontend fe\n bind :80\n default_backend be\nbackend be\n server s1 127.0.0.1:8080\nlisten li\n bind :81\n"
}

func TestDefaultsInheritance(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		check func(t *testing.T, fe, be, li *Proxy)
	}{
		{"mode", " mode http", func(t *testing.T, fe, be, li *Proxy) {
			for _, p := range []*Proxy{fe, be, li} {
				if p.Mode != "http" || p.ModePos.Line != 2 {
					t.Errorf("%s: mode %q at %v, want http at line 2", p.Name, p.Mode, p.ModePos)
				}
			}
		}},
		{"mode default is tcp", " retries 3", func(t *testing.T, fe, be, li *Proxy) {
			if fe.Mode != "tcp" || be.Mode != "tcp" {
				t.Errorf("modes %q %q, want tcp", fe.Mode, be.Mode)
			}
		}},
		{"retries", " retries 7", func(t *testing.T, fe, be, li *Proxy) {
			if be.Retries != 7 || li.Retries != 7 || be.RetriesPos.Line != 2 {
				t.Errorf("retries %d/%d at %v, want 7", be.Retries, li.Retries, be.RetriesPos)
			}
		}},
		{"tcp keep-alive by side", " clitcpka-idle 1m\n clitcpka-intvl 10\n clitcpka-cnt 4\n srvtcpka-idle 45\n srvtcpka-intvl 500ms", func(t *testing.T, fe, be, li *Proxy) {
			want := TCPKeepAlive{Idle: Duration{D: time.Minute, Set: true}, Interval: Duration{D: 10 * time.Second, Set: true}, Count: 4}
			for _, p := range []*Proxy{fe, li} {
				got := p.ClientKeepAlive
				if got.Idle.D != want.Idle.D || !got.Idle.Set || got.Interval.D != want.Interval.D || got.Count != 4 || got.Idle.Pos.Line != 2 || got.CountPos.Line != 4 {
					t.Errorf("%s: client keep-alive %+v", p.Name, got)
				}
			}
			for _, p := range []*Proxy{be, li} {
				got := p.ServerKeepAlive
				if got.Idle.D != 45*time.Second || got.Interval.D != 500*time.Millisecond || got.Count != 0 {
					t.Errorf("%s: server keep-alive %+v", p.Name, got)
				}
			}
			if be.ClientKeepAlive.Idle.Set || fe.ServerKeepAlive.Idle.Set {
				t.Errorf("a side inherited where HAProxy does not: backend client %+v, frontend server %+v", be.ClientKeepAlive, fe.ServerKeepAlive)
			}
		}},
		{"retries default", " mode http", func(t *testing.T, fe, be, li *Proxy) {
			if be.Retries != 3 || be.RetriesPos.Line != 0 {
				t.Errorf("retries %d at %v, want built-in 3", be.Retries, be.RetriesPos)
			}
		}},
		{"timeouts by capability", " timeout connect 5s\n timeout client 1m\n timeout server 2m\n timeout http-request 10s\n timeout queue 30s\n timeout tunnel 1h\n timeout http-keep-alive 3s\n timeout check 4s", func(t *testing.T, fe, be, li *Proxy) {
			if got := be.Timeouts.Connect; !got.Set || got.D != 5*time.Second || got.Pos.Line != 2 {
				t.Errorf("backend connect = %+v", got)
			}
			if be.Timeouts.Server.D != 2*time.Minute || be.Timeouts.Queue.D != 30*time.Second || be.Timeouts.Tunnel.D != time.Hour || be.Timeouts.Check.D != 4*time.Second {
				t.Errorf("backend timeouts = %+v", be.Timeouts)
			}
			if be.Timeouts.Client.Set {
				t.Errorf("backend inherited timeout client %+v; HAProxy copies it only to frontends", be.Timeouts.Client)
			}
			if fe.Timeouts.Client.D != time.Minute || fe.Timeouts.HTTPRequest.D != 10*time.Second || fe.Timeouts.HTTPKeepAlive.D != 3*time.Second {
				t.Errorf("frontend timeouts = %+v", fe.Timeouts)
			}
			if fe.Timeouts.Server.Set || fe.Timeouts.Connect.Set {
				t.Errorf("frontend inherited backend timeouts: %+v", fe.Timeouts)
			}
			if !li.Timeouts.Client.Set || !li.Timeouts.Server.Set || !li.Timeouts.Connect.Set {
				t.Errorf("listen timeouts = %+v", li.Timeouts)
			}
		}},
		{"options", " option forwardfor except 127.0.0.0/8\n option redispatch\n option allbackups", func(t *testing.T, fe, be, li *Proxy) {
			o := be.Option("forwardfor")
			if o == nil || !slices.Equal(o.Args, []string{"except", "127.0.0.0/8"}) || o.Pos.Line != 2 {
				t.Errorf("forwardfor = %+v", o)
			}
			if be.Option("redispatch") == nil || be.Option("allbackups") == nil || fe.Option("forwardfor") == nil {
				t.Errorf("options not inherited: %v", be.Options)
			}
		}},
		{"balance and hash-type", " balance uri whole\n hash-type consistent djb2 avalanche", func(t *testing.T, fe, be, li *Proxy) {
			want := Balance{Pos: be.Balance.Pos, Algorithm: "uri", Args: []string{"whole"}}
			if !reflect.DeepEqual(be.Balance, want) || be.Balance.Pos.Line != 2 {
				t.Errorf("balance = %+v", be.Balance)
			}
			if be.HashType.Method != "consistent" || be.HashType.Function != "djb2" || !be.HashType.Avalanche {
				t.Errorf("hash-type = %+v", be.HashType)
			}
			if fe.Balance.Algorithm != "" {
				t.Errorf("frontend inherited balance %+v", fe.Balance)
			}
		}},
		{"cookie", " cookie SRV insert indirect nocache maxidle 30 maxlife 2h", func(t *testing.T, fe, be, li *Proxy) {
			c := be.Cookie
			if c == nil || c.Name != "SRV" || c.Mode != "insert" || !c.Indirect || !c.NoCache || c.MaxIdle != 30*time.Second || c.MaxLife != 2*time.Hour {
				t.Errorf("cookie = %+v", c)
			}
			if fe.Cookie != nil {
				t.Errorf("frontend inherited cookie")
			}
		}},
		{"default-server seeds backends", " default-server inter 3s fall 5 weight 20", func(t *testing.T, fe, be, li *Proxy) {
			s := be.Servers[0].Params
			if s.Inter != 3*time.Second || s.Fall != 5 || s.Weight != 20 || s.Rise != 2 {
				t.Errorf("server params = %+v", s)
			}
		}},
		{"stats", " stats enable\n stats uri /st\n stats refresh 10", func(t *testing.T, fe, be, li *Proxy) {
			for _, p := range []*Proxy{fe, be, li} {
				if p.Stats == nil || !p.Stats.Enabled || p.Stats.URI != "/st" || p.Stats.Refresh != 10*time.Second {
					t.Errorf("%s: stats = %+v", p.Name, p.Stats)
				}
			}
		}},
		{"errorfile", " errorfile 503 /etc/haproxy/503.http\n errorloc302 404 https://x/404", func(t *testing.T, fe, be, li *Proxy) {
			e := be.ErrorFiles[503]
			if e == nil || e.File != "/etc/haproxy/503.http" || e.Keyword != "errorfile" {
				t.Errorf("errorfile 503 = %+v", e)
			}
			if l := fe.ErrorFiles[404]; l == nil || l.Location != "https://x/404" || l.Keyword != "errorloc302" {
				t.Errorf("errorloc 404 = %+v", l)
			}
		}},
		{"check rulesets", " option httpchk\n http-check send meth GET uri /health\n http-check expect status 200\n tcp-check connect", func(t *testing.T, fe, be, li *Proxy) {
			if len(be.HTTPCheck) != 2 || be.HTTPCheck[1].Action != "expect" || !slices.Equal(be.HTTPCheck[1].Args, []string{"status", "200"}) {
				t.Errorf("http-check = %+v", be.HTTPCheck)
			}
			if len(be.TCPCheck) != 1 || be.TCPCheck[0].Action != "connect" {
				t.Errorf("tcp-check = %+v", be.TCPCheck)
			}
			if be.Option("httpchk") == nil {
				t.Errorf("option httpchk not inherited")
			}
		}},
		{"frontend maxconn, backend fullconn", " maxconn 500\n fullconn 200", func(t *testing.T, fe, be, li *Proxy) {
			if fe.MaxConn != 500 || be.MaxConn != 0 || li.MaxConn != 500 {
				t.Errorf("maxconn fe=%d be=%d li=%d", fe.MaxConn, be.MaxConn, li.MaxConn)
			}
			if be.FullConn != 200 || fe.FullConn != 0 {
				t.Errorf("fullconn be=%d fe=%d", be.FullConn, fe.FullConn)
			}
		}},
		{"default_backend", " default_backend be", func(t *testing.T, fe, be, li *Proxy) {
			if fe.DefaultBackend != "be" || be.DefaultBackend != "" {
				t.Errorf("default_backend fe=%q be=%q", fe.DefaultBackend, be.DefaultBackend)
			}
		}},
		{"other statements", " log global\n compression algo gzip", func(t *testing.T, fe, be, li *Proxy) {
			if len(be.Other) != 2 || be.Other[0].Words[0] != "log" || be.Other[1].Words[0] != "compression" {
				t.Errorf("other = %+v", be.Other)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, defaultsWith(tt.lines))
			tt.check(t, proxy(t, cfg, "fe"), proxy(t, cfg, "be"), proxy(t, cfg, "li"))
		})
	}
}

func TestDefaultsSelection(t *testing.T) {
	cfg := mustLoad(t, `
defaults a
  mode http
  timeout connect 1s
defaults b from a
  timeout connect 2s
  retries 5
defaults
  timeout connect 3s
backend last
  server s 10.0.0.1:80
backend fromA from a
  server s 10.0.0.1:80
backend fromB from b
  server s 10.0.0.1:80
defaults c
  retries 9
backend afterC
  server s 10.0.0.1:80
`)
	tests := []struct {
		proxy       string
		defaults    string
		mode        string
		connect     time.Duration
		retries     int
		connectLine int
	}{
		// The last defaults before it (anonymous) resets mode to tcp.
		{"last", "", "tcp", 3 * time.Second, 3, 9},
		{"fromA", "a", "http", time.Second, 3, 4},
		// "defaults b from a" inherits a's mode and overrides the rest.
		{"fromB", "b", "http", 2 * time.Second, 5, 6},
		{"afterC", "c", "tcp", 0, 9, 0},
	}
	for _, tt := range tests {
		p := proxy(t, cfg, tt.proxy)
		if p.DefaultsName != tt.defaults || p.Mode != tt.mode || p.Timeouts.Connect.D != tt.connect || p.Retries != tt.retries || p.Timeouts.Connect.Pos.Line != tt.connectLine {
			t.Errorf("%s: defaults %q mode %q connect %v (line %d) retries %d; want %q %q %v (line %d) %d",
				tt.proxy, p.DefaultsName, p.Mode, p.Timeouts.Connect.D, p.Timeouts.Connect.Pos.Line, p.Retries,
				tt.defaults, tt.mode, tt.connect, tt.connectLine, tt.retries)
		}
	}
	if len(cfg.Defaults) != 4 || cfg.Defaults[1].Name != "b" || cfg.Defaults[1].DefaultsName != "a" {
		t.Errorf("defaults = %d sections, second %q from %q", len(cfg.Defaults), cfg.Defaults[1].Name, cfg.Defaults[1].DefaultsName)
	}
}

func TestNoAndDefaultOption(t *testing.T) {
	cfg := mustLoad(t, `
defaults
  option redispatch
  option allbackups
backend off
  no option redispatch
  server s 10.0.0.1:80
backend restored
  default option allbackups
  server s 10.0.0.1:80
backend kept
  server s 10.0.0.1:80
`)
	off := proxy(t, cfg, "off")
	if off.Option("redispatch") != nil {
		t.Error("no option redispatch left it enabled")
	}
	if o := off.Options["redispatch"]; o == nil || o.Enabled || o.Pos.Line != 6 {
		t.Errorf("disabled entry = %+v, want Enabled=false at line 6", o)
	}
	// "default option" restores the built-in setting, not the defaults'.
	if o, ok := proxy(t, cfg, "restored").Options["allbackups"]; ok {
		t.Errorf("default option allbackups left %+v, want no entry (built-in off)", o)
	}
	if proxy(t, cfg, "kept").Option("redispatch") == nil {
		t.Error("inherited option redispatch missing")
	}
}

func TestDefaultsRules(t *testing.T) {
	t.Run("named defaults rules run first", func(t *testing.T) {
		cfg, diags := load(t, `
defaults web
  mode http
  acl blocked path_beg /admin
  http-request deny if blocked
frontend fe from web
  bind :80
  http-request set-header X-A 1
  default_backend be
defaults
  mode http
backend be
  server s 10.0.0.1:80
`)
		fe := proxy(t, cfg, "fe")
		if len(fe.HTTPRequest) != 2 || fe.HTTPRequest[0].Action != "deny" || fe.HTTPRequest[1].Action != "set-header" {
			t.Fatalf("frontend rules = %+v", fe.HTTPRequest)
		}
		term := fe.HTTPRequest[0].Cond.Terms[0][0]
		if term.Name != "blocked" || len(term.Defs) != 1 || term.Defs[0].Fetch != "path_beg" {
			t.Errorf("inherited rule's ACL not resolved: %+v", term)
		}
		if len(fe.ACLs) != 0 {
			t.Errorf("defaults ACLs leaked into the proxy: %+v", fe.ACLs)
		}
		// The ACL and the rules are translated: no error.
		var want []string
		if got := errorsOf(diags); !slices.Equal(got, want) {
			t.Errorf("errors =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("anonymous defaults refuse rules", func(t *testing.T) {
		_, diags := load(t, "defaults\n  http-request deny\n  tcp-request content reject\n")
		want := []string{
			"t.cfg:2: http-request deny: 'http-request' not allowed in anonymous 'defaults' section; name the section and inherit from it with 'from <name>'",
			"t.cfg:3: tcp-request content reject: 'tcp-request' not allowed in anonymous 'defaults' section; name the section and inherit from it with 'from <name>'",
		}
		if got := errorsOf(diags); !slices.Equal(got, want) {
			t.Errorf("errors =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("listen cannot inherit rules", func(t *testing.T) {
		_, diags := load(t, "defaults d\n  http-request deny\nlisten l from d\n  bind :80\n")
		if !hasDiag(diags, Error, "t.cfg:3: listen: a listen section cannot inherit from a defaults section defining TCP/HTTP rules (defaults 'd' at t.cfg:1)") {
			t.Errorf("errors = %q", errorsOf(diags))
		}
	})
	t.Run("defaults cannot inherit rules", func(t *testing.T) {
		_, diags := load(t, "defaults d\n  http-request deny\ndefaults e from d\n")
		if got := errorsOf(diags); len(got) != 1 || got[0] != "t.cfg:3: defaults: a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults 'd' at t.cfg:1)" {
			t.Errorf("errors = %q", got)
		}
	})
	t.Run("frontends and backends cannot share rules", func(t *testing.T) {
		_, diags := load(t, "defaults d\n  mode http\n  tcp-request content accept\nfrontend f from d\n  bind :80\n  default_backend b\nbackend b from d\n  server s 10.0.0.1:80\n")
		if !hasDiag(diags, Error, "t.cfg:7: backend: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults 'd' at t.cfg:1)") {
			t.Errorf("errors = %q", errorsOf(diags))
		}
	})
	t.Run("ambiguous from", func(t *testing.T) {
		_, diags := load(t, "defaults a\n  mode http\ndefaults a\n  mode tcp\nbackend b from a\n  server s 10.0.0.1:80\n")
		want := []string{"t.cfg:5: backend: ambiguous defaults section name 'a' referenced by backend 'b' exists at least at t.cfg:1 and t.cfg:3"}
		if got := errorsOf(diags); !slices.Equal(got, want) {
			t.Errorf("errors = %q, want %q", got, want)
		}
	})
	t.Run("unknown from", func(t *testing.T) {
		_, diags := load(t, "backend b from nope\n  server s 10.0.0.1:80\n")
		if !hasDiag(diags, Error, "t.cfg:1: backend: backend 'b' inherits from unknown defaults section 'nope'") {
			t.Errorf("errors = %q", errorsOf(diags))
		}
	})
}

func TestNotAllowedInDefaults(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"bind :80", "t.cfg:2: bind: 'bind' is not allowed in a 'defaults' section"},
		{"server s 10.0.0.1:80", "t.cfg:2: server: 'server' is not allowed in a 'defaults' section"},
		{"use_backend x", "t.cfg:2: use_backend: 'use_backend' is not allowed in a 'defaults' section"},
		{"redirect prefix /x", "t.cfg:2: redirect: 'redirect' is not allowed in a 'defaults' section"},
		{"stick on src", "t.cfg:2: stick on: 'stick on' is not allowed in a 'defaults' section"},
		{"stats admin if TRUE", "t.cfg:2: stats admin: 'stats admin' is not allowed in a 'defaults' section"},
		{"monitor fail if TRUE", "t.cfg:2: monitor fail: 'monitor fail' is not allowed in a 'defaults' section"},
		{"description x", "t.cfg:2: description: 'description' is not allowed in a 'defaults' section"},
	} {
		_, diags := load(t, "defaults d\n  "+tt.line+"\n")
		if got := errorsOf(diags); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: errors = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestCapabilityMismatch(t *testing.T) {
	_, diags := load(t, `
frontend f
  bind :80
  balance roundrobin
  timeout server 3s
  server s 10.0.0.1:80
backend b
  maxconn 10
  bind :81
`)
	wantW := []string{
		"t.cfg:4: balance: ignored because frontend 'f' has no backend capability",
		"t.cfg:5: timeout server: ignored because frontend 'f' has no backend capability",
		"t.cfg:8: maxconn: ignored because backend 'b' has no frontend capability",
		"t.cfg:9: bind: ignored because backend 'b' has no frontend capability",
	}
	if got := warningsOf(diags); !slices.Equal(got, wantW) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, wantW)
	}
	wantE := []string{"t.cfg:6: server: 'server' not allowed because frontend 'f' has no backend capability"}
	if got := errorsOf(diags); !slices.Equal(got, wantE) {
		t.Errorf("errors = %q, want %q", got, wantE)
	}
}

func TestLegacyKeywords(t *testing.T) {
	cfg, diags := load(t, `
backend b
  contimeout 4s
  clitimeout 5s
  srvtimeout 6s
  redispatch
  server s 10.0.0.1:80
frontend f
  bind :80
  block if { path /x }
  reqadd X-Foo:\ bar
  rspdel ^Server:
  default_backend b
`)
	b := proxy(t, cfg, "b")
	if b.Timeouts.Connect.D != 4*time.Second || b.Timeouts.Server.D != 6*time.Second || b.Option("redispatch") == nil {
		t.Errorf("legacy backend settings: %+v redispatch=%v", b.Timeouts, b.Option("redispatch"))
	}
	f := proxy(t, cfg, "f")
	if len(f.HTTPRequest) != 2 || f.HTTPRequest[0].Keyword != "block" || f.HTTPRequest[0].Action != "deny" || condString(f.HTTPRequest[0].Cond) != "if { path /x }" {
		t.Fatalf("block rule = %+v", f.HTTPRequest)
	}
	if r := f.HTTPRequest[1]; r.Keyword != "reqadd" || r.Action != "reqadd" || !slices.Equal(r.Args, []string{"X-Foo: bar"}) {
		t.Errorf("reqadd rule = %+v", r)
	}
	if len(f.HTTPResponse) != 1 || f.HTTPResponse[0].Keyword != "rspdel" {
		t.Errorf("rspdel rule = %+v", f.HTTPResponse)
	}
	wantW := []string{
		"t.cfg:3: contimeout: 'contimeout' was removed in HAProxy 2.1; read as 'timeout connect'",
		"t.cfg:4: clitimeout: ignored because backend 'b' has no frontend capability",
		"t.cfg:5: srvtimeout: 'srvtimeout' was removed in HAProxy 2.1; read as 'timeout server'",
		"t.cfg:6: redispatch: 'redispatch' is deprecated (removed in HAProxy 2.1); read as 'option redispatch'",
	}
	if got := warningsOf(diags); !slices.Equal(got, wantW) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, wantW)
	}
	wantE := []string{
		"t.cfg:12: rspdel: not supported: removed in HAProxy 2.1 (http-response rules); http-response rules are not translated yet; express them with Caddy handlers or remove the line",
	}
	if got := errorsOf(diags); !slices.Equal(got, wantE) {
		t.Errorf("errors =\n%q\nwant\n%q", got, wantE)
	}
	_, diags = load(t, "backend b\n  appsession JSESSIONID len 52 timeout 3h\n")
	if got := errorsOf(diags); len(got) != 1 || got[0] != "t.cfg:2: appsession: not supported: removed in HAProxy 1.6; use 'cookie <name> insert' with server cookies, or stick tables" {
		t.Errorf("appsession errors = %q", got)
	}
}

func TestProxyNames(t *testing.T) {
	cfg, diags := load(t, `
frontend www
  bind :80
  default_backend www
backend www
  server s 10.0.0.1:80
listen api
  bind :81
backend api
frontend www
  bind :82
`)
	want := []string{
		"t.cfg:9: backend: backend 'api' has the same name as listen 'api' declared at t.cfg:7",
		"t.cfg:10: frontend: frontend 'www' has the same name as frontend 'www' declared at t.cfg:2",
	}
	if got := errorsOf(diags); !slices.Equal(got, want) {
		t.Errorf("errors =\n%q\nwant\n%q", got, want)
	}
	if b := cfg.Backend("www"); b == nil || b.Kind != KindBackend || b.Pos.Line != 5 {
		t.Errorf("Backend(www) = %+v", b)
	}
	if f := cfg.Frontend("www"); f == nil || f.Kind != KindFrontend || f.Pos.Line != 2 {
		t.Errorf("Frontend(www) = %+v", f)
	}
	if cfg.Backend("nope") != nil || cfg.Frontend("api") != cfg.Proxy("api") {
		t.Error("Backend/Frontend lookups disagree with Proxy")
	}
}
