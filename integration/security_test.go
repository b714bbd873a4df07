package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// securityPolicies are access-control configs, one frontend each, that
// the hostile requests of TestSecurityMatrixMatchesHAProxy try to get past.
var securityPolicies = []struct{ name, rules string }{
	{"deny path_beg", "http-request deny if { path_beg /admin }"},
	{"deny path_beg -i", "http-request deny if { path_beg -i /admin }"},
	{"deny path_end", "http-request deny if { path_end -i .php }"},
	{"deny normalized path", `http-request normalize-uri path-merge-slashes
    http-request normalize-uri path-strip-dot
    http-request normalize-uri path-strip-dotdot
    http-request normalize-uri percent-decode-unreserved
    http-request normalize-uri percent-to-uppercase
    http-request deny if { path_beg -i /admin }`},
	{"allow list", `http-request allow if { path_beg /public/ }
    http-request deny`},
	{"methods", "http-request deny unless METH_GET || METH_HEAD"},
	{"header value", "http-request deny if { req.hdr(x-user) -i admin }"},
	{"header substring", "http-request deny if { hdr_sub(x-role) -i root }"},
	{"host", "http-request deny if { hdr(host) -i secret.example }"},
	{"auth", "http-request auth realm r unless { http_auth(users) }"},
	{"auth on a path", "http-request auth realm r if { path_beg -i /admin } !{ http_auth(users) }"},
}

// securityConfig is one frontend per policy, on the given ports, in front
// of one origin.
func securityConfig(ports []int, origin string) string {
	var b strings.Builder
	b.WriteString(`global
    expose-experimental-directives

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

userlist users
    user alice insecure-password s3cret

backend app
    server s ` + origin + "\n")
	for i, p := range securityPolicies {
		fmt.Fprintf(&b, "\n# %s\nfrontend f%d\n    bind %s\n    %s\n    default_backend app\n", p.name, i, loopback(ports[i]), p.rules)
	}
	return b.String()
}

// headRequest is a request head with Connection: close, and Host: x unless
// the headers say otherwise (an empty host line leaves it out).
func headRequest(requestLine string, headers ...string) string {
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	host := true
	for _, h := range headers {
		if strings.HasPrefix(strings.ToLower(h), "host:") || h == "" {
			host = false
		}
		if h != "" {
			b.WriteString(h + "\r\n")
		}
	}
	if host {
		b.WriteString("Host: x\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// basicAuth is an Authorization header value for user:password.
func basicAuth(scheme, userPass string) string {
	return "Authorization: " + scheme + " " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

// absoluteFormGap is the one known way in which caddy forwards what
// HAProxy refuses: HAProxy 2.6 answers 400 to an absolute-form URI whose
// authority differs from the Host header; Go's server takes the authority
// as the host and drops the header, so the rules and the origin see the
// same host and nothing gets past a rule.
const absoluteFormGap = "absolute-form authority and Host differ"

// knownGaps are the hostile requests, by name, for which a divergence is
// logged rather than failing the test, and why.
var knownGaps = map[string]string{
	"absolute-form other host":   absoluteFormGap,
	"absolute-form, Host secret": absoluteFormGap,
}

// hostileRequests try to get past the policies: case and encoding
// variants, dot segments and doubled slashes, absolute-form URIs, a
// missing Host, duplicate and oddly cased headers, long values and
// credentials in various shapes.
var hostileRequests = []struct{ name, raw string }{
	{"plain", headRequest("GET /public/x HTTP/1.1")},
	{"admin", headRequest("GET /admin HTTP/1.1")},
	{"upper case", headRequest("GET /ADMIN HTTP/1.1")},
	{"mixed case", headRequest("GET /Admin/x HTTP/1.1")},
	{"percent-encoded", headRequest("GET /%61dmin HTTP/1.1")},
	{"percent-encoded upper", headRequest("GET /%41DMIN HTTP/1.1")},
	{"double-encoded", headRequest("GET /%2561dmin HTTP/1.1")},
	{"encoded slash", headRequest("GET /%2fadmin HTTP/1.1")},
	{"double slash", headRequest("GET //admin HTTP/1.1")},
	{"dot segment", headRequest("GET /./admin HTTP/1.1")},
	{"dot-dot segment", headRequest("GET /public/../admin HTTP/1.1")},
	{"encoded dot-dot", headRequest("GET /public/%2e%2e/admin HTTP/1.1")},
	{"path parameter", headRequest("GET /admin;x=1 HTTP/1.1")},
	{"query", headRequest("GET /admin?x=1 HTTP/1.1")},
	{"php", headRequest("GET /x/index.php HTTP/1.1")},
	{"php upper with query", headRequest("GET /x/INDEX.PHP?a=1 HTTP/1.1")},
	{"php encoded", headRequest("GET /x/index.%70hp HTTP/1.1")},
	{"php trailing dot", headRequest("GET /x/index.php. HTTP/1.1")},
	{"absolute-form", headRequest("GET http://x/admin HTTP/1.1")},
	{"absolute-form other host", headRequest("GET http://secret.example/public/x HTTP/1.1", "Host: other")},
	{"absolute-form, Host secret", headRequest("GET http://other/public/x HTTP/1.1", "Host: secret.example")},
	{"HTTP/1.0 without Host", headRequest("GET /admin HTTP/1.0", "")},
	{"HTTP/1.0 public without Host", headRequest("GET /public/x HTTP/1.0", "")},
	{"host", headRequest("GET /public/x HTTP/1.1", "Host: secret.example")},
	{"host upper case", headRequest("GET /public/x HTTP/1.1", "Host: SECRET.Example")},
	{"host with port", headRequest("GET /public/x HTTP/1.1", "Host: secret.example:80")},
	{"host trailing dot", headRequest("GET /public/x HTTP/1.1", "Host: secret.example.")},
	{"header", headRequest("GET /public/x HTTP/1.1", "X-User: admin")},
	{"header name case", headRequest("GET /public/x HTTP/1.1", "x-USER: ADMIN")},
	{"header without space", headRequest("GET /public/x HTTP/1.1", "X-User:admin")},
	{"header with tabs", headRequest("GET /public/x HTTP/1.1", "X-User: \tadmin\t ")},
	{"duplicate header, second", headRequest("GET /public/x HTTP/1.1", "X-User: bob", "X-User: admin")},
	{"duplicate header, first", headRequest("GET /public/x HTTP/1.1", "X-User: admin", "X-User: bob")},
	{"header list", headRequest("GET /public/x HTTP/1.1", "X-User: bob, admin")},
	{"substring header", headRequest("GET /public/x HTTP/1.1", "X-Role: user,ROOT")},
	{"substring in a duplicate", headRequest("GET /public/x HTTP/1.1", "X-Role: user", "x-role: uberroot")},
	{"long header value", headRequest("GET /public/x HTTP/1.1", "X-Role: "+strings.Repeat("a", 8000)+"root")},
	{"long header before", headRequest("GET /admin HTTP/1.1", "X-Pad: "+strings.Repeat("a", 12000), "X-User: admin")},
	{"POST", "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
	{"HEAD", headRequest("HEAD /public/x HTTP/1.1")},
	{"lower-case method", headRequest("get /public/x HTTP/1.1")},
	{"DELETE", headRequest("DELETE /public/x HTTP/1.1")},
	{"good credentials", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "alice:s3cret"))},
	{"wrong password", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "alice:wrong"))},
	{"unknown user", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "mallory:s3cret"))},
	{"lower-case scheme", headRequest("GET /admin HTTP/1.1", basicAuth("basic", "alice:s3cret"))},
	{"password with a suffix", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "alice:s3cret:x"))},
	{"empty credentials", headRequest("GET /admin HTTP/1.1", "Authorization: Basic ")},
	{"bearer", headRequest("GET /admin HTTP/1.1", "Authorization: Bearer abc")},
	{"wrong then good credentials", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "alice:wrong"), basicAuth("Basic", "alice:s3cret"))},
	{"good then wrong credentials", headRequest("GET /admin HTTP/1.1", basicAuth("Basic", "alice:s3cret"), basicAuth("Basic", "alice:wrong"))},
}

// TestSecurityMatrixMatchesHAProxy sends every hostile request to every
// policy under HAProxy and caddy running the same haproxy.cfg: a request
// that HAProxy keeps from the origin must not reach it through caddy.
// Caddy refusing more than HAProxy is logged, not an error.
func TestSecurityMatrixMatchesHAProxy(t *testing.T) {
	type proxy struct {
		origin *origin
		ports  []int
	}
	var proxies [2]proxy
	for i := range proxies {
		p := &proxies[i]
		p.origin = startOrigin(t, "app")
		for range securityPolicies {
			p.ports = append(p.ports, freePort(t))
		}
		cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(cfg, []byte(securityConfig(p.ports, p.origin.Addr())), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			startHAProxy(t, cfg, loopback(p.ports[len(p.ports)-1]))
		} else {
			c := startCaddy(t, cfg)
			c.waitListening(loopback(p.ports[len(p.ports)-1]))
		}
	}
	var blocked, stricter int
	for pi, policy := range securityPolicies {
		t.Run(policy.name, func(t *testing.T) {
			for _, req := range hostileRequests {
				var reached [2]bool
				var codes [2][]int
				for i, p := range proxies {
					before := p.origin.hits.Load()
					codes[i] = rawExchange(t, loopback(p.ports[pi]), []byte(req.raw), 3*time.Second)
					reached[i] = p.origin.hits.Load() > before
				}
				switch {
				case !reached[0] && reached[1] && knownGaps[req.name] != "":
					t.Logf("%s: HAProxy refuses it (%v), caddy lets it through (%v): %s", req.name, codes[0], codes[1], knownGaps[req.name])
				case !reached[0] && reached[1]:
					t.Errorf("%s: HAProxy keeps it from the origin (%v), caddy lets it through (%v)", req.name, codes[0], codes[1])
				case reached[0] && !reached[1]:
					stricter++
					t.Logf("%s: caddy refuses (%v) what HAProxy lets through (%v)", req.name, codes[1], codes[0])
				case !reached[0]:
					blocked++
				}
			}
		})
	}
	t.Logf("%d policies x %d requests: %d blocked by both, %d only by caddy", len(securityPolicies), len(hostileRequests), blocked, stricter)
}

// TestRuntimeSocketRefusesUnprivileged checks, under HAProxy and caddy
// with the same config, that a level user socket cannot change a server,
// and, when the test runs as root, that another user can connect to a
// mode 666 socket but not to a mode 600 one.
func TestRuntimeSocketRefusesUnprivileged(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	for _, proxy := range []string{"haproxy", "caddy"} {
		t.Run(proxy, func(t *testing.T) {
			o := startOrigin(t, "s1")
			// The directory (its parents too) lets another user reach
			// the sockets, so that only their own mode decides.
			dir, err := os.MkdirTemp("", "runtime-socket-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			adminSock, userSock := filepath.Join(dir, "admin.sock"), filepath.Join(dir, "user.sock")
			port := freePort(t)
			cfg := filepath.Join(dir, "haproxy.cfg")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global
    stats socket %s mode 600 level admin
    stats socket %s mode 666 level user

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

listen be
    bind %s
    server s1 %s
`, adminSock, userSock, loopback(port), o.Addr())), 0o644); err != nil {
				t.Fatal(err)
			}
			var p *process
			if proxy == "haproxy" {
				p = startHAProxy(t, cfg, loopback(port))
			} else {
				p = startCaddy(t, cfg).process
			}
			p.waitFor("the runtime API sockets", func() bool {
				_, errA := os.Stat(adminSock)
				_, errU := os.Stat(userSock)
				return errA == nil && errU == nil
			})
			for _, step := range []string{"set server be/s1 state maint", "disable server be/s1", "set weight be/s1 0", "set server be/s1 health down"} {
				answer := socatCommand(t, userSock, step+"\n")
				if !strings.Contains(answer, "Permission denied") {
					t.Errorf("%q on the level user socket answered %q", step, answer)
				}
			}
			lines := strings.Split(socatCommand(t, adminSock, "show servers state be\n"), "\n")
			if len(lines) < 3 || len(strings.Fields(lines[2])) < 8 {
				t.Fatalf("show servers state: %q", lines)
			}
			if f := strings.Fields(lines[2]); f[5] != "2" || f[6] != "0" || f[7] != "1" {
				t.Errorf("s1 changed through the level user socket: op_state %s admin_state %s weight %s", f[5], f[6], f[7])
			}
			if status, body := get(t, "http://"+loopback(port)+"/"); status != 200 || body != "s1" {
				t.Errorf("after the refused commands: %d %q", status, body)
			}
			for sock, wantMode := range map[string]os.FileMode{adminSock: 0o600, userSock: 0o666} {
				if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != wantMode {
					t.Errorf("%s: %v, mode %v; want %v", sock, err, fi.Mode().Perm(), wantMode)
				}
			}
			if os.Geteuid() != 0 {
				t.Log("not root: connecting as another user is not tried")
				return
			}
			if out, err := socatAs(65534, userSock, "show cli level\n"); err != nil || strings.TrimSpace(out) != "user" {
				t.Errorf("another user on the mode 666 socket: %q, %v", out, err)
			}
			if out, err := socatAs(65534, adminSock, "show cli level\n"); err == nil {
				t.Errorf("another user reached the mode 600 admin socket: %q", out)
			}
		})
	}
}

// socatAs runs socat on a UNIX socket as another user.
func socatAs(uid uint32, sock, input string) (string, error) {
	cmd := exec.Command("socat", "-t2", "stdio", "unix-connect:"+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAdminAPIPrivateSocketRefusesOtherUsers serves caddy's admin API,
// and with it admin.api.haproxy, on a mode 0600 UNIX socket: root reads
// and changes a server, another user can do neither.
func TestAdminAPIPrivateSocketRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	o := startOrigin(t, "s1")
	dir, err := os.MkdirTemp("", "admin-socket-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "admin.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	port := freePort(t)
	if err := os.WriteFile(cfg, []byte(adminAPIConfig(port, o.Addr(), o.Addr())), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddyBin, "run", "--adapter", "haproxy", "--config", cfg)
	cmd.Env = caddyEnv(t, "unix/"+sock+"|0600")
	p := startProcess(t, "caddy", cmd)
	// curl asks the admin API, or with a port the frontend, as uid.
	curl := func(uid uint32, args ...string) (string, error) {
		if !strings.HasPrefix(args[len(args)-1], "http://127.") {
			args = append([]string{"--unix-socket", sock}, args...)
		}
		c := exec.Command("curl", append([]string{"-sS", "--fail", "--max-time", "5"}, args...)...)
		if uid != 0 {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	p.waitFor("the admin API on its socket", func() bool {
		_, err := curl(0, "http://localhost/haproxy/backends")
		return err == nil
	})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", err, fi.Mode())
	}
	// Another user can use curl, through the frontend, but not the
	// admin API.
	if out, err := curl(65534, "http://"+loopback(port)+"/"); err != nil || out != "s1" {
		t.Fatalf("another user through the frontend: %q %v", out, err)
	}
	drain := []string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"state":"drain"}`, "http://localhost/haproxy/backends/be/s1"}
	if out, err := curl(65534, "http://localhost/haproxy/backends"); err == nil {
		t.Errorf("another user read the backends: %s", out)
	}
	if out, err := curl(65534, drain...); err == nil {
		t.Errorf("another user drained a server: %s", out)
	}
	state := func(args ...string) string {
		out, err := curl(0, args...)
		var s adminServer
		if err == nil {
			err = json.Unmarshal([]byte(out), &s)
		}
		if err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, out)
		}
		return s.AdminState
	}
	if got := state("http://localhost/haproxy/backends/be/s1"); got != "READY" {
		t.Errorf("s1 is %s after the other user's attempt", got)
	}
	if got := state(drain...); got != "DRAIN" {
		t.Errorf("root draining s1 made it %s", got)
	}
}
