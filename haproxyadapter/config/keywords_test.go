package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLookupKeyword(t *testing.T) {
	tests := []struct {
		section string
		words   []string
		name    string
		allowed bool
		status  Status
	}{
		{"frontend", []string{"option", "httplog"}, "option httplog", true, Ignored},
		{"backend", []string{"option", "redispatch"}, "option redispatch", true, Translated},
		{"defaults", []string{"timeout", "connect", "5s"}, "timeout connect", true, Translated},
		{"listen", []string{"stats", "uri", "/s"}, "stats uri", true, Translated},
		{"listen", []string{"stats", "http-request", "deny"}, "stats http-request deny", true, Translated},
		{"listen", []string{"stats", "show-modules"}, "stats show-modules", true, Ignored},
		{"frontend", []string{"http-request", "set-header", "X", "y"}, "http-request set-header", true, Translated},
		{"frontend", []string{"http-request", "replace-value", "X", "a", "b"}, "http-request replace-value", true, Translated},
		{"frontend", []string{"http-request", "set-var(txn.x)", "src"}, "http-request set-var", true, Translated},
		{"frontend", []string{"http-request", "track-sc1", "src"}, "http-request track-sc", true, Refused},
		{"frontend", []string{"http-request", "lua.foo"}, "http-request lua", true, Refused},
		{"frontend", []string{"tcp-request", "content", "accept"}, "tcp-request content accept", true, Translated},
		{"frontend", []string{"tcp-request", "content", "set-var(txn.x)", "int(1)"}, "tcp-request content set-var", true, Refused},
		{"frontend", []string{"tcp-request", "connection", "track-sc0", "src"}, "tcp-request connection track-sc", true, Refused},
		{"backend", []string{"tcp-response", "content", "close"}, "tcp-response content close", true, Refused},
		{"frontend", []string{"tcp-request", "inspect-delay", "5s"}, "tcp-request inspect-delay", true, Translated},
		{"backend", []string{"http-check", "expect", "status", "200"}, "http-check expect", true, Translated},
		{"backend", []string{"http-check", "send-state"}, "http-check send-state", true, Ignored},
		{"frontend", []string{"capture", "request", "header", "Host"}, "capture request header", true, Ignored},
		{"frontend", []string{"use_backend", "x"}, "use_backend", true, Translated},
		// Allowed elsewhere: the keyword comes back with false.
		{"backend", []string{"bind", ":80"}, "bind", false, Translated},
		{"frontend", []string{"balance", "roundrobin"}, "balance", false, Translated},
		{"backend", []string{"maxconn", "10"}, "maxconn", false, Translated},
		{"frontend", []string{"daemon"}, "daemon", false, Ignored},
		{"global", []string{"maxconn", "10"}, "maxconn", true, Translated},
		{"global", []string{"stats", "socket", "/run/s"}, "stats socket", true, Translated},
		{"global", []string{"tune.bufsize", "16384"}, "tune.bufsize", true, Translated},
		{"global", []string{"tune.pipesize", "65536"}, "tune.pipesize", true, Ignored},
		{"server", []string{"weight"}, "weight", true, Translated},
		{"server", []string{"check"}, "check", true, Translated},
		{"server", []string{"agent-check"}, "agent-check", true, Translated},
		{"server", []string{"observe"}, "observe", true, Ignored},
		{"bind", []string{"crt"}, "crt", true, Translated},
		{"userlist", []string{"user", "a"}, "user", true, Translated},
		{"resolvers", []string{"nameserver", "a", "1.1.1.1:53"}, "nameserver", true, Ignored},
		{"resolvers", []string{"timeout", "resolve", "1s"}, "timeout resolve", true, Ignored},
	}
	for _, tt := range tests {
		k, allowed := LookupKeyword(tt.section, tt.words)
		if k == nil {
			t.Errorf("%s %q: not found", tt.section, tt.words)
			continue
		}
		if k.Name != tt.name || allowed != tt.allowed || k.Status != tt.status {
			t.Errorf("%s %q = %q allowed=%v %v; want %q %v %v", tt.section, tt.words, k.Name, allowed, k.Status, tt.name, tt.allowed, tt.status)
		}
	}
	for _, words := range [][]string{{"frobnicate"}, {"weight"}, {"crt"}} {
		if k, _ := LookupKeyword("frontend", words); k != nil {
			t.Errorf("frontend %q found %q; server and bind parameters are not section keywords", words, k.Name)
		}
	}
}

// TestKeywordTable checks the table's consistency: every entry has a note,
// names are unique per place, and the statuses the adapter promises hold.
func TestKeywordTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keywords() {
		if k.Note == "" {
			t.Errorf("%q has no note", k.Name)
		}
		if k.Sections == 0 {
			t.Errorf("%q is allowed nowhere", k.Name)
		}
		for bit := Scope(1); bit <= InBind; bit <<= 1 {
			if k.Sections&bit == 0 {
				continue
			}
			key := k.Name + "@" + string(rune('A'+bitIndex(bit)))
			if seen[key] {
				t.Errorf("%q is listed twice for the same place", k.Name)
			}
			seen[key] = true
		}
	}
	translated := map[string][]string{
		"global":   {"hard-stop-after", "grace", "ca-base", "crt-base", "setenv", "presetenv", "resetenv", "unsetenv"},
		"listen":   {"mode", "bind", "server", "default-server", "server-template", "balance", "hash-type", "default_backend", "use_backend", "retries", "option redispatch", "option forwardfor", "option allbackups", "timeout connect", "timeout client", "timeout server", "timeout http-request", "timeout http-keep-alive", "timeout queue", "timeout tunnel", "contimeout", "clitimeout", "srvtimeout", "fullconn", "description", "id", "disabled", "enabled"},
		"frontend": {"maxconn", "monitor-uri", "acl", "http-request", "redirect", "block", "reqadd", "rspdel:refused", "tcp-request content", "tcp-request session", "monitor fail", "stats admin", "stats auth", "stats http-request", "compression:ignored", "errorfile", "errorloc", "option httplog:ignored", "option http-server-close:ignored", "capture cookie:ignored", "rate-limit sessions:ignored", "backlog:ignored", "email-alert to:ignored", "log-format:ignored", "stats enable", "stats show-modules:ignored"},
		"backend":  {"cookie", "tcp-response content:refused", "option httpchk", "http-check expect", "tcp-check connect", "http-check disable-on-404", "appsession:refused", "use-server", "stick on:refused", "stick-table:refused", "stick match:refused"},
	}
	for section, names := range translated {
		for _, entry := range names {
			name, status, _ := strings.Cut(entry, ":")
			if status == "" {
				status = "translated"
			}
			k, allowed := LookupKeyword(section, strings.Fields(name))
			if k == nil || !allowed || k.Name != name || k.Status.String() != status {
				t.Errorf("%s %q = %+v (allowed %v), want status %s", section, name, k, allowed, status)
			}
		}
	}
	if k, _ := LookupKeyword("server", []string{"observe"}); k.Note != noteChecksUnsupported {
		t.Errorf("server observe note = %q", k.Note)
	}
}

func bitIndex(b Scope) int {
	n := 0
	for b > 1 {
		b >>= 1
		n++
	}
	return n
}

// TestManualCoverage checks that the table covers the keywords of HAProxy
// 2.6's manual: a sample from each chapter, including rare ones.
func TestManualCoverage(t *testing.T) {
	want := map[string][]string{
		"global": {"51degrees-data-file", "chroot", "cpu-map", "daemon", "log-send-hostname", "lua-load", "nbthread",
			"ssl-default-bind-ciphers", "ssl-default-server-options", "tune.ssl.default-dh-param", "tune.h2.max-concurrent-streams",
			"ulimit-n", "wurfl-cache-size", "server-state-file", "spread-checks", "master-worker", "node", "description"},
		"defaults": {"option abortonclose", "option accept-invalid-http-request", "option checkcache", "option contstats",
			"option dontlog-normal", "option h1-case-adjust-bogus-client", "option http-buffer-request", "option http-no-delay",
			"option http-use-proxy-header", "option independent-streams", "option ldap-check", "option nolinger",
			"option originalto", "option prefer-last-server", "option spop-check", "option tcp-smart-connect",
			"option idle-close-on-response", "option http-restrict-req-hdr-names", "http-reuse", "retry-on",
			"timeout tarpit", "timeout client-fin", "timeout server-fin", "srvtcpka-intvl", "load-server-state-from-file",
			"email-alert myhostname", "external-check command", "persist rdp-cookie", "log-format-sd", "unique-id-format"},
		"listen": {"declare capture", "dispatch", "filter", "force-persist", "ignore-persist", "use-fcgi-app",
			"stick store-request", "stats show-desc", "stats show-legends", "stats show-node", "stats scope",
			"http-after-response set-status", "http-response cache-store", "http-request wait-for-handshake",
			"http-request normalize-uri", "tcp-response content", "tcp-request session", "dynamic-cookie-key",
			"hash-balance-factor", "max-session-srv-conns", "error-log-format"},
		"server": {"agent-send", "check-via-socks4", "init-addr", "max-reuse", "no-tls-tickets", "pool-purge-delay",
			"proxy-v2-options", "resolve-net", "socks4", "source", "usesrc", "ws", "tcp-ut", "log-proto", "namespace"},
		"bind": {"accept-netscaler-cip", "ca-sign-file", "crt-ignore-err", "expose-fd", "generate-certificates",
			"interface", "level", "mss", "nice", "prefer-client-ciphers", "quic-force-retry", "severity-output",
			"shards", "tls-ticket-keys", "uid", "gid", "mode", "npn", "process", "thread", "defer-accept", "tfo"},
		"peers":    {"peer", "table", "default-bind"},
		"mailers":  {"mailer", "timeout mail"},
		"cache":    {"total-max-size", "max-age", "process-vary"},
		"program":  {"command", "option start-on-reload"},
		"ring":     {"backing-file", "maxlen", "format"},
		"fcgi-app": {"docroot", "path-info", "option keep-conn"},
	}
	for section, names := range want {
		for _, name := range names {
			k, allowed := LookupKeyword(section, strings.Fields(name))
			if k == nil || !allowed || k.Name != name {
				t.Errorf("%s: %q missing from the table (got %+v)", section, name, k)
			}
		}
	}
}

func TestUnknownKeywords(t *testing.T) {
	tests := []struct{ section, line, want string }{
		{"frontend", "defualt_backend app", "t.cfg:2: unknown keyword 'defualt_backend' in 'frontend' section (did you mean 'default_backend'?)"},
		{"backend", "blance roundrobin", "t.cfg:2: unknown keyword 'blance' in 'backend' section (did you mean 'balance'?)"},
		{"backend", "xyzzy", "t.cfg:2: unknown keyword 'xyzzy' in 'backend' section"},
		// Close only to a keyword of another section.
		{"backend", "nbthreads 4", "t.cfg:2: unknown keyword 'nbthreads' in 'backend' section (did you mean 'nbthread'?)"},
		{"backend", "rise 3", "t.cfg:2: unknown keyword 'rise' in 'backend' section ('rise' is a server parameter: write it on a server or default-server line)"},
		{"backend", "daemon", "t.cfg:2: daemon: 'daemon' is not allowed in a 'backend' section (it belongs in 'global')"},
		{"defaults", "option httplgo", "t.cfg:2: option: unknown option 'httplgo' in 'defaults' section (did you mean 'httplog'?)"},
		{"defaults", "option", "t.cfg:2: option: missing option name"},
		{"defaults", "timeout conect 5s", "t.cfg:2: timeout: unknown timeout 'conect' in 'defaults' section (did you mean 'connect'?)"},
		{"listen", "stats uir /x", "t.cfg:2: stats: unknown stats keyword 'uir' in 'listen' section (did you mean 'uri'?)"},
		{"frontend", "http-request set-hedaer X y", "t.cfg:2: http-request: unknown http-request action 'set-hedaer' (did you mean 'set-header'?)"},
		{"frontend", "http-request", "t.cfg:2: http-request: missing http-request action name"},
		{"frontend", "tcp-request contnet accept", "t.cfg:2: tcp-request: unknown tcp-request rule type 'contnet' in 'frontend' section (did you mean 'content'?)"},
		{"frontend", "tcp-request content acept", "t.cfg:2: tcp-request content: unknown action 'acept' (did you mean 'accept'?)"},
		{"frontend", "tcp-request content", "t.cfg:2: tcp-request content: missing action"},
		{"defaults", "no mode http", "t.cfg:2: mode: 'no' may only precede options, log and a few global booleans"},
		{"defaults", "no option httplog", "t.cfg:2: option httplog: 'no' is not supported before option 'httplog'"},
		{"global", "nbthrd 4", "t.cfg:2: unknown keyword 'nbthrd' in 'global' section (did you mean 'nbthread'?)"},
		{"global", "balance roundrobin", "t.cfg:2: unknown keyword 'balance' in 'global' section (it belongs in 'defaults', 'listen', 'backend')"},
		{"global", "stats sokcet /run/s", "t.cfg:2: stats: unknown stats keyword 'sokcet' in 'global' section (did you mean 'socket'?)"},
		{"global", "no daemon", "t.cfg:2: daemon: 'no' may only precede options, log and a few global booleans"},
		{"userlist", "usr bob password x", "t.cfg:2: unknown keyword 'usr' in 'userlist' section (did you mean 'user'?)"},
		{"resolvers", "namesrver dns 1.1.1.1:53", "t.cfg:2: unknown keyword 'namesrver' in 'resolvers' section (did you mean 'nameserver'?)"},
	}
	for _, tt := range tests {
		header := tt.section + " x"
		if tt.section == "global" || tt.section == "defaults" {
			header = tt.section
		}
		_, diags := load(t, header+"\n  "+tt.line+"\n")
		if got := errorsOf(diags); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s / %s:\n got %q\nwant %q", tt.section, tt.line, got, tt.want)
		}
	}
}

// TestStatusDiagnostics checks that Ignored keywords warn and Refused ones
// fail, each at its own line, while modeled values still reach the Config.
func TestStatusDiagnostics(t *testing.T) {
	cfg, diags := load(t, `global
  daemon
  maxconn 4000
  ssl-default-bind-ciphers HIGH
  log 127.0.0.1 local0
defaults
  mode http
  option httplog
  option http-server-close
  compression algo gzip
  log-tag web
frontend f
  bind :80
  maxconn 100
  capture request header Host len 32
  stick-table type ip size 1m
  default_backend b
backend b
  cookie SRV insert
  option httpchk GET /
  stats show-modules
  server s 10.0.0.1:80 cookie s1 check
`)
	wantW := []string{
		"t.cfg:2: daemon: ignored: " + noteProcess,
		"t.cfg:4: ssl-default-bind-ciphers: ignored: " + noteTLSBind,
		"t.cfg:5: log: ignored: " + noteLog,
		"t.cfg:8: option httplog: ignored: " + noteLog,
		"t.cfg:9: option http-server-close: ignored: " + noteConnMode,
		"t.cfg:10: compression: ignored: " + noteCompression,
		"t.cfg:11: log-tag: ignored: " + noteLog,
		"t.cfg:15: capture request header: ignored: " + noteCapture,
		"t.cfg:21: stats show-modules: ignored: " + noteStatsModules,
	}
	if got := warningsOf(diags); !slices.Equal(got, wantW) {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantW, "\n"))
	}
	wantE := []string{"t.cfg:16: stick-table: not supported: " + noteStick}
	if got := errorsOf(diags); !slices.Equal(got, wantE) {
		t.Errorf("errors = %q, want %q", got, wantE)
	}
	if cfg.Global.MaxConn != 4000 || proxy(t, cfg, "f").MaxConn != 100 || proxy(t, cfg, "b").Cookie.Name != "SRV" ||
		proxy(t, cfg, "b").Servers[0].Params.Cookie != "s1" || !proxy(t, cfg, "b").Stats.Enabled {
		t.Error("modeled values of ignored keywords are missing")
	}
	if len(cfg.Global.Other) != 4 {
		t.Errorf("global statements kept: %d, want 4", len(cfg.Global.Other))
	}
}

func TestEditDistanceAndSuggest(t *testing.T) {
	tests := []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"weight", "weight", 0}, {"wieght", "weight", 1},
		{"blance", "balance", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
	if s := suggest("wieght", []string{"weight", "check", "wait"}); s != "weight" {
		t.Errorf("suggest = %q", s)
	}
	if s := suggest("zzz", []string{"weight", "check"}); s != "" {
		t.Errorf("suggest for a far word = %q, want none", s)
	}
}

func TestLoad(t *testing.T) {
	cfg, diags := Load("h.cfg", []byte("frontend f\n  bind \"${PORT}\"\n  mode http\n"), func(name string) (string, bool) {
		if name == "PORT" {
			return ":8080", true
		}
		return "", false
	})
	if len(errorsOf(diags)) != 0 || cfg == nil || proxy(t, cfg, "f").Binds[0].PortLow != 8080 {
		t.Fatalf("Load: %v %q", cfg, errorsOf(diags))
	}
	cfg, diags = Load("h.cfg", []byte("frontend f\n  bind :80\n  http-request deny if { path \"/x }\n"), nil)
	if cfg != nil || len(diags) != 1 || diags[0].Severity != Error || diags[0].Pos.File != "h.cfg" || diags[0].Pos.Line != 3 {
		t.Errorf("syntax error: cfg=%v diags=%+v", cfg, diags)
	}
}
