package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSourceLines(t *testing.T) {
	cfg := mustLoad(t, `defaults
  source 127.0.0.9
frontend fe
  bind :80
  default_backend be
backend be
  server s1 127.0.0.1:8080
  server s2 127.0.0.1:8081 source [::1]:4000 usesrc clientip interface lo
listen li
  bind :81
  source 0.0.0.0:0 usesrc client
  server s3 127.0.0.1:8082
`)
	byName := map[string]*Proxy{}
	for _, p := range cfg.Proxies {
		byName[p.Name] = p
	}
	if byName["fe"].Source != nil {
		t.Errorf("a frontend inherited source: %+v", byName["fe"].Source)
	}
	if src := byName["be"].Source; src == nil || src.Addr != netip.MustParseAddr("127.0.0.9") || src.Pos.Line != 2 {
		t.Errorf("backend source %+v, want 127.0.0.9 from line 2", src)
	}
	s2 := byName["be"].Servers[1].Params.Source
	if s2 == nil || s2.Addr != netip.MustParseAddr("::1") || s2.Port != 4000 || s2.UseSrc != "clientip" || s2.Interface != "lo" {
		t.Errorf("server source %+v", s2)
	}
	if src := byName["li"].Source; src == nil || !src.Addr.IsUnspecified() || src.UseSrc != "client" {
		t.Errorf("listen source %+v", src)
	}
}

func TestSourceErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"source db.example.com", "is not an IP address"},
		{"source 10.0.0.1:1000-2000", "port range"},
		{"source 10.0.0.1 usesrc hdr_ip(x-forwarded-for)", "hdr_ip"},
		{"source 10.0.0.1 usesrc", "'usesrc' needs an argument"},
		{"source 10.0.0.1 frobnicate x", "unexpected 'frobnicate'"},
	} {
		_, diags := load(t, "backend be\n  "+tc.line+"\n  server s 127.0.0.1:80\n")
		errs := strings.Join(errorsOf(diags), "\n")
		if !strings.Contains(errs, "t.cfg:2") || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: errors %q, want one at t.cfg:2 saying %q", tc.line, errs, tc.want)
		}
	}
}
