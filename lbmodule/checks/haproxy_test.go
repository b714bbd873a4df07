package checks

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

func durationOf(re *regexp.Regexp, line string) int {
	m := re.FindStringSubmatch(line)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestProbesAgainstHAProxy runs the same checks in HAProxy (with option
// log-health-checks) and in the prober, against the same fake servers, and
// compares the first "Health check for server …" line of each, up to the
// check duration: the status, the response code and the detail text.
func TestProbesAgainstHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	if testing.Short() {
		t.Skip("differential test")
	}
	ok200 := fakeServer(t, httpReply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"))
	s503 := fakeServer(t, httpReply("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	s404 := fakeServer(t, httpReply("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	garbage := fakeServer(t, httpReply("garbage\r\n\r\n"))
	hung := fakeServer(t, hang)
	refused := refusedAddr(t)
	echo := fakeServer(t, func(c net.Conn) {
		buf := make([]byte, 512)
		n, _ := c.Read(buf)
		_, _ = c.Write(buf[:n])
		// Stay open a little, as a server that answers then idles.
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = c.Read(buf)
	})
	banner := fakeServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "+OK ready\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line == "PING\r\n" {
			_, _ = io.WriteString(c, "+PONG\r\n")
		}
	})
	redisLike := fakeServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 64))
		_, _ = io.WriteString(c, "-NOAUTH Authentication required.\r\n")
	})
	// silent reads what the check sends, then closes without a word.
	silent := fakeServer(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = c.Read(make([]byte, 512))
	})
	ldapReply := func(code byte) func(net.Conn) {
		return func(c net.Conn) {
			_, _ = c.Read(make([]byte, 64))
			_, _ = c.Write([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00})
		}
	}
	ldapOK, ldapErr := fakeServer(t, ldapReply(0)), fakeServer(t, ldapReply(49))
	mysqlServer := func(deny bool) func(net.Conn) {
		return func(c net.Conn) {
			payload := append([]byte{10}, "8.0.36\x00"...)
			payload = append(payload, make([]byte, 40)...)
			_, _ = c.Write(append([]byte{byte(len(payload)), 0, 0, 0}, payload...))
			b := make([]byte, 4)
			if !readFull(c, b) {
				return
			}
			p := make([]byte, int(b[0])|int(b[1])<<8)
			if !readFull(c, p) {
				return
			}
			if deny {
				msg := "\xff\x15\x04#28000Access denied for user"
				_, _ = c.Write(append([]byte{byte(len(msg)), 0, 0, 2}, msg...))
				return
			}
			_, _ = c.Write([]byte{7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0})
			_, _ = c.Read(make([]byte, 16))
		}
	}
	mysqlOK, mysqlDeny := fakeServer(t, mysqlServer(false)), fakeServer(t, mysqlServer(true))
	pgServer := func(reply []byte) string {
		return fakeServer(t, func(c net.Conn) {
			_, _ = c.Read(make([]byte, 256))
			_, _ = c.Write(reply)
		})
	}
	pgOK := pgServer([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 5})
	pgErr := pgServer(append([]byte{'E', 0, 0, 0, 30}, "SFATAL\x00Mrole does not exist\x00\x00"...))
	smtpServer := func(banner, reply string) string {
		return fakeServer(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			_, _ = io.WriteString(c, banner)
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			_, _ = io.WriteString(c, reply)
			_, _ = br.ReadString('\n')
			_, _ = io.WriteString(c, "221 bye\r\n")
		})
	}
	smtpOK, smtpBad, smtpBanner := smtpServer("220 mail ESMTP\r\n", "250 mail\r\n"), smtpServer("220 mail ESMTP\r\n", "550 no\r\n"), smtpServer("554 go away\r\n", "")
	tlsAlert := fakeServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 512))
		_, _ = c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	})

	const inter = 300 * time.Millisecond
	type tcase struct {
		name  string
		mode  string
		lines string // backend lines before the server
		extra string // server options
		addr  string
		cfg   *Config
		sc    ServerConfig
	}
	sc := ServerConfig{Inter: Duration(inter)}
	http := func(h *HTTPCheck) *Config { return &Config{Type: TypeHTTP, HTTP: h} }
	rules := func(r ...TCPRule) *Config { return &Config{Type: TypeTCPCheck, TCPRules: r} }
	cases := []tcase{
		{"tcp_ok", "tcp", "", "", ok200, nil, sc},
		{"tcp_refused", "tcp", "", "", refused, nil, sc},
		{"http_200", "http", "option httpchk", "", ok200, http(nil), sc},
		{"http_503", "http", "option httpchk", "", s503, http(nil), sc},
		{"http_404", "http", "option httpchk", "", s404, http(nil), sc},
		{"http_garbage", "http", "option httpchk", "", garbage, http(nil), sc},
		{"http_hang", "http", "option httpchk", "", hung, http(nil), sc},
		{"http_refused", "http", "option httpchk", "", refused, http(nil), sc},
		{"http_on404", "http", "option httpchk\n    http-check disable-on-404", "", s404, http(&HTTPCheck{DisableOn404: true}), sc},
		{"http_status_miss", "http", "option httpchk\n    http-check expect status 201,300-310", "", ok200,
			http(&HTTPCheck{Expect: []HTTPExpect{{Match: "status", Pattern: "201,300-310"}}}), sc},
		{"http_rstatus_neg", "http", "option httpchk\n    http-check expect ! rstatus ^5", "", s503,
			http(&HTTPCheck{Expect: []HTTPExpect{{Match: "rstatus", Pattern: "^5", Negate: true}}}), sc},
		{"http_string_miss", "http", "option httpchk\n    http-check expect string nothere", "", ok200,
			http(&HTTPCheck{Expect: []HTTPExpect{{Match: "string", Pattern: "nothere"}}}), sc},
		{"http_string_unwanted", "http", "option httpchk\n    http-check expect ! string hello", "", ok200,
			http(&HTTPCheck{Expect: []HTTPExpect{{Match: "string", Pattern: "hello", Negate: true}}}), sc},
		{"http_rstring", "http", "option httpchk\n    http-check expect rstring ^h.l+o$", "", ok200,
			http(&HTTPCheck{Expect: []HTTPExpect{{Match: "rstring", Pattern: "^h.l+o$"}}}), sc},
		{"http_check_timeout", "http", "option httpchk\n    timeout check 100", "", hung,
			&Config{Type: TypeHTTP, CheckTimeout: Duration(100 * time.Millisecond), ConnectTimeout: Duration(time.Second)}, sc},
		{"timeout_connect_longer", "http", "option httpchk\n    timeout connect 500\n    timeout check 200", "", hung,
			&Config{Type: TypeHTTP, CheckTimeout: Duration(200 * time.Millisecond), ConnectTimeout: Duration(500 * time.Millisecond)}, ServerConfig{Inter: Duration(900 * time.Millisecond)}},
		{"timeout_check_longer", "http", "option httpchk\n    timeout connect 100\n    timeout check 400", "", hung,
			&Config{Type: TypeHTTP, CheckTimeout: Duration(400 * time.Millisecond), ConnectTimeout: Duration(100 * time.Millisecond)}, ServerConfig{Inter: Duration(900 * time.Millisecond)}},
		{"timeout_inter_caps", "http", "option httpchk\n    timeout connect 900\n    timeout check 100", "", hung,
			&Config{Type: TypeHTTP, CheckTimeout: Duration(100 * time.Millisecond), ConnectTimeout: Duration(900 * time.Millisecond)}, ServerConfig{Inter: Duration(250 * time.Millisecond)}},
		{"tcpchk_ok", "tcp", "option tcp-check\n    tcp-check expect string +OK\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG", "", banner,
			rules(TCPRule{Action: "expect", Match: "string", Pattern: "+OK"}, TCPRule{Action: "send", Data: "PING\r\n"}, TCPRule{Action: "expect", Match: "string", Pattern: "+PONG"}), sc},
		{"tcpchk_timeout", "tcp", "option tcp-check\n    tcp-check expect string +OK", "", hung,
			rules(TCPRule{Action: "expect", Match: "string", Pattern: "+OK"}), sc},
		{"tcpchk_mismatch", "tcp", "option tcp-check\n    tcp-check send hello\\r\\n\n    tcp-check expect string nope", "", echo,
			rules(TCPRule{Action: "send", Data: "hello\r\n"}, TCPRule{Action: "expect", Match: "string", Pattern: "nope"}), sc},
		{"tcpchk_unwanted", "tcp", "option tcp-check\n    tcp-check send hello\\r\\n\n    tcp-check expect ! string hello", "", echo,
			rules(TCPRule{Action: "send", Data: "hello\r\n"}, TCPRule{Action: "expect", Match: "string", Pattern: "hello", Negate: true}), sc},
		{"tcpchk_rstring_miss", "tcp", "option tcp-check\n    tcp-check send hello\\r\\n\n    tcp-check expect rstring ^bye", "", echo,
			rules(TCPRule{Action: "send", Data: "hello\r\n"}, TCPRule{Action: "expect", Match: "rstring", Pattern: "^bye"}), sc},
		{"tcpchk_binary", "tcp", "option tcp-check\n    tcp-check send-binary 68656c6c6f\n    tcp-check expect binary 68656c6c6f", "", echo,
			rules(TCPRule{Action: "send-binary", Data: "68656c6c6f"}, TCPRule{Action: "expect", Match: "binary", Pattern: "68656c6c6f"}), sc},
		{"tcpchk_binary_miss", "tcp", "option tcp-check\n    tcp-check send-binary 50494e47\n    tcp-check expect binary 504f4e47", "", echo,
			rules(TCPRule{Action: "send-binary", Data: "50494e47"}, TCPRule{Action: "expect", Match: "binary", Pattern: "504f4e47"}), sc},
		{"tcpchk_initial_refused", "tcp", "option tcp-check\n    tcp-check expect string x", "", refused,
			rules(TCPRule{Action: "expect", Match: "string", Pattern: "x"}), sc},
		{"tcpchk_connect_port", "tcp", "option tcp-check\n    tcp-check connect port " + itoa(portOf(t, refused)), "", echo,
			rules(TCPRule{Action: "connect", Port: portOf(t, refused)}), sc},
		{"tcpchk_no_rules", "tcp", "option tcp-check", "", echo, &Config{Type: TypeTCPCheck}, sc},
		{"redis_error", "tcp", "option redis-check", "", redisLike, &Config{Type: TypeRedis}, sc},
		{"redis_timeout", "tcp", "option redis-check", "", banner, &Config{Type: TypeRedis}, sc},
		{"sslhello_alert", "tcp", "option ssl-hello-chk", "", tlsAlert, &Config{Type: TypeSSLHello}, sc},
		{"sslhello_garbage", "tcp", "option ssl-hello-chk", "", garbage, &Config{Type: TypeSSLHello}, sc},
		{"sslhello_hang", "tcp", "option ssl-hello-chk", "", hung, &Config{Type: TypeSSLHello}, sc},
		{"sslhello_silent", "tcp", "option ssl-hello-chk", "", silent, &Config{Type: TypeSSLHello}, sc},
		{"redis_silent", "tcp", "option redis-check", "", silent, &Config{Type: TypeRedis}, sc},
		{"http_silent", "http", "option httpchk", "", silent, http(nil), sc},
		{"tcpchk_silent", "tcp", "option tcp-check\n    tcp-check send hello\\r\\n\n    tcp-check expect string hello", "", silent,
			rules(TCPRule{Action: "send", Data: "hello\r\n"}, TCPRule{Action: "expect", Match: "string", Pattern: "hello"}), sc},
		{"ldap_ok", "tcp", "option ldap-check", "", ldapOK, &Config{Type: TypeLDAP}, sc},
		{"ldap_error", "tcp", "option ldap-check", "", ldapErr, &Config{Type: TypeLDAP}, sc},
		{"ldap_garbage", "tcp", "option ldap-check", "", garbage, &Config{Type: TypeLDAP}, sc},
		{"tcpchk_rbinary", "tcp", "option tcp-check\n    tcp-check send-binary 68656c6c6f\n    tcp-check expect rbinary ^68656C", "", echo,
			rules(TCPRule{Action: "send-binary", Data: "68656c6c6f"}, TCPRule{Action: "expect", Match: "rbinary", Pattern: "^68656C"}), sc},
		{"tcpchk_rbinary_timeout", "tcp", "option tcp-check\n    tcp-check expect rbinary ^00", "", hung,
			rules(TCPRule{Action: "expect", Match: "rbinary", Pattern: "^00"}), sc},
		{"tcpchk_binary_text_timeout", "tcp", "option tcp-check\n    tcp-check expect binary 68656c6c6fff", "", hung,
			rules(TCPRule{Action: "expect", Match: "binary", Pattern: "68656c6c6fff"}), sc},
		{"tcpchk_binary_timeout", "tcp", "option tcp-check\n    tcp-check expect binary 00ff", "", hung,
			rules(TCPRule{Action: "expect", Match: "binary", Pattern: "00ff"}), sc},
		{"tcpchk_rstring_timeout", "tcp", "option tcp-check\n    tcp-check expect rstring ^x", "", hung,
			rules(TCPRule{Action: "expect", Match: "rstring", Pattern: "^x"}), sc},
		{"mysql_greeting", "tcp", "option mysql-check", "", mysqlOK, &Config{Type: TypeMySQL}, sc},
		{"mysql_login", "tcp", "option mysql-check user haproxy", "", mysqlOK, &Config{Type: TypeMySQL, User: "haproxy"}, sc},
		{"mysql_denied", "tcp", "option mysql-check user haproxy", "", mysqlDeny, &Config{Type: TypeMySQL, User: "haproxy"}, sc},
		{"pgsql_ok", "tcp", "option pgsql-check user alice", "", pgOK, &Config{Type: TypePgSQL, User: "alice"}, sc},
		{"pgsql_error", "tcp", "option pgsql-check user alice", "", pgErr, &Config{Type: TypePgSQL, User: "alice"}, sc},
		{"smtp_ok", "tcp", "option smtpchk", "", smtpOK, &Config{Type: TypeSMTP}, sc},
		{"smtp_refused", "tcp", "option smtpchk", "", smtpBad, &Config{Type: TypeSMTP}, sc},
		{"smtp_banner", "tcp", "option smtpchk", "", smtpBanner, &Config{Type: TypeSMTP}, sc},
		{"checkssl_plain_server", "tcp", "", "check-ssl verify none", echo, nil, ServerConfig{Inter: Duration(inter), SSL: true, InsecureSkipVerify: true}},
		{"check_port", "http", "option httpchk", "port " + itoa(portOf(t, ok200)), refused, http(nil), ServerConfig{Inter: Duration(inter), Port: portOf(t, ok200)}},
	}

	var cfg strings.Builder
	cfg.WriteString("global\n    log stdout format raw local0\ndefaults\n    log global\n    option log-health-checks\n" +
		"    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n")
	for _, c := range cases {
		fmt.Fprintf(&cfg, "backend %s\n    mode %s\n", c.name, c.mode)
		if c.lines != "" {
			fmt.Fprintf(&cfg, "    %s\n", c.lines)
		}
		fmt.Fprintf(&cfg, "    server s %s check inter %d %s\n", c.addr, time.Duration(c.sc.Inter).Milliseconds(), c.extra)
	}
	port := porttest.Free(t)
	fmt.Fprintf(&cfg, "frontend fe\n    mode tcp\n    bind %s\n    default_backend tcp_ok\n", porttest.Loopback(port))

	// HAProxy's first line per backend.
	var mu sync.Mutex
	first := map[string]string{}
	lineRE := regexp.MustCompile(`^Health check for (?:backup )?server ([^/]+)/s `)
	haproxytest.StartLines(t, haproxytest.Command(t, bin, cfg.String()), func(line string) {
		if m := lineRE.FindStringSubmatch(line); m != nil {
			mu.Lock()
			if _, ok := first[m[1]]; !ok {
				first[m[1]] = line
			}
			mu.Unlock()
		}
	}).MustListen(t, port)

	// Our side, concurrently.
	ours := make(map[string]string, len(cases))
	var wg sync.WaitGroup
	var omu sync.Mutex
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, err := compile(c.cfg)
			if err != nil {
				t.Error(err)
				return
			}
			pr, err := newProber(c.addr, c.sc, cc)
			if err != nil {
				t.Error(err)
				return
			}
			r := pr.run(t.Context(), true)
			st := initialState(c.sc.params(), false)
			st.apply(r)
			msg := Event{Backend: c.name, Server: "s", Result: r, State: st, Moved: true}.CheckMessage(false)
			omu.Lock()
			ours[c.name] = msg
			omu.Unlock()
		}()
	}
	wg.Wait()

	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(first)
		mu.Unlock()
		if n == len(cases) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	dur := regexp.MustCompile(`check duration: (\d+)ms`)
	mu.Lock()
	defer mu.Unlock()
	for _, c := range cases {
		want, ok := first[c.name]
		if !ok {
			t.Errorf("%s: haproxy logged no check", c.name)
			continue
		}
		want = dur.ReplaceAllString(want, "check duration: Nms")
		got := dur.ReplaceAllString(ours[c.name], "check duration: Nms")
		if got != want {
			t.Errorf("%s:\nhaproxy: %s\n  model: %s", c.name, want, got)
		}
		// Slow checks (timeouts) must take as long on both sides. A loaded
		// machine can only delay the model (a check ends when its
		// goroutine runs), so it may take longer, but not twice as long:
		// that would be another timeout. A check HAProxy ended at once is
		// not timed: had the model's timed out, its log line, compared
		// above, would say so.
		hd, od := durationOf(dur, first[c.name]), durationOf(dur, ours[c.name])
		if hd >= 100 && (hd-od > 60 || od > 2*hd+60) {
			t.Errorf("%s: haproxy's check took %dms, the model's %dms", c.name, hd, od)
		}
	}
}

// recorder keeps the first HTTP request it receives, raw, and answers 200.
func recorder(t *testing.T) (addr string, first func() string) {
	var mu sync.Mutex
	var got string
	addr = fakeServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		var raw strings.Builder
		length := 0
		for {
			line, err := br.ReadString('\n')
			raw.WriteString(line)
			if err != nil {
				return
			}
			if name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok && strings.EqualFold(name, "content-length") {
				length, _ = strconv.Atoi(strings.TrimSpace(value))
			}
			if line == "\r\n" {
				break
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		raw.Write(body)
		mu.Lock()
		if got == "" {
			got = raw.String()
		}
		mu.Unlock()
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	return addr, func() string {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// TestHTTPRequestAgainstHAProxy compares the bytes of HTTP check requests
// with those HAProxy sends for the same settings.
func TestHTTPRequestAgainstHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	cases := []struct {
		name  string
		lines string
		h     HTTPCheck
	}{
		{"default", "option httpchk", HTTPCheck{}},
		{"uri", "option httpchk /only-uri", HTTPCheck{URI: "/only-uri"}},
		{"legacy_host", `option httpchk HEAD /p HTTP/1.1\r\nHost:\ www.x.com`,
			HTTPCheck{Method: "HEAD", URI: "/p", Version: "HTTP/1.1", Headers: []Header{{"Host", "www.x.com"}}}},
		{"send", "option httpchk\n    http-check send meth POST uri /q ver HTTP/1.1 hdr Host h.example hdr X-A b body abc",
			HTTPCheck{Method: "POST", URI: "/q", Version: "HTTP/1.1", Headers: []Header{{"Host", "h.example"}, {"X-A", "b"}}, Body: "abc"}},
		{"option_and_send_hdr", "option httpchk GET /x HTTP/1.1\n    http-check send hdr Host foo",
			HTTPCheck{Method: "GET", URI: "/x", Version: "HTTP/1.1", Headers: []Header{{"Host", "foo"}}}},
		{"put_without_body", "option httpchk\n    http-check send meth PUT uri /p ver HTTP/1.1 hdr Host h",
			HTTPCheck{Method: "PUT", URI: "/p", Version: "HTTP/1.1", Headers: []Header{{"Host", "h"}}}},
		{"connection_header", "option httpchk\n    http-check send meth GET uri / ver HTTP/1.1 hdr Host h hdr Connection keep-alive",
			HTTPCheck{Method: "GET", URI: "/", Version: "HTTP/1.1", Headers: []Header{{"Host", "h"}, {"Connection", "keep-alive"}}}},
		{"connection_close", "option httpchk\n    http-check send meth GET uri / ver HTTP/1.1 hdr Connection close hdr X-B c",
			HTTPCheck{Method: "GET", URI: "/", Version: "HTTP/1.1", Headers: []Header{{"Connection", "close"}, {"X-B", "c"}}}},
		{"http10_body", "option httpchk\n    http-check send meth POST uri /b body xyz",
			HTTPCheck{Method: "POST", URI: "/b", Body: "xyz"}},
	}
	var cfg strings.Builder
	cfg.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n")
	theirs := map[string]func() string{}
	for _, c := range cases {
		addr, got := recorder(t)
		theirs[c.name] = got
		fmt.Fprintf(&cfg, "backend %s\n    %s\n    server s %s check inter 200\n", c.name, c.lines, addr)
	}
	port := porttest.Free(t)
	fmt.Fprintf(&cfg, "frontend fe\n    bind %s\n    default_backend default\n", porttest.Loopback(port))
	haproxytest.Start(t, haproxytest.Command(t, bin, cfg.String())).MustListen(t, port)

	for _, c := range cases {
		addr, ours := recorder(t)
		r := runProbe(t, addr, ServerConfig{Inter: Duration(time.Second)}, &Config{Type: TypeHTTP, HTTP: &c.h})
		if r.Code != L7OK {
			t.Errorf("%s: our check got %s", c.name, r.Code)
		}
		deadline := time.Now().Add(5 * time.Second)
		for theirs[c.name]() == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got, want := ours(), theirs[c.name](); got != want {
			t.Errorf("%s:\nhaproxy sent %q\n  we sent %q", c.name, want, got)
		}
	}
}

// rawRecorder keeps the first bytes of the first connection it accepts,
// with the connection's source port.
func rawRecorder(t *testing.T) (addr string, first func() (string, int)) {
	var mu sync.Mutex
	var got string
	var port int
	addr = fakeServer(t, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var data []byte
		buf := make([]byte, 256)
		// The checks in this test end by sending this payload.
		for !strings.HasSuffix(string(data), "0123456789abcdef") {
			n, err := c.Read(buf)
			data = append(data, buf[:n]...)
			if err != nil {
				break
			}
		}
		mu.Lock()
		if got == "" && len(data) > 0 {
			got, port = string(data), c.RemoteAddr().(*net.TCPAddr).Port
		}
		mu.Unlock()
	})
	return addr, func() (string, int) {
		mu.Lock()
		defer mu.Unlock()
		return got, port
	}
}

// TestProxyHeaderAgainstHAProxy compares the PROXY protocol header that
// starts a check connection with HAProxy's, for send-proxy and
// send-proxy-v2.
func TestProxyHeaderAgainstHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	type side struct {
		addr  string
		first func() (string, int)
	}
	versions := map[string]string{"v1": "send-proxy", "v2": "send-proxy-v2"}
	theirs := map[string]side{}
	var cfg strings.Builder
	cfg.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n")
	for v, kw := range versions {
		addr, first := rawRecorder(t)
		theirs[v] = side{addr, first}
		fmt.Fprintf(&cfg, "backend b%s\n    option tcp-check\n    tcp-check send 0123456789abcdef\n    server s %s check inter 200 %s\n", v, addr, kw)
	}
	port := porttest.Free(t)
	fmt.Fprintf(&cfg, "frontend fe\n    bind %s\n    default_backend bv1\n", porttest.Loopback(port))
	haproxytest.Start(t, haproxytest.Command(t, bin, cfg.String())).MustListen(t, port)

	v1 := regexp.MustCompile(`^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 (\d+) (\d+)\r\n0123456789abcdef$`)
	for v := range versions {
		addr, ours := rawRecorder(t)
		runProbe(t, addr, ServerConfig{Inter: Duration(time.Second), ProxyProtocol: v},
			&Config{Type: TypeTCPCheck, TCPRules: []TCPRule{{Action: "send", Data: "0123456789abcdef"}}})
		deadline := time.Now().Add(5 * time.Second)
		for {
			hGot, _ := theirs[v].first()
			oGot, _ := ours()
			if hGot != "" && oGot != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		hGot, hPort := theirs[v].first()
		oGot, oPort := ours()
		if v == "v2" {
			if hGot != oGot {
				t.Errorf("v2 header:\nhaproxy %q\n  model %q", hGot, oGot)
			}
			continue
		}
		// v1 names the check connection itself: its source port and the
		// server's port.
		for _, c := range []struct {
			who, got, addr string
			port           int
		}{{"haproxy", hGot, theirs[v].addr, hPort}, {"model", oGot, addr, oPort}} {
			m := v1.FindStringSubmatch(c.got)
			if m == nil {
				t.Errorf("%s v1 header: %q", c.who, c.got)
				continue
			}
			if m[1] != strconv.Itoa(c.port) || m[2] != strconv.Itoa(portOf(t, c.addr)) {
				t.Errorf("%s v1 header %q: want ports %d %d", c.who, c.got, c.port, portOf(t, c.addr))
			}
		}
	}
}
