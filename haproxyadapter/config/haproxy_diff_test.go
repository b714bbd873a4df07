package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgreesWithHAProxy runs small configurations through Build and through
// "haproxy -c" and checks that both accept or both reject them. Refusals
// by status ("not supported") are the adapter's own policy and do not
// count; legacy keywords HAProxy 2.6 rejects but the adapter reads are not
// in this list.
func TestAgreesWithHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed; CI installs it")
	}
	const head = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
	const be = "backend be\n  server s 127.0.0.1:1\n"
	tests := []struct {
		name string
		cfg  string
	}{
		{"minimal", "frontend fe\n  bind 127.0.0.1:18100\n  default_backend be\n" + be},
		{"weight 256", "backend b\n  server s 127.0.0.1:1 weight 256\n"},
		{"weight 257", "backend b\n  server s 127.0.0.1:1 weight 257\n"},
		{"unknown server option", "backend b\n  server s 127.0.0.1:1 wieght 2\n"},
		{"duplicate server", "backend b\n  server s 127.0.0.1:1\n  server s 127.0.0.1:2\n"},
		{"server in frontend", "frontend f\n  bind 127.0.0.1:18101\n  server s 127.0.0.1:1\n"},
		{"balance in frontend warns only", "frontend f\n  bind 127.0.0.1:18102\n  balance roundrobin\n  default_backend be\n" + be},
		{"unknown balance", "backend b\n  balance roundrobn\n"},
		{"balance hdr without name", "backend b\n  balance hdr\n"},
		{"hash-type", "backend b\n  balance uri\n  hash-type consistent djb2 avalanche\n"},
		{"bad hash function", "backend b\n  hash-type consistent md5\n"},
		{"unknown keyword", "backend b\n  blance roundrobin\n"},
		{"unknown option", "backend b\n  option foo\n"},
		{"no on non-negatable option", "backend b\n  no option httpchk\n"},
		{"no option redispatch", "backend b\n  no option redispatch\n"},
		{"no mode", "backend b\n  no mode http\n"},
		{"bad timeout", "backend b\n  timeout server 5x\n"},
		{"timeout too large", "backend b\n  timeout server 25d\n"},
		{"timeout in us", "backend b\n  timeout server 100us\n"},
		{"bad mode", "backend b\n  mode https\n"},
		{"acl and condition", "frontend f\n  bind 127.0.0.1:18103\n  acl a path_beg /a\n  use_backend be if a || !{ path /b }\n  default_backend be\n" + be},
		{"undefined acl", "frontend f\n  bind 127.0.0.1:18104\n  use_backend be if nope\n" + be},
		{"acl used before definition", "frontend f\n  bind 127.0.0.1:18105\n  use_backend be if a\n  acl a path /a\n" + be},
		{"predefined acl", "frontend f\n  bind 127.0.0.1:18106\n  use_backend be if METH_GET HTTP_1.1\n" + be},
		{"missing brace", "frontend f\n  bind 127.0.0.1:18107\n  use_backend be if { path /a\n" + be},
		{"unknown match method", "frontend f\n  acl a path -m begin /a\n"},
		{"unknown fetch", "frontend f\n  acl a pth /a\n"},
		{"unknown converter", "frontend f\n  acl a req.hdr(host),lowr x\n"},
		{"unknown backend", "frontend f\n  bind 127.0.0.1:18108\n  default_backend nope\n"},
		{"http frontend to tcp backend", "frontend f\n  bind 127.0.0.1:18109\n  default_backend tb\nbackend tb\n  mode tcp\n  server s 127.0.0.1:1\n"},
		{"rules in anonymous defaults", "defaults\n  http-request deny\n"},
		{"rules in named defaults", "defaults d\n  mode http\n  http-request deny if { path /x }\nfrontend f from d\n  bind 127.0.0.1:18110\n"},
		{"listen from rules defaults", "defaults d\n  mode http\n  http-request deny\nlisten l from d\n  bind 127.0.0.1:18111\n"},
		{"bind in defaults", "defaults\n  bind :80\n"},
		{"unknown from", "backend b from nope\n"},
		{"bind without port", "frontend f\n  bind 127.0.0.1\n"},
		{"bind port range", "frontend f\n  bind 127.0.0.1:18120-18122\n  default_backend be\n" + be},
		{"bind ipv6 last colon", "frontend f\n  bind :::18112 v4v6\n  default_backend be\n" + be},
		{"unknown bind option", "frontend f\n  bind 127.0.0.1:18113 sll\n"},
		{"server-template", "backend b\n  server-template w 1-3 127.0.0.1:80 weight 5\n"},
		{"server-template bad count", "backend b\n  server-template w 0 127.0.0.1:80\n"},
		{"server ids", "backend b\n  server a 127.0.0.1:1 id 2\n  server b 127.0.0.1:1\n  server c 127.0.0.1:1\n"},
		{"duplicate server id", "backend b\n  server a 127.0.0.1:1 id 2\n  server b 127.0.0.1:1 id 2\n"},
		{"default-server accumulates", "backend b\n  default-server inter 3s\n  default-server fall 5 backup\n  server a 127.0.0.1:1 no-backup check\n"},
		{"cookie rewrite indirect", "backend b\n  cookie S rewrite indirect\n"},
		{"cookie modes conflict", "backend b\n  cookie S insert prefix\n"},
		{"cookie options", "backend b\n  cookie S insert indirect nocache httponly secure maxidle 30m maxlife 8h domain .x.example\n"},
		{"errorfile bad code", "backend b\n  errorloc 418 http://x/\n"},
		{"duplicate proxy name", "backend b\nbackend b\n"},
		{"frontend and backend share a name", "frontend www\n  bind 127.0.0.1:18119\n  default_backend www\nbackend www\n  server s 127.0.0.1:1\n"},
		{"listen and backend share a name", "listen www\n  bind 127.0.0.1:18119\nbackend www\n  server s 127.0.0.1:1\n"},
		{"invalid proxy name", "backend b/c\n"},
		{"stats admin in defaults", "defaults\n  stats admin if TRUE\n"},
		{"stats refresh bad", "listen s\n  bind 127.0.0.1:18114\n  stats refresh 5x\n"},
		{"retries bad", "backend b\n  retries x\n"},
		{"server ipv6 without brackets", "backend b\n  server s ::1\n"},
		{"server ipv6 trailing colon", "backend b\n  server s ::1:\n"},
		{"server relative port", "backend b\n  server s 127.0.0.1:+1000\n"},
		{"cookie preserve without insert", "backend b\n  cookie S preserve\n"},
		{"forwardfor options", "backend b\n  option forwardfor except 127.0.0.0/8 header X-Real-IP if-none\n"},
		{"forwardfor bad option", "backend b\n  option forwardfor sometimes\n"},
		{"unknown http-request action", "frontend f\n  http-request set-hedaer X y\n"},
		{"unknown tcp-request action", "frontend f\n  tcp-request content acept\n"},
		{"tcp-request inspect-delay bad", "frontend f\n  tcp-request inspect-delay 5x\n"},
		{"monitor fail without condition", "frontend f\n  monitor fail\n"},
		{"redirect bad type", "frontend f\n  redirect to /x\n"},
		{"dynamic use_backend", "frontend f\n  bind 127.0.0.1:18115\n  use_backend %[req.hdr(host),lower]\n" + be},
		{"global keyword in proxy", "backend b\n  daemon\n"},
		{"proxy keyword in global", "global\n  balance roundrobin\n"},
		{"global numbers", "global\n  maxconn 1000\n  nbthread 2\n  hard-stop-after 30s\n"},
		{"global bad time", "global\n  hard-stop-after 30x\n"},
		{"global unknown", "global\n  nbthred 2\n"},
		{"userlist", "userlist u\n  group admins\n  user bob insecure-password pw groups admins\n"},
		{"userlist unknown", "userlist u\n  usr bob\n"},
		{"resolvers", "resolvers dns\n  nameserver ns1 127.0.0.1:53\n  hold valid 10s\n"},
		{"bind verify bad", "frontend f\n  bind 127.0.0.1:18116 verify maybe\n"},
		{"bind unix mode", "frontend f\n  bind /tmp/caddy-haproxy-test.sock mode 600\n"},
		{"server bad verify", "backend b\n  server s 127.0.0.1:1 verify sometimes\n"},
		{"server observe", "backend b\n  server s 127.0.0.1:1 check observe layer7 on-error mark-down\n"},
		{"server bad observe", "backend b\n  server s 127.0.0.1:1 observe layer5\n"},
		{"server unknown family", "backend b\n  server s foo@127.0.0.1:1\n"},
		{"default-server id", "backend b\n  default-server id 3\n"},
		{"acl bad name", "frontend f\n  acl a/b path /x\n"},
		{"acl flags", "frontend f\n  acl a hdr(host) -i -m dom -- example.com\n"},
		{"condition negation alone", "frontend f\n  bind 127.0.0.1:18117\n  use_backend be if !\n" + be},
		{"closing brace alone", "frontend f\n  bind 127.0.0.1:18118\n  use_backend be if TRUE }\n" + be},
		{"http-errors section", "http-errors e\n  errorfile 418 /dev/null\n"},
		{"duplicate defaults name unused", "defaults a\n  mode http\ndefaults a\n  mode http\nbackend x\n  server s 127.0.0.1:1\n"},
		{"duplicate defaults name used", "defaults a\n  mode http\ndefaults a\n  mode http\nbackend x from a\n  server s 127.0.0.1:1\n"},
		{"named defaults from defaults", "defaults a\n  mode http\ndefaults b from a\n  retries 4\nbackend x from b\n  server s 127.0.0.1:1\n"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := tt.cfg
			if !strings.HasPrefix(src, "defaults") {
				src = head + src
			}
			path := filepath.Join(dir, "c"+string(rune('a'+i%26))+string(rune('a'+i/26))+".cfg")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command(bin, "-c", "-f", path).CombinedOutput()
			theirs := strings.Contains(string(out), "[ALERT]")

			_, diags := load(t, src)
			var ours []string
			for _, d := range diags {
				if d.Severity == Error && !strings.Contains(d.Message, "not supported:") {
					ours = append(ours, d.Error())
				}
			}
			if theirs != (len(ours) > 0) {
				t.Errorf("haproxy rejects: %v, Build rejects: %v\nconfig:\n%s\nhaproxy:\n%s\nBuild: %q", theirs, len(ours) > 0, src, out, ours)
			}
		})
	}
}
