package config

import (
	"fmt"
	"slices"
	"strings"
)

// proxyKeywords lists the keywords of defaults, frontend, listen and backend
// sections: HAProxy 2.6's keyword matrix (manual §4.1) plus the legacy
// keywords still found in old configurations. The applicability strings
// read defaults, frontend, listen, backend (see sec).
func proxyKeywords() []*Keyword {
	rules := func(what string) string { return fmt.Sprintf(noteRules, what) }
	list := []*Keyword{
		// Modeled and translated.
		px("mode", "XXXX", Translated, "http becomes Caddy's http app; tcp (the default) becomes caddy-l4's layer4 app with the plugin's haproxy handler; a tcp frontend using an http backend is refused"),
		px("bind", "-XX-", Translated, "listening addresses; see the bind parameters table"),
		px("server", "--XX", Translated, "see the server parameters table"),
		px("default-server", "X-XX", Translated, "accumulates parameters for the server lines that follow"),
		px("server-template", "--XX", Translated, "expands into numbered server lines"),
		px("balance", "X-XX", Translated, "load-balancing algorithm"),
		px("hash-type", "X-XX", Translated, "hashing method and function for hash-based algorithms"),
		px("default_backend", "XXX-", Translated, "backend used when no use_backend rule matches"),
		px("use_backend", "-XX-", Translated, "rules are tried in order with their conditions; the first that holds picks the backend; a name with one %[expression] (fetch, var() and converters) is tested against every HTTP backend, an unknown name going to the default backend"),
		px("retries", "X-XX", Translated, "connection retries"),
		px("fullconn", "X-XX", Translated, "backend load at which dynamic server maxconn reaches its maximum"),
		px("description", "-XXX", Translated, noteHarmless),
		px("id", "-XXX", Translated, "numeric proxy id shown in stats"),
		px("disabled", "XXXX", Translated, "the proxy is not started"),
		px("enabled", "XXXX", Translated, "cancels an inherited disabled"),

		// Limits and logging.
		px("maxconn", "XXX-", Translated, noteMaxConnLimit),
		px("backlog", "XXX-", Ignored, "the kernel's default listen backlog applies"),
		px("rate-limit sessions", "XXX-", Ignored, noteMaxConn),
		px("max-keep-alive-queue", "X-XX", Ignored, noteConnMode),
		px("max-session-srv-conns", "XXX-", Ignored, noteConnMode),
		px("http-reuse", "X-XX", Ignored, noteConnMode),
		neg(px("log", "XXXX", Ignored, noteLog)),
		px("log-format", "XXX-", Ignored, noteLog),
		px("log-format-sd", "XXX-", Ignored, noteLog),
		px("error-log-format", "XXX-", Ignored, noteLog),
		px("log-tag", "XXXX", Ignored, noteLog),
		px("unique-id-format", "XXX-", Ignored, "request ids are not generated; Caddy's {http.request.uuid} placeholder is the equivalent"),
		px("unique-id-header", "XXX-", Ignored, "request ids are not generated; Caddy's {http.request.uuid} placeholder is the equivalent"),
		px("capture cookie", "-XX-", Ignored, noteCapture),
		px("capture request header", "-XX-", Ignored, noteCapture),
		px("capture response header", "-XX-", Ignored, noteCapture),
		px("declare capture", "-XX-", Ignored, noteCapture),
		px("clitcpka-cnt", "XXX-", Translated, noteCliKeepalive),
		px("clitcpka-idle", "XXX-", Translated, noteCliKeepalive),
		px("clitcpka-intvl", "XXX-", Translated, noteCliKeepalive),
		px("srvtcpka-cnt", "X-XX", Translated, noteSrvKeepalive),
		px("srvtcpka-idle", "X-XX", Translated, noteSrvKeepalive),
		px("srvtcpka-intvl", "X-XX", Translated, noteSrvKeepalive),
		px("compression", "XXXX", Ignored, noteCompression),
		px("email-alert from", "XXXX", Ignored, noteMail),
		px("email-alert level", "XXXX", Ignored, noteMail),
		px("email-alert mailers", "XXXX", Ignored, noteMail),
		px("email-alert myhostname", "XXXX", Ignored, noteMail),
		px("email-alert to", "XXXX", Ignored, noteMail),
		px("errorfile", "XXXX", Translated, "the page answers deny and auth rules, monitor-uri (200) and monitor fail, and requests no backend takes (503); other errors get Caddy's pages, with a warning"),
		px("errorfiles", "XXXX", Translated, noteErrorFiles),
		px("errorloc", "XXXX", Translated, noteErrorLoc),
		px("errorloc302", "XXXX", Translated, noteErrorLoc),
		px("errorloc303", "XXXX", Translated, noteErrorLoc),
		px("http-error", "XXXX", Translated, noteHTTPError),
		px("monitor-uri", "XXX-", Translated, "answered before any rule: 200, or 503 when a monitor fail condition holds"),
		px("load-server-state-from-file", "X-XX", Ignored, "server state survives reloads inside Caddy; state files are not read"),
		px("server-state-file-name", "X-XX", Ignored, "server state survives reloads inside Caddy; state files are not read"),
		px("retry-on", "X-XX", Ignored, "requests are retried only when the connection to the server failed (HAProxy's default, conn-failure); other retry-on conditions are not applied"),
		px("hash-balance-factor", "X-XX", Ignored, "bounded-load consistent hashing is not applied yet"),
		px("bind-process", "XXXX", Ignored, noteProcess),

		// Persistence and health checks.
		px("cookie", "X-XX", Translated, "cookie persistence with HAProxy's request and response behaviour (insert, prefix, rewrite, indirect, nocache, postonly, preserve, maxidle, maxlife, dynamic)"),
		px("dynamic-cookie-key", "X-XX", Translated, "key of dynamic cookies"),
		px("persist rdp-cookie", "X-XX", Ignored, notePersist),
		px("ignore-persist", "--XX", Ignored, notePersist),
		px("force-persist", "--XX", Ignored, notePersist),
		px("external-check command", "X-XX", Ignored, noteChecksUnsupported),
		px("external-check path", "X-XX", Ignored, noteChecksUnsupported),
		px("timeout check", "X-XX", Translated, "read timeout of health checks"),

		// Timeouts.
		px("timeout connect", "X-XX", Translated, "time to establish a connection to a server"),
		px("timeout client", "XXX-", Translated, "client inactivity"),
		px("timeout server", "X-XX", Translated, "server inactivity"),
		px("timeout http-request", "XXXX", Translated, "time to receive the request headers"),
		px("timeout http-keep-alive", "XXXX", Translated, "idle time between requests on a client connection"),
		px("timeout queue", "X-XX", Translated, "time a request may wait for a server slot"),
		px("timeout tunnel", "X-XX", Translated, "inactivity of WebSocket and other upgraded connections"),
		px("timeout client-fin", "XXX-", Ignored, "half-closed client connections follow timeout client"),
		px("timeout server-fin", "X-XX", Ignored, "half-closed server connections follow timeout server"),
		px("timeout tarpit", "XXXX", Translated, "how long http-request tarpit holds a request; without it a backend's timeout connect, a frontend's none"),
		legacy(px("contimeout", "X-XX", Translated, "removed in HAProxy 2.1; read as timeout connect")),
		legacy(px("clitimeout", "XXX-", Translated, "removed in HAProxy 2.1; read as timeout client")),
		legacy(px("srvtimeout", "X-XX", Translated, "removed in HAProxy 2.1; read as timeout server")),
		legacy(px("redispatch", "X-XX", Translated, "removed in HAProxy 2.1; read as option redispatch")),
		legacy(px("redisp", "X-XX", Translated, "removed in HAProxy 2.1; read as option redispatch")),

		// Stats.
		px("stats enable", "XXXX", Translated, "the haproxy_stats handler serves HAProxy's page, ;csv and ;json at /haproxy?stats"),
		px("stats uri", "XXXX", Translated, "prefix of the request URI, for GET, HEAD and POST; other requests pass on"),
		px("stats realm", "XXXX", Translated, "realm of the basic authentication of stats auth"),
		px("stats refresh", "XXXX", Translated, "Refresh header and the page's refresh links"),
		px("stats hide-version", "XXXX", Translated, "the page's head leaves the version out"),
		px("stats scope", "XXXX", Translated, "'.' names the section itself"),
		px("stats show-desc", "XXXX", Translated, "the description in the page's head"),
		px("stats show-legends", "XXXX", Translated, "server address and cookie in tooltips; addr, cookie and algo in CSV and JSON"),
		px("stats show-modules", "XXXX", Ignored, noteStatsModules),
		px("stats show-node", "XXXX", Translated, "the host name unless a name is given"),
		px("stats auth", "XXXX", Translated, "Caddy's basic authentication with the accounts (bcrypt-hashed at adapt time); not with stats http-request, as in HAProxy"),
		px("stats admin", "-XXX", Translated, "the page's admin form (set state ready/drain/maint, force health, weight) when the condition holds"),
		px("stats http-request", "-XXX", Translated, "allow, deny and auth: see the rule actions table; the first rule that matches decides"),

		// ACLs, rules and switching.
		px("acl", "!XXX", Translated, noteACL),
		px("http-request", "!XXX", Translated, "see the rule actions table"),
		px("http-response", "!XXX", Translated, "see the rule actions table"),
		px("http-after-response", "!XXX", Translated, "in frontend and listen sections (and defaults they inherit): header rules on every response, Caddy's answers to rules and failed connections included; refused in backends; see the rule actions table"),
		px("redirect", "-XXX", Translated, noteRedirect),
		px("tcp-request connection", "!XX-", Translated, noteTCPRules),
		px("tcp-request session", "!XX-", Translated, "accept and reject in mode tcp proxies, after the PROXY header and the TLS handshake, with conditions on src, dst and dst_port (caddy-l4 matchers); refused in mode http"),
		px("tcp-request content", "!XXX", Translated, noteTCPRules),
		px("tcp-request inspect-delay", "!XXX", Translated, "caddy-l4's matching timeout: how long content matchers (req.ssl_sni, req.ssl_alpn, req.ssl_hello_type) wait for data; a client that sends nothing is closed when it expires instead of reaching the default backend"),
		px("tcp-response content", "!-XX", Refused, rules("tcp-response")),
		px("tcp-response inspect-delay", "!-XX", Refused, rules("tcp-response")),
		px("monitor fail", "-XX-", Translated, "the monitor-uri answers 503 while the condition holds"),
		px("use-server", "--XX", Translated, "the first rule whose condition holds and whose server is running (any server with option persist) sends the request there, before load balancing, through the server's maxconn queue; refused together with a persistence cookie"),
		px("stick match", "--XX", Refused, noteStick),
		px("stick on", "--XX", Refused, noteStick),
		px("stick store-request", "--XX", Refused, noteStick),
		px("stick store-response", "--XX", Refused, noteStick),
		px("stick-table", "-XXX", Refused, noteStick),
		px("filter", "-XXX", Refused, "filters (trace, SPOE, bandwidth limits, compression) are not supported; remove the line"),
		px("use-fcgi-app", "--XX", Refused, "FastCGI applications are not translated; use Caddy's php_fastcgi or reverse_proxy with the fastcgi transport"),
		px("dispatch", "--XX", Refused, "write the address as a server line instead"),
		px("source", "X-XX", Translated, noteSource),
		px("http-send-name-header", "X-XX", Refused, "the server-name request header is not added; set it with Caddy's header_up or remove the line"),
		legacy(px("transparent", "X-XX", Refused, "transparent proxying is not supported")),
		legacy(px("block", "-XXX", Translated, "removed in HAProxy 2.1; read as http-request deny")),
		legacy(px("appsession", "X-XX", Refused, "removed in HAProxy 1.6; use 'cookie <name> insert' with server cookies, or stick tables")),
		legacy(px("monitor-net", "XXX-", Refused, "removed in HAProxy 2.4; use 'monitor-uri' or an http-request return rule")),
		legacy(px("reqadd", "-XXX", Translated, "removed in HAProxy 2.1; read as http-request add-header")),
		legacy(px("rspadd", "-XXX", Translated, "removed in HAProxy 2.1; read as http-response add-header")),
	}
	list = append(list,
		legacy(px("reqidel", "-XXX", Translated, "removed in HAProxy 2.1; '^<Header-Name>:' is read as http-request del-header, other regexes are refused")),
		legacy(px("rspidel", "-XXX", Translated, "removed in HAProxy 2.1; '^<Header-Name>:' is read as http-response del-header, other regexes are refused")))
	for _, k := range []string{"reqrep", "reqirep", "reqdel", "reqallow", "reqiallow", "reqdeny", "reqideny", "reqpass", "reqipass", "reqtarpit", "reqitarpit", "reqsetbe", "reqisetbe"} {
		list = append(list, legacy(px(k, "-XXX", Refused, "removed in HAProxy 2.1 (http-request rules); "+rules("http-request"))))
	}
	for _, k := range []string{"rsprep", "rspirep", "rspdel", "rspdeny", "rspideny"} {
		list = append(list, legacy(px(k, "-XXX", Refused, "removed in HAProxy 2.1 (http-response rules); "+rules("http-response"))))
	}
	for _, k := range []string{"comment", "connect", "expect", "send"} {
		list = append(list, px("http-check "+k, "X-XX", Translated, "HTTP health check rule"))
	}
	list = append(list, px("http-check disable-on-404", "X-XX", Translated, "a 404 answer puts a running server in NOLB: out of load balancing, persistence kept"))
	for _, k := range []string{"send-state", "set-var", "set-var-fmt", "unset-var"} {
		list = append(list, px("http-check "+k, "X-XX", Ignored, noteChecksUnsupported))
	}
	for _, k := range []string{"comment", "connect", "expect", "send", "send-binary"} {
		list = append(list, px("tcp-check "+k, "X-XX", Translated, "TCP health check rule"))
	}
	for _, k := range []string{"send-lf", "send-binary-lf", "set-var", "set-var-fmt", "unset-var"} {
		list = append(list, px("tcp-check "+k, "X-XX", Ignored, noteChecksUnsupported))
	}
	list = append(list, optionKeywords()...)
	return list
}

// optionKeywords lists every "option" of HAProxy 2.6 (and a few legacy
// ones). Options marked negatable accept "no option x" and
// "default option x".
func optionKeywords() []*Keyword {
	o := func(name, where string, negatable bool, st Status, note string) *Keyword {
		k := px("option "+name, where, st, note)
		k.Negatable = negatable
		return k
	}
	return []*Keyword{
		o("redispatch", "X-XX", true, Translated, "a request may go to another server when its server is down"),
		o("forwardfor", "XXXX", false, Translated, "adds the client address as a header line of its own (X-Forwarded-For or header <name>) with except and if-none as HAProxy combines them; the client's own forwarding headers pass unchanged"),
		o("allbackups", "X-XX", true, Translated, "all backup servers share the load when every active server is down"),

		o("httplog", "XXX-", false, Ignored, noteLog),
		o("httpslog", "XXX-", false, Ignored, noteLog),
		o("tcplog", "XXXX", false, Ignored, noteLog),
		o("dontlognull", "XXX-", true, Ignored, noteLog),
		o("dontlog-normal", "XXX-", true, Ignored, noteLog),
		o("log-health-checks", "X-XX", true, Translated, "logs every health check status change in HAProxy's words"),
		o("log-separate-errors", "XXX-", true, Ignored, noteLog),
		o("logasap", "XXX-", true, Ignored, noteLog),
		o("http-server-close", "XXXX", true, Ignored, noteConnMode),
		o("httpclose", "XXXX", true, Ignored, noteConnMode),
		o("http-keep-alive", "XXXX", true, Ignored, noteConnMode),
		o("http-pretend-keepalive", "X-XX", true, Ignored, noteConnMode),
		o("prefer-last-server", "X-XX", true, Ignored, noteConnMode),
		o("idle-close-on-response", "XXX-", true, Ignored, noteConnMode),
		legacy(o("forceclose", "XXXX", true, Ignored, "removed in HAProxy 2.0; "+noteConnMode)),
		legacy(o("http-tunnel", "XXXX", true, Ignored, "removed in HAProxy 2.1; "+noteConnMode)),
		o("splice-auto", "XXXX", true, Ignored, noteSplice),
		o("splice-request", "XXXX", true, Ignored, noteSplice),
		o("splice-response", "XXXX", true, Ignored, noteSplice),
		o("tcp-smart-accept", "XXX-", true, Ignored, noteTune),
		o("tcp-smart-connect", "X-XX", true, Ignored, noteTune),
		o("contstats", "XXX-", true, Ignored, "stats counters are updated continuously anyway"),
		o("socket-stats", "XXX-", true, Ignored, "the stats show no listener rows"),
		o("clitcpka", "XXX-", true, Translated, noteCliKeepalive),
		o("srvtcpka", "X-XX", true, Translated, noteSrvKeepalive),
		o("tcpka", "XXXX", false, Translated, "clitcpka on a frontend's side, srvtcpka on a backend's, both in a listen section"),
		o("nolinger", "XXXX", true, Ignored, noteTune),
		o("independent-streams", "XXXX", true, Ignored, noteTune),
		o("http-no-delay", "XXXX", true, Ignored, noteTune),
		o("http-buffer-request", "XXXX", true, Ignored, "requests are streamed to the server; balancing on body contents is not available"),
		o("abortonclose", "X-XX", true, Ignored, "Caddy cancels the upstream request when the client goes away"),
		o("http-ignore-probes", "XXX-", true, Ignored, noteLog),
		o("accept-invalid-http-request", "XXX-", true, Ignored, "Go's HTTP parser applies its own validity rules"),
		o("accept-invalid-http-response", "X-XX", true, Ignored, "Go's HTTP parser applies its own validity rules"),
		o("http-restrict-req-hdr-names", "XXXX", false, Ignored, "Go's HTTP parser refuses invalid header names itself"),
		o("h1-case-adjust-bogus-client", "XXX-", true, Ignored, "Go's HTTP stack writes canonical header names"),
		o("h1-case-adjust-bogus-server", "X-XX", true, Ignored, "Go's HTTP stack writes canonical header names"),
		o("disable-h2-upgrade", "XXX-", true, Ignored, "Caddy negotiates HTTP/2 itself"),
		o("http-use-proxy-header", "XXX-", true, Ignored, noteTune),
		o("checkcache", "X-XX", true, Ignored, "cacheable responses carrying cookies are not checked"),
		o("persist", "X-XX", true, Translated, "a persistence cookie still reaches its server when it is down"),
		o("httpchk", "X-XX", false, Translated, "health check type"),
		o("tcp-check", "X-XX", false, Translated, "health check type"),
		o("ssl-hello-chk", "X-XX", false, Translated, "health check type"),
		o("smtpchk", "X-XX", false, Translated, "health check type"),
		o("mysql-check", "X-XX", false, Translated, "health check type"),
		o("pgsql-check", "X-XX", false, Translated, "health check type"),
		o("redis-check", "X-XX", false, Translated, "health check type"),
		o("ldap-check", "X-XX", false, Translated, "health check type"),
		o("spop-check", "X-XX", false, Ignored, noteChecksUnsupported),
		o("external-check", "X-XX", false, Ignored, noteChecksUnsupported),
		o("originalto", "XXXX", false, Translated, "appends X-Original-To (or the header named, the backend's first) with the address the client connected to, after the request rules; except <network> of either section skips it"),
		o("transparent", "X-XX", true, Refused, "transparent proxying is not supported"),
		legacy(o("http_proxy", "XXXX", true, Refused, "removed in HAProxy 2.5; forward proxying is not supported")),
	}
}

// ruleActionKeywords lists the actions of tcp-request, tcp-response,
// http-request, http-response and http-after-response (manual §4.2). They share the status of their
// directive until rules are translated.
func ruleActionKeywords() []*Keyword {
	req := []string{
		"add-acl", "add-header", "allow", "auth", "cache-use", "capture", "del-acl", "del-header",
		"del-map", "deny", "disable-l7-retry", "do-resolve", "early-hint", "normalize-uri",
		"redirect", "reject", "replace-header", "replace-path", "replace-pathq", "replace-uri",
		"replace-value", "return", "sc-inc-gpc", "sc-set-gpt", "send-spoe-group",
		"set-dst", "set-dst-port", "set-header", "set-log-level", "set-map", "set-mark",
		"set-method", "set-nice", "set-path", "set-pathq", "set-priority-class",
		"set-priority-offset", "set-query", "set-src", "set-src-port", "set-timeout", "set-tos",
		"set-uri", "set-var", "set-var-fmt", "silent-drop", "strict-mode", "tarpit", "track-sc",
		"unset-var", "use-service", "wait-for-body", "wait-for-handshake", "lua", "ot-group",
	}
	res := []string{
		"add-acl", "add-header", "allow", "cache-store", "capture", "del-acl", "del-header",
		"del-map", "deny", "redirect", "replace-header", "replace-value", "return",
		"sc-inc-gpc", "sc-set-gpt", "send-spoe-group", "set-header", "set-log-level",
		"set-map", "set-mark", "set-nice", "set-status", "set-tos", "set-var", "set-var-fmt",
		"silent-drop", "strict-mode", "track-sc", "unset-var", "wait-for-body", "lua", "ot-group",
	}
	after := []string{
		"add-header", "allow", "capture", "del-header", "replace-header", "replace-value",
		"set-header", "set-status", "set-var", "set-var-fmt", "strict-mode", "unset-var", "ot-group",
	}
	var list []*Keyword
	tcpCommon := []string{"accept", "reject", "track-sc", "sc-inc-gpc", "sc-set-gpt", "set-mark", "set-tos", "set-var", "set-var-fmt", "unset-var", "silent-drop"}
	tcpConn := append(slices.Clone(tcpCommon), "expect-proxy", "expect-netscaler-cip", "capture", "set-src", "set-src-port", "set-dst", "set-dst-port")
	tcpSess := append(slices.Clone(tcpCommon), "set-src", "set-src-port", "set-dst", "set-dst-port")
	tcpContent := append(slices.Clone(tcpCommon), "capture", "do-resolve", "send-spoe-group", "set-src", "set-src-port",
		"set-dst", "set-dst-port", "set-log-level", "set-nice", "set-priority-class", "set-priority-offset",
		"switch-mode", "use-service", "lua", "ot-group")
	tcpResp := append(slices.Clone(tcpCommon), "close", "send-spoe-group", "set-log-level", "set-nice", "lua", "ot-group")
	for _, set := range []struct {
		directive string
		where     string
		actions   []string
	}{
		{"tcp-request connection", "!XX-", tcpConn},
		{"tcp-request session", "!XX-", tcpSess},
		{"tcp-request content", "!XXX", tcpContent},
		{"tcp-response content", "!-XX", tcpResp},
	} {
		for _, a := range set.actions {
			st, note := Refused, actionNote(set.directive, a)
			if n, ok := translatedActions[set.directive+" "+a]; ok {
				st, note = Translated, n
			}
			list = append(list, px(set.directive+" "+a, set.where, st, note))
		}
	}
	for _, set := range []struct {
		directive string
		where     string
		actions   []string
	}{
		{"http-request", "!XXX", req},
		{"http-response", "!XXX", res},
		{"http-after-response", "!XXX", after},
		{"stats http-request", "-XXX", []string{"allow", "deny", "auth"}},
	} {
		for _, a := range set.actions {
			st, note := Refused, actionNote(set.directive, a)
			if n, ok := translatedActions[set.directive+" "+a]; ok {
				st, note = Translated, n
			}
			if n, ok := ignoredActions[set.directive+" "+a]; ok {
				st, note = Ignored, n
			}
			list = append(list, px(set.directive+" "+a, set.where, st, note))
		}
	}
	return list
}

// ignoredActions are http-request and http-response actions that only
// feed HAProxy's logs: dropping them changes nothing else.
var ignoredActions = map[string]string{
	"http-request capture":        noteCapture,
	"http-response capture":       noteCapture,
	"http-request set-log-level":  noteLog,
	"http-response set-log-level": noteLog,
}

// translatedActions are the http-request and http-response actions the
// translator carries into Caddy, with their notes. A translated action's
// arguments that cannot be reproduced exactly are still refused by the
// translator, naming the line.
var translatedActions = map[string]string{
	"tcp-request connection accept":      "ends the connection rules; later rejects apply only where its condition fails",
	"tcp-request connection reject":      "caddy-l4's close handler, before the PROXY header and TLS are read",
	"tcp-request session accept":         "ends the session rules; later rejects apply only where its condition fails",
	"tcp-request session reject":         "caddy-l4's close handler, after the PROXY header and TLS",
	"tcp-request content accept":         "ends the content rules; later rejects apply only where its condition fails",
	"tcp-request content reject":         "caddy-l4's close handler",
	"http-request allow":                 "skips the remaining http-request rules of the section",
	"stats http-request allow":           "serves the page without the remaining rules",
	"stats http-request deny":            "HAProxy's 403 page",
	"stats http-request auth":            "401 with a Basic challenge (the stats realm by default); with 'unless { http_auth(<userlist>) }' Caddy's basic authentication checks the userlist",
	"http-request auth":                  "401 with a Basic challenge; with 'unless { http_auth(<userlist>) }' Caddy's basic authentication checks the userlist (crypt(3) hashes through the http.authentication.hashes.crypt module, bcrypt alone through Caddy's own)",
	"http-request deny":                  "HAProxy's error page (or errorfile) for 403 or deny_status; the reply options of return are translated too",
	"http-request redirect":              noteRedirect,
	"http-request tarpit":                "holds the request for timeout tarpit (a backend's timeout connect without it), then answers like deny, 500 by default; a client that leaves is dropped",
	"http-request return":                "status, content-type, string, lf-string, file, lf-file, errorfile, errorfiles, default-errorfiles and hdr options; log-format strings may hold %[fetch,converters] expressions",
	"http-request set-header":            noteHeaderValue,
	"http-request add-header":            noteHeaderValue,
	"http-request del-header":            "with -m str, beg, end or sub",
	"http-request replace-header":        "regular expressions Go can compile; literal replacements with \\1 references",
	"http-request set-path":              "rewrites the path, keeping the query",
	"http-request set-query":             "rewrites the query",
	"http-request set-uri":               "rewrites a URI starting with '/'",
	"http-request set-method":            "a literal method",
	"http-request set-var":               noteSetVar,
	"http-request unset-var":             "removes a txn or req variable",
	"http-request set-var-fmt":           "a txn or req variable set to a log-format string (literal text, placeholders, %[fetch,converters]), even when empty",
	"http-request replace-value":         noteReplaceValue,
	"http-response replace-value":        noteReplaceValue,
	"http-response set-status":           noteSetStatus,
	"http-after-response set-status":     noteSetStatus,
	"http-request normalize-uri":         "path-merge-slashes, path-strip-dot, path-strip-dotdot [full], percent-decode-unreserved, percent-to-uppercase and query-sort-by-name, on the target as sent; strict and the fragment normalizers are refused",
	"http-response set-header":           noteHeaderValue,
	"http-response add-header":           noteHeaderValue,
	"http-response del-header":           "with -m str, beg, end or sub",
	"http-response replace-header":       "regular expressions Go can compile; literal replacements with \\1 references",
	"http-after-response set-header":     noteHeaderValue,
	"http-after-response add-header":     noteHeaderValue,
	"http-after-response del-header":     "with -m str, beg, end or sub",
	"http-after-response replace-header": "regular expressions Go can compile; literal replacements with \\1 references",
}

// noteErrorLoc describes the translation of errorloc lines.
const noteErrorLoc = "the error is answered with a redirect to the URL (302, 303 for errorloc303), wherever errorfile pages are used"

// noteErrorFiles and noteHTTPError describe the 2.2+ error page forms.
const (
	noteErrorFiles = "the pages of an http-errors section (all, or the codes listed), where errorfile pages are used; the last declaration for a code wins"
	noteHTTPError  = "the page for the status built like an http-request return reply (content-type, string, lf-string, file, lf-file, errorfile, hdr), where errorfile pages are used"
)

// noteReplaceValue describes the translation of replace-value.
const noteReplaceValue = "each comma-separated value of each header line that the regular expression (Go syntax) matches is replaced, blanks included, as HAProxy does; literal replacements with \\1 references"

// noteSetStatus describes the translation of set-status.
const noteSetStatus = "changes the response's status, headers and body kept; a reason phrase is refused (Go writes the standard one)"

// noteSetVar describes the translation of set-var.
const noteSetVar = "txn and req variables (sess and proc outlive a request: refused), set from a fetch or str/int/bool with the converters lower, upper, length, hex, base64, bool, word, field, regsub, map/map_str/map_beg; read by var() in ACLs and %[var(...)] in header values"

// actionNote is the note of a rule action.
func actionNote(directive, action string) string {
	switch {
	case directive == "http-request" && action == "auth":
		return "basic authentication is not translated yet; protect the site with Caddy's basic_auth or remove the line"
	case action == "lua":
		return "Lua actions (lua.<name>) are not supported; remove the line"
	case action == "ot-group":
		return "OpenTracing is not supported; remove the line"
	}
	if directive == "http-request" || directive == "http-response" {
		return fmt.Sprintf("%s %s is not translated; express it with Caddy handlers or remove the line", directive, action)
	}
	if strings.HasPrefix(directive, "tcp-request ") {
		return fmt.Sprintf("%s %s is not translated (accept and reject are); remove the line", directive, action)
	}
	first, _, _ := strings.Cut(directive, " ")
	if directive == "stats http-request" {
		first = directive
	}
	return fmt.Sprintf(noteRules, first)
}
