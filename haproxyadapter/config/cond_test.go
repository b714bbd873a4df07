package config

import (
	"reflect"
	"slices"
	"testing"
)

// frontendWith wraps lines in a frontend that defines ACLs a, b and c.
func frontendWith(lines string) string {
	return "frontend f\n  mode http\n  bind :80\n  acl a path /a\n  acl b path /b\n  acl c path /c\n" + lines + "\n"
}

func TestConditions(t *testing.T) {
	tests := []struct{ cond, want string }{
		{"if a", "if a"},
		{"unless a", "unless a"},
		{"if a b", "if a b"},
		{"if a b or c", "if a b || c"},
		{"if a || b c", "if a || b c"},
		{"if !a", "if !a"},
		{"if ! a", "if !a"},
		{"if !a !b", "if !a !b"},
		{"if { path_beg /api }", "if { path_beg /api }"},
		{"if !{ ssl_fc }", "if !{ ssl_fc }"},
		{"if ! { ssl_fc }", "if !{ ssl_fc }"},
		{"if { hdr(host) -i -m dom example.com www.example.com } a", "if { hdr(host) -i -m dom example.com www.example.com } a"},
		{"if a or { src -f /etc/allow.lst } !b", "if a || { src -f /etc/allow.lst } !b"},
		{"if a OR b Or c", "if a || b || c"},
		{"if TRUE", "if TRUE"},
		{"if METH_GET HTTP_1.1 LOCALHOST", "if METH_GET HTTP_1.1 LOCALHOST"},
		// Empty operands of "or" are dropped, as HAProxy accepts them.
		{"if a or", "if a"},
		{"if or a", "if a"},
	}
	for _, tt := range tests {
		cfg, diags := load(t, frontendWith("  use_backend x "+tt.cond+"\nbackend x\n  mode http\n  server s 10.0.0.1:80"))
		for _, d := range diags {
			if d.Severity == Error && d.Message != "not supported: "+noteCond && d.Keyword != "acl" {
				t.Errorf("%s: %s", tt.cond, d.Error())
			}
		}
		f := proxy(t, cfg, "f")
		if len(f.UseBackends) != 1 {
			t.Errorf("%s: use_backend not modeled", tt.cond)
			continue
		}
		if got := condString(f.UseBackends[0].Cond); got != tt.want {
			t.Errorf("%s: parsed as %q, want %q", tt.cond, got, tt.want)
		}
	}
}

func TestConditionResolvesACLs(t *testing.T) {
	cfg, _ := load(t, `
frontend f
  mode http
  bind :80
  acl api path_beg /api
  acl api path_beg /v2
  acl other hdr(host) -i x.example
  http-request deny if api !other TRUE
  default_backend b
backend b
  server s 10.0.0.1:80
`)
	f := proxy(t, cfg, "f")
	terms := f.HTTPRequest[0].Cond.Terms[0]
	if len(terms[0].Defs) != 2 || terms[0].Defs[1].Patterns[0] != "/v2" {
		t.Errorf("api defs = %+v", terms[0].Defs)
	}
	if len(terms[1].Defs) != 1 || !terms[1].Negate || terms[1].Defs[0] != f.ACLs[2] {
		t.Errorf("other term = %+v", terms[1])
	}
	if terms[2].Name != "TRUE" || terms[2].Defs != nil {
		t.Errorf("TRUE term = %+v", terms[2])
	}
}

func TestACLLines(t *testing.T) {
	tests := []struct {
		line  string
		fetch string
		flags [][]string
		pats  []string
	}{
		{"acl x path_beg /api /v1", "path_beg", nil, []string{"/api", "/v1"}},
		{"acl x hdr(host) -i example.com", "hdr(host)", [][]string{{"-i"}}, []string{"example.com"}},
		{"acl x req.hdr(host),lower -m end .example.com", "req.hdr(host),lower", [][]string{{"-m", "end"}}, []string{".example.com"}},
		{"acl x src -f /etc/a.lst -f /etc/b.lst -n", "src", [][]string{{"-f", "/etc/a.lst"}, {"-f", "/etc/b.lst"}, {"-n"}}, nil},
		{"acl x req.cook(x) -m found", "req.cook(x)", [][]string{{"-m", "found"}}, nil},
		{"acl x hdr_cnt(x) -- -1", "hdr_cnt(x)", [][]string{{"--"}}, []string{"-1"}},
		{"acl x path -M -f /etc/map -u 3", "path", [][]string{{"-M"}, {"-f", "/etc/map"}, {"-u", "3"}}, nil},
		{"acl x path -i /A -x", "path", [][]string{{"-i"}}, []string{"/A", "-x"}},
		{"acl x dst_port 80 443 8000:8080", "dst_port", nil, []string{"80", "443", "8000:8080"}},
	}
	for _, tt := range tests {
		cfg, _ := load(t, "frontend f\n  "+tt.line+"\n")
		acls := proxy(t, cfg, "f").ACLs
		if len(acls) != 1 {
			t.Errorf("%s: %d ACLs", tt.line, len(acls))
			continue
		}
		a := acls[0]
		if a.Name != "x" || a.Fetch != tt.fetch || !reflect.DeepEqual(a.Flags, tt.flags) || !slices.Equal(a.Patterns, tt.pats) || a.Pos.Line != 2 {
			t.Errorf("%s: got %+v", tt.line, a)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"http-request deny if { path /y", "t.cfg:7: http-request: missing closing '}' in condition"},
		{"http-request deny if path }", "t.cfg:7: http-request: no such ACL: 'path'"},
		{"http-request deny if a }", "t.cfg:7: http-request: unexpected '}' in condition (no matching '{')"},
		{"http-request deny if { }", "t.cfg:7: http-request: missing fetch method in anonymous ACL '{ }'"},
		{"http-request deny if nope", "t.cfg:7: http-request: no such ACL: 'nope'"},
		{"http-request deny if aa", "t.cfg:7: http-request: no such ACL: 'aa' (did you mean 'a'?)"},
		{"http-request deny if TRUEE", "t.cfg:7: http-request: no such ACL: 'TRUEE' (did you mean 'TRUE'?)"},
		{"use_backend x if later", "t.cfg:7: use_backend: no such ACL: 'later'"},
		{"use_backend x when a", "t.cfg:7: use_backend: expected 'if' or 'unless' before the condition, found 'when a'"},
		{"acl m method -m foo GET", "t.cfg:7: acl: unknown matching method 'foo'"},
		{"acl m path -m sbu /x", "t.cfg:7: acl: unknown matching method 'sbu' (did you mean 'sub'?)"},
		{"acl m path -f", "t.cfg:7: acl: flag '-f' needs an argument"},
		{"acl m", "t.cfg:7: acl: missing argument; usage: acl <name> <fetch> [flags] [patterns]"},
		{"acl m/x path /x", "t.cfg:7: acl: invalid ACL name 'm/x': only letters, digits, '-', '_', '.' and ':' are allowed"},
		{"acl m hdr(host -i x", "t.cfg:7: acl: unbalanced parentheses in fetch 'hdr(host'"},
		{"acl m pth_beg /x", "t.cfg:7: acl: unknown fetch method 'pth_beg' in ACL expression (did you mean 'path_beg'?)"},
		{"acl m req.hdr(host),lowr -m end .x", "t.cfg:7: acl: unknown converter 'lowr' in 'req.hdr(host),lowr' (did you mean 'lower'?)"},
		{"http-request deny if { sr 10.0.0.0/8 }", "t.cfg:7: http-request: unknown fetch method 'sr' in ACL expression (did you mean 'src'?)"},
		{"http-request deny if { path -m nope /x }", "t.cfg:7: http-request: unknown matching method 'nope'"},
		{"monitor fail a", "t.cfg:7: monitor fail: expects 'if' or 'unless' followed by a condition"},
		{"block a", "t.cfg:7: block: expects 'if' or 'unless' followed by a condition"},
	}
	for _, tt := range tests {
		_, diags := load(t, frontendWith(tt.line+"\n  acl later path /l\nbackend x\n  server s 10.0.0.1:80"))
		var got []string
		for _, e := range errorsOf(diags) {
			// The refusal of acl lines and rules is tested elsewhere.
			if !containsAny(e, "not supported:") {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

func TestEmptyConditionWarns(t *testing.T) {
	cfg, diags := load(t, frontendWith("  use_backend x if\n  use_backend x if a !\nbackend x\n  mode http\n  server s 10.0.0.1:80"))
	for _, w := range []string{
		"t.cfg:7: use_backend: empty condition after 'if'",
		"t.cfg:8: use_backend: '!' at the end of the condition negates nothing and is ignored",
	} {
		if !hasDiag(diags, Warning, w) {
			t.Errorf("missing warning %q in %q", w, warningsOf(diags))
		}
	}
	if ub := proxy(t, cfg, "f").UseBackends; len(ub) != 2 || condString(ub[1].Cond) != "if a" {
		t.Errorf("use_backend = %+v", ub)
	}
}

func TestRules(t *testing.T) {
	cfg, _ := load(t, `
frontend f
  mode http
  bind :80
  acl api path_beg /api
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request deny deny_status 429 unless api
  http-request set-var(txn.host) req.hdr(host)
  http-request track-sc0 src
  http-response del-header Server
  http-after-response set-header X-A b
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  tcp-request connection reject if { src 10.0.0.0/8 }
  redirect scheme https code 301 if !{ ssl_fc }
  use_backend api if api
  use_backend %[req.hdr(host),lower]
  default_backend web
  monitor-uri /health
  monitor fail if { nbsrv(web) lt 1 }
backend web
  server s 10.0.0.1:80
  http-check expect status 200
  tcp-check send PING\r\n
  use-server s if { path /s }
  stats admin if LOCALHOST
  stats http-request auth realm Admin unless { src 127.0.0.1 }
backend api
  server s 10.0.0.2:80
`)
	f := proxy(t, cfg, "f")
	type r struct{ kw, action, args, cond string }
	var got []r
	for _, list := range [][]*Rule{f.HTTPRequest, f.HTTPResponse, f.HTTPAfterResponse, f.TCPRequest, f.Redirects} {
		for _, x := range list {
			got = append(got, r{x.Keyword, x.Action, join(x.Args), condString(x.Cond)})
		}
	}
	want := []r{
		{"http-request", "set-header", "X-Forwarded-Proto https", "if { ssl_fc }"},
		{"http-request", "deny", "deny_status 429", "unless api"},
		{"http-request", "set-var(txn.host)", "req.hdr(host)", ""},
		{"http-request", "track-sc0", "src", ""},
		{"http-response", "del-header", "Server", ""},
		{"http-after-response", "set-header", "X-A b", ""},
		{"tcp-request", "inspect-delay", "5s", ""},
		{"tcp-request", "content accept", "", "if { req.ssl_hello_type 1 }"},
		{"tcp-request", "connection reject", "", "if { src 10.0.0.0/8 }"},
		{"redirect", "redirect", "scheme https code 301", "if !{ ssl_fc }"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules =\n%v\nwant\n%v", got, want)
	}
	if len(f.UseBackends) != 2 || f.UseBackends[0].Backend != "api" || condString(f.UseBackends[0].Cond) != "if api" ||
		f.UseBackends[1].Backend != "%[req.hdr(host),lower]" || f.UseBackends[1].Cond != nil {
		t.Errorf("use_backend = %+v", f.UseBackends)
	}
	if f.MonitorURI != "/health" || len(f.MonitorFail) != 1 || condString(f.MonitorFail[0]) != "if { nbsrv(web) lt 1 }" {
		t.Errorf("monitor = %q %+v", f.MonitorURI, f.MonitorFail)
	}
	w := proxy(t, cfg, "web")
	if len(w.HTTPCheck) != 1 || w.HTTPCheck[0].Action != "expect" || len(w.TCPCheck) != 1 || w.TCPCheck[0].Args[0] != "PING\r\n" {
		t.Errorf("checks = %+v %+v", w.HTTPCheck, w.TCPCheck)
	}
	if len(w.UseServers) != 1 || w.UseServers[0].Server != "s" || condString(w.UseServers[0].Cond) != "if { path /s }" {
		t.Errorf("use-server = %+v", w.UseServers)
	}
	if w.Stats == nil || len(w.Stats.Admin) != 1 || condString(w.Stats.Admin[0]) != "if LOCALHOST" ||
		len(w.Stats.HTTPRequests) != 1 || w.Stats.HTTPRequests[0].Action != "auth" || join(w.Stats.HTTPRequests[0].Args) != "realm Admin" {
		t.Errorf("stats = %+v", w.Stats)
	}
}

func join(s []string) string {
	out := ""
	for i, w := range s {
		if i > 0 {
			out += " "
		}
		out += w
	}
	return out
}

func TestBackendReferences(t *testing.T) {
	_, diags := load(t, `
frontend f
  mode http
  bind :80
  use_backend missing
  use_backend %[req.hdr(host)]
  default_backend f2
frontend f2
  bind :81
  default_backend tcpbe
backend tcpbe
  mode tcp
  server s 10.0.0.1:80
frontend f3
  mode http
  bind :82
  default_backend tcpbe
`)
	want := []string{
		"t.cfg:5: use_backend: frontend 'f' refers to unknown backend 'missing'",
		"t.cfg:7: default_backend: frontend 'f' refers to 'f2', which is a frontend (it has no servers)",
		"t.cfg:17: default_backend: frontend 'f3' is in mode http but backend 'tcpbe' is in mode tcp",
	}
	if got := errorsOf(diags); !slices.Equal(got, want) {
		t.Errorf("errors =\n%q\nwant\n%q", got, want)
	}
}
