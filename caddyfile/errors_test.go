package caddyfile

import (
	"strings"
	"testing"
)

// TestPolicyErrors checks that a block the policy cannot carry out is
// refused with the Caddyfile's file:line and the keyword.
func TestPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string // lines of the lb_policy block; line 4 of the file is the first
		want  string
	}{
		{"misspelt server option", "server s1 127.0.0.1:9001 wieght 5",
			`Caddyfile:4: lb_policy haproxy: server "s1": unknown option "wieght" (did you mean "weight"?)`},
		{"unknown keyword", "server s1 127.0.0.1:9001\nbalanse roundrobin",
			`Caddyfile:5: lb_policy haproxy: unknown or unsupported keyword "balanse"`},
		{"retries", "server s1 127.0.0.1:9001\nretries 3",
			`Caddyfile:5: lb_policy haproxy: "retries" is not supported here: write lb_retries`},
		{"timeout connect", "timeout connect 5s\nserver s1 127.0.0.1:9001",
			`Caddyfile:4: lb_policy haproxy: "timeout connect" is not supported here: write dial_timeout`},
		{"timeout server", "server s1 127.0.0.1:9001\ntimeout server 30s",
			`Caddyfile:5: lb_policy haproxy: "timeout server" is not supported here`},
		{"unsupported option", "option httplog\nserver s1 127.0.0.1:9001",
			`Caddyfile:4: lb_policy haproxy: unknown or unsupported keyword "option httplog"`},
		{"http-request", "http-request deny\nserver s1 127.0.0.1:9001",
			`Caddyfile:4: lb_policy haproxy: "http-request" is not supported here`},
		{"ssl server", "server s1 127.0.0.1:9001\nserver s2 127.0.0.1:9002 ssl verify none",
			`Caddyfile:5: lb_policy haproxy: server "s2": ssl is not supported here`},
		{"send-proxy", "server s1 127.0.0.1:9001 send-proxy",
			`Caddyfile:4: lb_policy haproxy: server "s1": send-proxy is not supported here`},
		{"mode tcp", "mode tcp\nserver s1 127.0.0.1:9001",
			`Caddyfile:4: lb_policy haproxy: mode tcp: the block is in mode http`},
		{"no server", "balance leastconn",
			`Caddyfile:3: lb_policy haproxy: the block names no server`},
		{"bad balance", "balance roundrobbin\nserver s1 127.0.0.1:9001",
			`Caddyfile:4: lb_policy haproxy: balance`},
		{"bad weight", "server s1 127.0.0.1:9001 weight 300",
			`Caddyfile:4: lb_policy haproxy: server "s1"`},
		{"nested block", "server s1 127.0.0.1:9001 {\n}",
			`HAProxy's backend syntax has no nested blocks`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ":8080 {\n\treverse_proxy {\n\t\tlb_policy haproxy web {\n\t\t\t" +
				strings.ReplaceAll(tc.block, "\n", "\n\t\t\t") + "\n\t\t}\n\t}\n}\n"
			_, err := adapt(t, "Caddyfile", []byte(body))
			if err == nil {
				t.Fatalf("adapted without error:\n%s", body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n %v\nwant it to contain:\n %s", err, tc.want)
			}
		})
	}
}

// TestDirectiveErrors checks the syntax of haproxy_cookie and
// haproxy_frontend.
func TestDirectiveErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{":8080 {\n\thaproxy_cookie SRV\n\treverse_proxy 127.0.0.1:9001\n}\n", "Caddyfile:2"},
		{":8080 {\n\thaproxy_cookie {\n\t\tname SRV\n\t}\n\treverse_proxy 127.0.0.1:9001\n}\n", "haproxy_cookie takes no block"},
		{":8080 {\n\thaproxy_frontend\n\trespond ok\n}\n", "Caddyfile:2"},
		{":8080 {\n\thaproxy_frontend a b\n\trespond ok\n}\n", "Caddyfile:2"},
		{":8080 {\n\thaproxy_frontend a {\n\t\tmaxconn 5\n\t}\n}\n", "haproxy_frontend takes no block"},
	} {
		if _, err := adapt(t, "Caddyfile", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
}

// TestTCPBlockErrors checks that the layer4 haproxy block refuses what
// the handler does not carry out, with the Caddyfile's file:line.
func TestTCPBlockErrors(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"bind :5432\nserver s1 127.0.0.1:9001", `Caddyfile:6: haproxy: "bind" is not supported here`},
		{"server s1 127.0.0.1:9001\ncookie SRV insert", `Caddyfile:7: haproxy: "cookie" is not supported here`},
		{"server s1 127.0.0.1:9001 wieght 2", `Caddyfile:6: haproxy: server "s1": unknown option "wieght"`},
		{"mode http\nserver s1 127.0.0.1:9001", `Caddyfile:6: haproxy: mode http: the block is in mode tcp`},
		{"balance leastconn", `Caddyfile:5: haproxy: the block names no server`},
	} {
		body := "{\n\tlayer4 {\n\t\t:5432 {\n\t\t\troute {\n\t\t\t\thaproxy db {\n\t\t\t\t\t" +
			strings.ReplaceAll(tc.block, "\n", "\n\t\t\t\t\t") + "\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n}\n"
		if _, err := adapt(t, "Caddyfile", []byte(body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.block, err, tc.want)
		}
	}
}
