package config

import (
	"fmt"
	"slices"
	"testing"
)

func TestParseBindAddress(t *testing.T) {
	tests := []struct {
		in      string
		network string
		host    string
		lo, hi  int
		err     string
	}{
		{":80", "tcp", "", 80, 80, ""},
		{"*:80", "tcp", "", 80, 80, ""},
		{"0.0.0.0:443", "tcp", "", 443, 443, ""},
		{"127.0.0.1:8080", "tcp", "127.0.0.1", 8080, 8080, ""},
		{"10.0.0.1:8000-8010", "tcp", "10.0.0.1", 8000, 8010, ""},
		{"[::]:443", "tcp6", "::", 443, 443, ""},
		{":::443", "tcp6", "::", 443, 443, ""},
		{"[2001:db8::1]:80", "tcp6", "2001:db8::1", 80, 80, ""},
		{"ipv6@:::443", "tcp6", "::", 443, 443, ""},
		{"ipv4@:80", "tcp4", "", 80, 80, ""},
		{"ipv4@10.0.0.1:80", "tcp4", "10.0.0.1", 80, 80, ""},
		{"/run/haproxy.sock", "unix", "/run/haproxy.sock", 0, 0, ""},
		{"unix@/run/x.sock", "unix", "/run/x.sock", 0, 0, ""},
		{"abns@name", "abns", "name", 0, 0, ""},
		{"fd@3", "fd", "3", 0, 0, ""},
		{"10.0.0.1", "", "", 0, 0, "missing port in address '10.0.0.1' (write '10.0.0.1:<port>' or ':<port>')"},
		{"10.0.0.1:", "", "", 0, 0, "missing port in address '10.0.0.1:'"},
		{":0", "", "", 0, 0, "invalid port '0' in address ':0': 0 is out of range (1..65535)"},
		{":70000", "", "", 0, 0, "invalid port '70000' in address ':70000': 70000 is out of range (1..65535)"},
		{":90-80", "", "", 0, 0, "invalid port '90-80' in address ':90-80': range end 80 is lower than its start 90"},
		{":http", "", "", 0, 0, `invalid port 'http' in address ':http': invalid number "http"`},
		{"[::1:80", "", "", 0, 0, "missing ']' in address '[::1:80'"},
		{"[::1]", "", "", 0, 0, "missing port in address '[::1]'"},
		{"tcpx@:80", "", "", 0, 0, "unknown address family 'tcpx@' in 'tcpx@:80'"},
		{"unix@", "", "", 0, 0, "missing socket path in 'unix@'"},
	}
	for _, tt := range tests {
		b, err := ParseBindAddress(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseBindAddress(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseBindAddress(%q): %v", tt.in, err)
			continue
		}
		if b.Address != tt.in || b.Network != tt.network || b.Host != tt.host || b.PortLow != tt.lo || b.PortHigh != tt.hi {
			t.Errorf("ParseBindAddress(%q) = %+v; want %s %q %d-%d", tt.in, b, tt.network, tt.host, tt.lo, tt.hi)
		}
	}
}

func TestBindLines(t *testing.T) {
	cfg, diags := load(t, `
frontend f
  bind :80,10.0.0.1:81,[::]:82
  bind *:443 ssl crt /etc/a.pem crt /etc/b.pem alpn h2,http/1.1 ssl-min-ver TLSv1.2 name https id 7 strict-sni
  bind :8443 ssl crt-list /etc/list.txt ca-file /etc/ca.pem verify required accept-proxy
  bind :::8080 v4v6 proto h2 maxconn 100 defer-accept
listen legacy 0.0.0.0:9000
`)
	f := proxy(t, cfg, "f")
	var addrs []string
	for _, b := range f.Binds {
		addrs = append(addrs, fmt.Sprintf("%s %s %q %d", b.Address, b.Network, b.Host, b.PortLow))
	}
	want := []string{
		`:80 tcp "" 80`,
		`10.0.0.1:81 tcp "10.0.0.1" 81`,
		`[::]:82 tcp6 "::" 82`,
		`*:443 tcp "" 443`,
		`:8443 tcp "" 8443`,
		`:::8080 tcp6 "::" 8080`,
	}
	if !slices.Equal(addrs, want) {
		t.Fatalf("binds =\n%q\nwant\n%q", addrs, want)
	}
	if b := f.Binds[0]; b.SSL || b.Pos.Line != 3 || f.Binds[2].Pos.Line != 3 {
		t.Errorf("first bind = %+v", b)
	}
	tls := f.Binds[3]
	if !tls.SSL || !slices.Equal(tls.Certs, []string{"/etc/a.pem", "/etc/b.pem"}) || !slices.Equal(tls.ALPN, []string{"h2", "http/1.1"}) ||
		tls.SSLMinVer != "TLSv1.2" || tls.Name != "https" || tls.ID != 7 || !tls.StrictSNI {
		t.Errorf("tls bind = %+v", tls)
	}
	if !slices.Equal(tls.Params, []string{"ssl", "crt", "/etc/a.pem", "crt", "/etc/b.pem", "alpn", "h2,http/1.1", "ssl-min-ver", "TLSv1.2", "name", "https", "id", "7", "strict-sni"}) {
		t.Errorf("params = %q", tls.Params)
	}
	mtls := f.Binds[4]
	if !slices.Equal(mtls.CrtLists, []string{"/etc/list.txt"}) || mtls.CAFile != "/etc/ca.pem" || mtls.Verify != "required" || !mtls.AcceptProxy {
		t.Errorf("mtls bind = %+v", mtls)
	}
	if b := f.Binds[5]; !b.V4V6 || b.Proto != "h2" || b.MaxConn != 100 {
		t.Errorf("h2c bind = %+v", b)
	}
	if b := proxy(t, cfg, "legacy").Binds; len(b) != 1 || b[0].Address != "0.0.0.0:9000" || b[0].PortLow != 9000 || b[0].Pos.Line != 7 {
		t.Errorf("legacy listen bind = %+v", b)
	}
	// Every parameter above is read (crt-list files are read by the
	// translation).
	var wantE []string
	if got := errorsOf(diags); !slices.Equal(got, wantE) {
		t.Errorf("errors = %q, want %q", got, wantE)
	}
	wantW := []string{
		`t.cfg:6: bind ":::8080": option "maxconn" ignored: ` + noteMaxConn,
		`t.cfg:6: bind ":::8080": option "defer-accept" ignored: ` + noteTune,
	}
	if got := warningsOf(diags); !slices.Equal(got, wantW) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, wantW)
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"bind :443 sll crt /x.pem", `t.cfg:3: bind ":443": unknown option "sll" (did you mean "ssl"?)`},
		{"bind :443 ssl crt", `t.cfg:3: bind ":443": option "crt" needs an argument`},
		{"bind :443 ssl verify maybe", `t.cfg:3: bind ":443": option "verify": invalid value 'maybe' (expected none, optional, required)`},
		{"bind :443 ssl ssl-min-ver TLS1.2", `t.cfg:3: bind ":443": option "ssl-min-ver": invalid value 'TLS1.2' (expected SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3)`},
		{"bind 10.0.0.1", `t.cfg:3: bind "10.0.0.1": missing port in address '10.0.0.1' (write '10.0.0.1:<port>' or ':<port>')`},
		{"bind :80,:x", `t.cfg:3: bind ":80,:x": invalid port 'x' in address ':x': invalid number "x"`},
		{"bind", `t.cfg:3: bind: missing address`},
		{"bind /run/x.sock user haproxy group haproxy", `t.cfg:3: bind "/run/x.sock": options "user", "group" not supported: UNIX socket ownership is not applied; set it on the socket's directory and remove the parameter`},
		{"bind /run/x.sock mode 99", `t.cfg:3: bind "/run/x.sock": option "mode": invalid octal permissions '99'`},
	}
	for _, tt := range tests {
		_, diags := load(t, "frontend f\n  mode http\n  "+tt.line+"\n")
		if got := errorsOf(diags); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}
