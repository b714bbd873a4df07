package haproxyadapter

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// translateText loads a configuration (named t.cfg in dir, "" for the
// current directory) and translates it. It returns the JSON of the first
// HTTP server's routes and the translator's diagnostics.
func translateText(t *testing.T, dir, src string) (string, []config.Diagnostic) {
	t.Helper()
	name := "t.cfg"
	if dir != "" {
		name = filepath.Join(dir, name)
	}
	cfg, diags := config.Load(name, []byte(src), func(string) (string, bool) { return "", false })
	for _, d := range diags {
		if d.Severity == config.Error {
			t.Fatalf("load: %s", d.Error())
		}
	}
	out, tdiags := Translate(cfg)
	if raw, ok := out.AppsRaw["http"]; ok {
		var app struct {
			Servers map[string]struct {
				Routes json.RawMessage `json:"routes"`
			} `json:"servers"`
		}
		if err := json.Unmarshal(raw, &app); err != nil {
			t.Fatal(err)
		}
		for _, s := range app.Servers {
			return string(s.Routes), tdiags
		}
	}
	return "", tdiags
}

const aclPrelude = `
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

backend a
    server s 127.0.0.1:9001

backend b
    server s 127.0.0.1:9002

frontend f
    bind :8080
    default_backend b
`

func errorTexts(diags []config.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == config.Error {
			out = append(out, d.Error())
		}
	}
	return out
}

// TestConditionMatchers checks which Caddy matchers conditions become.
func TestConditionMatchers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines string
		// want are substrings of the routes' JSON, in order.
		want []string
		// absent must not appear.
		absent []string
	}{
		{"path_beg is the plugin matcher", "use_backend a if { path_beg /api }",
			[]string{`"haproxy_acl":{"terms":[{"any":[{"fetch":"path","match":"beg","values":["/api"]}]}]}`}, nil},
		{"upper-case method is Caddy's method matcher", "acl m method GET HEAD\n use_backend a if m",
			[]string{`"match":[{"method":["GET","HEAD"]}]`}, []string{"haproxy_acl"}},
		{"lower-case method stays exact", "use_backend a if { method get }",
			[]string{`{"fetch":"method","values":["get"]}`}, nil},
		{"src is remote_ip with mapped IPv4", "use_backend a if { src 10.0.0.0/8 ::ffff:192.168.0.0/112 }",
			[]string{`"remote_ip":{"ranges":["10.0.0.0/8","::ffff:192.168.0.0/112","192.168.0.0/16"]}`}, nil},
		{"ssl_fc is the protocol matcher", "use_backend a if { ssl_fc }", []string{`"protocol":"https"`}, nil},
		{"a converter keeps method in the plugin matcher", "use_backend a if { method,lower GET }",
			[]string{`{"fetch":"method","values":["GET"],"converters":[{"name":"lower"}]}`}, []string{`"method":[`}},
		{"a converter keeps src in the plugin matcher", "use_backend a if { src,lower -m str 127.0.0.1 }",
			[]string{`"fetch":"src"`}, []string{"remote_ip"}},
		{"negated standard matcher goes into not", "use_backend a if !{ ssl_fc } { path /x }",
			[]string{`"fetch":"path"`, `"not":[{"protocol":"https"}]`}, nil},
		{"unless negates the whole condition", "use_backend a unless { path /x } || METH_POST",
			[]string{`"match":[{"not":[{"haproxy_acl"`, `{"method":["POST"]}`}, nil},
		{"or gives matcher sets, merged when they differ in patterns only", "use_backend a if { path /x } or { path /y }",
			[]string{`"match":[{"haproxy_acl"`, `"values":["/x","/y"]`}, nil},
		{"or gives matcher sets", "use_backend a if { path /x } or { path_beg /y }",
			[]string{`"match":[{"haproxy_acl"`, `"values":["/x"]`, `},{"haproxy_acl"`, `"values":["/y"]`}, nil},
		{"two method terms: the second is evaluated by the plugin", "use_backend a if METH_GET { method PUT }",
			[]string{`{"fetch":"method","values":["PUT"]}`, `"method":["GET","HEAD"]`}, nil},
		{"named ACL lines are OR'ed", "acl x path /a\n acl x hdr(host) -i h\n use_backend a if !x",
			[]string{`"negate":true,"any":[{"fetch":"path","values":["/a"]},{"fetch":"hdr","args":["host"],"ignore_case":true,"values":["h"]}]`}, nil},
		{"FALSE removes the rule", "use_backend a if FALSE", nil, []string{`9001`}},
		{"unless FALSE is unconditional", "use_backend a unless FALSE",
			[]string{`{"handler":"haproxy_frontend","id":3,"name":"f"},{"handler":"reverse_proxy"`}, []string{`"match"`, `9002`}},
		{"TRUE terms vanish", "use_backend a if TRUE { path /x }", []string{`"fetch":"path"`}, []string{`TRUE`}},
		{"status tests become required codes", "acl err status 500:503 404\n http-response set-header X y if err { src 10.0.0.0/8 } { status ge 501 }",
			[]string{`"require":{"status_code":[501,502,503]}`, `"remote_ip":{"ranges":["10.0.0.0/8"]}`}, []string{`"fetch":"status"`}},
		{"request fetches never match in response rules", "http-response set-header X y if { path /x } || METH_GET\n http-response set-header Z z unless { hdr(a) b }",
			[]string{`"handler":"headers","response":{"deferred":true,"set":{"Z":["z"]}}`, `"match":[{"method":["GET","HEAD"]}]`}, []string{`"fetch":"path"`, `"fetch":"hdr"`}},
		{"whole status classes", "http-response set-header X y if { status 200:299 404 500: }",
			[]string{`"require":{"status_code":[2,404,5,6,7,8,9]}`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes, diags := translateText(t, "", aclPrelude+"    "+tc.lines+"\n")
			if errs := errorTexts(diags); len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			rest := routes
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("routes lack %s (in order)\n%s", w, routes)
				}
				rest = rest[i+len(w):]
			}
			for _, a := range tc.absent {
				if strings.Contains(routes, a) {
					t.Errorf("routes contain %s\n%s", a, routes)
				}
			}
		})
	}
}

// TestConditionRefused checks that what cannot be translated exactly is an
// error naming the line.
func TestConditionRefused(t *testing.T) {
	for _, tc := range []struct{ lines, want string }{
		{"use_backend a if { path,sha1 /x }", `t.cfg:17: use_backend: anonymous ACL: converter "sha1" is not translated`},
		{"use_backend a if { path_beg,lower /x }", "t.cfg:17: use_backend: anonymous ACL: path_beg cannot be followed by converters"},
		{"use_backend a if { path,map(missing.map) -m found }", "t.cfg:17: use_backend: anonymous ACL: converter map: open"},
		{"http-response set-header X-V %[var(req.x)]\n use_backend a", "t.cfg:17: http-response set-header: req variables end with the request"},
		{"use_backend a if { var(sess.x) -m found }", `t.cfg:17: use_backend: anonymous ACL: variable "sess.x": only the txn and req scopes are supported`},
		{"acl x req.body -m found\n use_backend a if x", `t.cfg:17: acl: ACL "x": fetch "req.body" is not translated`},
		{"use_backend a if { src example.com }", `is not an IP address (host names are not supported`},
		{"use_backend a if { path_reg (?<=a)b }", "regular expression"},
		{"use_backend a if { path -m bin 41 }", "match method 'bin' is not translated"},
		{"use_backend a if { hdr(x) -m int 1 }", `match method "int" does not apply`},
		{"use_backend a if { path -f missing.lst }", "-f missing.lst: open"},
		{"use_backend a if { http_auth(u) }", `no userlist "u"`},
		{"use_backend a if REQ_CONTENT", "predefined ACL REQ_CONTENT is not supported"},
		{"use_backend a if { nbsrv(zz) 1 }", `nbsrv(zz): no backend "zz"`},
		{"http-request deny errorfiles myerrors if TRUE", `t.cfg:17: http-request deny: no http-errors section "myerrors"`},
		{"http-request deny deny_status 418", "status 418 has no HAProxy error page"},
		{"http-request return status 200 string x", "a body needs a content-type"},
		{"http-request return status 200 file missing.txt", "open"},
		{"http-request set-header X %[req.body]", `log-format expression %[req.body]: fetch "req.body" is not translated`},
		{"http-request set-header X %[path,sha1]", `log-format expression %[path,sha1]: converter "sha1" is not translated`},
		{"http-request set-header X %t", "log-format variable %t is not translated"},
		{"http-response set-header X y if { res.hdr(x) y }", "conditions on the response are translated only as positive 'status' tests"},
		{"http-response set-header X y if { status 500 } || { path /x }", "conditions on the response are translated only as positive 'status' tests"},
		{"http-response set-header X y unless { status 500 }", "conditions on the response are translated only as positive 'status' tests"},
		{"http-response set-header X y if { nbsrv(b) 1 }", "nbsrv in a response rule is not translated"},
		{"redirect location /x set-cookie A=1", `redirect option "set-cookie" is not translated`},
		{"http-request replace-header X a(b %[src]", "regular expression"},
		{"http-request set-path /a%%2Fb", "http-request set-path: percent-encoded characters are not translated"},
	} {
		t.Run(tc.lines, func(t *testing.T) {
			_, diags := translateText(t, "", aclPrelude+"    "+tc.lines+"\n")
			errs := strings.Join(errorTexts(diags), "\n")
			if !strings.Contains(errs, tc.want) {
				t.Errorf("errors:\n%s\nwant one containing %q", errs, tc.want)
			}
		})
	}
}

// TestStateBackendMustBeRouted refuses nbsrv on a backend Caddy would not
// run.
func TestStateBackendMustBeRouted(t *testing.T) {
	src := aclPrelude + "    monitor-uri /up\n    monitor fail if { nbsrv(a) lt 1 }\n"
	_, diags := translateText(t, "", src)
	if errs := strings.Join(errorTexts(diags), "\n"); !strings.Contains(errs, `backend "a" is tested by nbsrv or srv_is_up but no frontend routes to it`) {
		t.Errorf("errors: %s", errs)
	}
	_, diags = translateText(t, "", src+"    use_backend a if { path /a }\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
}

// TestPatternFileRelativeToConfig reads -f files from the configuration's
// directory.
func TestPatternFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "paths.lst"), []byte("#c\n /a\n\n/b\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	routes, diags := translateText(t, dir, aclPrelude+"    use_backend a if { path -f paths.lst }\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !strings.Contains(routes, `"values":["/a","/b"]`) {
		t.Errorf("routes: %s", routes)
	}
}

// TestUserlistPasswords checks how userlist passwords reach Caddy.
func TestUserlistPasswords(t *testing.T) {
	base := "userlist u\n    user alice insecure-password s3cret\n    user bob password $2b$04$zqNpwktgkOgTWwh2BEtlH.g8J4RPoKn6P2f5hk6WwovCXUTHXqgYq\n"
	routes, diags := translateText(t, "", base+aclPrelude+"    http-request auth realm R unless { http_auth(u) }\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	var parsed []struct {
		Handle []struct {
			Handler   string `json:"handler"`
			Providers struct {
				HTTPBasic struct {
					Accounts []struct{ Username, Password string } `json:"accounts"`
					Realm    string                                `json:"realm"`
				} `json:"http_basic"`
			} `json:"providers"`
		} `json:"handle"`
	}
	if err := json.Unmarshal([]byte(routes), &parsed); err != nil {
		t.Fatal(err)
	}
	// The frontend's counter comes first, then the rule's handler (the
	// routes without matchers are joined).
	if len(parsed) != 1 || len(parsed[0].Handle) < 2 || parsed[0].Handle[0].Handler != "haproxy_frontend" {
		t.Fatalf("routes: %s", routes)
	}
	h := parsed[0].Handle[1]
	if h.Handler != "authentication" || h.Providers.HTTPBasic.Realm != "R" || len(h.Providers.HTTPBasic.Accounts) != 2 {
		t.Fatalf("the rule's handler: %s", routes)
	}
	alice := h.Providers.HTTPBasic.Accounts[0]
	if bcrypt.CompareHashAndPassword([]byte(alice.Password), []byte("s3cret")) != nil {
		t.Errorf("alice's insecure-password was not hashed to a bcrypt hash of itself: %q", alice.Password)
	}
	if bob := h.Providers.HTTPBasic.Accounts[1]; !strings.HasPrefix(bob.Password, "$2b$04$") {
		t.Errorf("bob's bcrypt hash was not kept: %q", bob.Password)
	}

	des := "userlist u\n    user carol password abzlUXK5ed5rs\n"
	_, diags = translateText(t, "", des+aclPrelude+"    http-request auth unless { http_auth(u) }\n")
	if errs := strings.Join(errorTexts(diags), "\n"); !strings.Contains(errs, `t.cfg:2: user: user "carol": this crypt(3) hash cannot be checked`) {
		t.Errorf("errors: %s", errs)
	}
	// Any other use is evaluated by the haproxy_acl matcher.
	routes, diags = translateText(t, "", base+aclPrelude+"    http-request auth unless { http_auth(u) } { path /x }\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !strings.Contains(routes, `"fetch":"http_auth","args":["u"],"accounts":[{"username":"alice","password":"$2a$04$`) {
		t.Errorf("routes: %s", routes)
	}
	// http_auth_group lets only the group's members through.
	groups := "userlist u\n    group admins users bob\n    user alice insecure-password s3cret\n    user bob password $2b$04$zqNpwktgkOgTWwh2BEtlH.g8J4RPoKn6P2f5hk6WwovCXUTHXqgYq\n"
	routes, diags = translateText(t, "", groups+aclPrelude+"    acl ok http_auth_group(u) admins\n    http-request auth unless ok\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !strings.Contains(routes, `"accounts":[{"password":"$2b$04$zqNpwktgkOgTWwh2BEtlH.g8J4RPoKn6P2f5hk6WwovCXUTHXqgYq","username":"bob"}]`) {
		t.Errorf("routes: %s", routes)
	}
}

// TestLogFormat checks the translation of log-format strings.
func TestLogFormat(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"%[src]:%[src_port]", "{http.request.remote.host}:{http.request.remote.port}"},
		{"%ci-%fp", "{http.request.remote.host}-{http.request.local.port}"},
		{"100%% {x}", `100% \{x\}`},
		{"%[req.hdr(host)]", "{http.request.hostport}"},
	} {
		got, err := logFormat(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("logFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%[path]", "%[src,lower]", "%t", "x%", "%[src"} {
		if _, err := logFormat(bad); err == nil {
			t.Errorf("logFormat(%q): no error", bad)
		}
	}
}

// TestRegexReplacement checks the conversion of \N references.
func TestRegexReplacement(t *testing.T) {
	got, err := regexReplacement(`a\1$b{c}\2`)
	if want := `a${1}$$b\{c\}${2}`; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

// TestErrorFiles checks how errorfiles reach the answers of rules.
func TestErrorFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("403.http", "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 3\r\n\r\nno\n")
	write("empty.http", "")
	write("untyped.http", "HTTP/1.1 429 Too Many\r\n\r\nslow down {now}\n")
	src := aclPrelude + `    errorfile 403 403.http
    errorfile 429 untyped.http
    errorfile 502 empty.http
    errorfile 503 empty.http
    http-request deny if { path /a }
    http-request deny deny_status 429 if { path /b }
    http-request deny deny_status 503 if { path /c }
`
	routes, diags := translateText(t, dir, src)
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, want := range []string{
		`{"body":"no\n","handler":"static_response","headers":{"Content-Type":["text/plain"]},"status_code":403}`,
		`"body":"slow down \\{now\\}\n","handler":"static_response","status_code":429`,
		`{"abort":true,"handler":"static_response"}`,
	} {
		if !strings.Contains(routes, want) {
			t.Errorf("routes lack %s\n%s", want, routes)
		}
	}
	var warnings []string
	for _, d := range diags {
		if d.Severity == config.Warning {
			warnings = append(warnings, d.Error())
		}
	}
	got := strings.Join(warnings, "\n")
	for _, want := range []string{
		"t.cfg:18: errorfile: untyped.http has no Content-Type header: Caddy sends it as text/plain",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	// The 502 and 503 pages answer proxy errors too (see errorRoutes):
	// nothing to warn about.
	if strings.Contains(got, "t.cfg:19") || strings.Contains(got, "t.cfg:20") {
		t.Errorf("warnings about the 502/503 pages:\n%s", got)
	}

	_, diags = translateText(t, dir, aclPrelude+"    errorfile 403 missing.http\n    http-request deny\n")
	if errs := strings.Join(errorTexts(diags), "\n"); !strings.Contains(errs, "t.cfg:17: errorfile: missing.http: open") {
		t.Errorf("errors: %s", errs)
	}
}

// TestLogOnlyRulesIgnored checks that capture and set-log-level rules,
// which only feed logs, are dropped with their conditions.
func TestLogOnlyRulesIgnored(t *testing.T) {
	routes, diags := translateText(t, "", aclPrelude+"    http-request capture req.hdr(host) len 20 if { path,lower /x }\n    http-response set-log-level err if { status 500 }\n")
	if errs := errorTexts(diags); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if strings.Contains(routes, "haproxy_acl") {
		t.Errorf("routes: %s", routes)
	}
}

// TestRuleErrorsReportedOnce checks that the rules of a backend used by
// several routes, and of a frontend with several backends, are diagnosed
// once.
func TestRuleErrorsReportedOnce(t *testing.T) {
	src := aclPrelude + `    http-response set-header X %[path]
    use_backend a if { path /x }
    use_backend a if { path /y }
    use_backend b if { path /z }
frontend g
    bind :8081
    default_backend a
backend c
    http-request set-header Y %t
    server s 127.0.0.1:9003
frontend h
    bind :8082
    use_backend c if { path /1 }
    default_backend c
`
	_, diags := translateText(t, "", src)
	errs := errorTexts(diags)
	want := []string{
		"t.cfg:17: http-response set-header: log-format expression %[path]: a response rule's expression may read only txn variables and constants",
		"t.cfg:25: http-request set-header: log-format variable %t is not translated",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors:\n%s", strings.Join(errs, "\n"))
	}
	for i, w := range want {
		if errs[i] != w {
			t.Errorf("error %d = %q, want %q", i, errs[i], w)
		}
	}
}
