package checks

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer accepts connections on 127.0.0.1 and runs handle on each.
func fakeServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				// Unblock handlers that wait when the test ends.
				stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
				defer stop()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// refusedAddr is a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func hang(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// httpReply answers one request with raw after reading its head.
func httpReply(raw string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, raw)
	}
}

func runProbe(t *testing.T, dial string, sc ServerConfig, cfg *Config) Result {
	t.Helper()
	c, err := compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := newProber(dial, sc, c)
	if err != nil {
		t.Fatal(err)
	}
	return pr.run(context.Background(), true)
}

func TestProbes(t *testing.T) {
	ok200 := fakeServer(t, httpReply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"))
	s503 := fakeServer(t, httpReply("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
	s404 := fakeServer(t, httpReply("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
	garbage := fakeServer(t, httpReply("garbage\r\n\r\n"))
	hung := fakeServer(t, hang)
	refused := refusedAddr(t)
	echo := fakeServer(t, func(c net.Conn) {
		buf := make([]byte, 512)
		n, _ := c.Read(buf)
		_, _ = c.Write(buf[:n])
	})
	banner := fakeServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "+OK ready\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line == "PING\r\n" {
			_, _ = io.WriteString(c, "+PONG\r\n")
		}
	})
	redis := fakeServer(t, func(c net.Conn) {
		buf := make([]byte, 64)
		n, _ := io.ReadAtLeast(c, buf, len("*1\r\n$4\r\nPING\r\n"))
		if string(buf[:n]) == "*1\r\n$4\r\nPING\r\n" {
			_, _ = io.WriteString(c, "+PONG\r\n")
		} else {
			_, _ = io.WriteString(c, "-ERR unknown\r\n")
		}
	})
	notRedis := fakeServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 64))
		_, _ = io.WriteString(c, "-NOAUTH Authentication required.\r\n")
	})
	tlsHello := fakeServer(t, func(c net.Conn) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err == nil && buf[0] == 0x16 {
			_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0, 0})
		}
	})
	rawGarbage := fakeServer(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 512))
		_, _ = io.WriteString(c, "garbage\r\n")
	})
	smtp := fakeServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		_, _ = io.WriteString(c, "220 mail ESMTP\r\n")
		if l, _ := br.ReadString('\n'); l == "HELO localhost\r\n" {
			_, _ = io.WriteString(c, "250 mail\r\n")
		} else {
			_, _ = io.WriteString(c, "500 what\r\n")
			return
		}
		if l, _ := br.ReadString('\n'); l == "QUIT\r\n" {
			_, _ = io.WriteString(c, "221 bye\r\n")
		}
	})
	mysqlGreeting := fakeServer(t, func(c net.Conn) {
		payload := append([]byte{10}, "8.0.36\x00"...)
		payload = append(payload, make([]byte, 20)...)
		_, _ = c.Write(append([]byte{byte(len(payload)), 0, 0, 0}, payload...))
		if b := make([]byte, 4); readFull(c, b) {
			n := int(b[0]) | int(b[1])<<8
			p := make([]byte, n)
			if readFull(c, p) && strings.Contains(string(p), "haproxy\x00") {
				_, _ = c.Write([]byte{7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0})
			} else {
				msg := "\xff\x15\x04#28000Access denied"
				_, _ = c.Write(append([]byte{byte(len(msg)), 0, 0, 2}, msg...))
			}
		}
	})
	pgsql := fakeServer(t, func(c net.Conn) {
		b := make([]byte, 4)
		if !readFull(c, b) {
			return
		}
		rest := make([]byte, int(b[3])-4)
		if readFull(c, rest) && strings.Contains(string(rest), "user\x00alice\x00") {
			_, _ = c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 5})
		} else {
			_, _ = c.Write(append([]byte{'E', 0, 0, 0, 30}, "SFATAL\x00Mrole does not exist\x00\x00"...))
		}
	})

	const inter = 300 * time.Millisecond
	sc := ServerConfig{Inter: Duration(inter)}
	tests := []struct {
		name string
		dial string
		cfg  *Config
		sc   *ServerConfig
		code Code
		http int
		info string
	}{
		{"tcp connect", ok200, nil, nil, L4OK, 0, ""},
		{"tcp refused", refused, nil, nil, L4CON, 0, "Connection refused"},
		{"http 200", ok200, &Config{Type: TypeHTTP}, nil, L7OK, 200, ""},
		{"http 503", s503, &Config{Type: TypeHTTP}, nil, L7STS, 503, "Service Unavailable"},
		{"http garbage", garbage, &Config{Type: TypeHTTP}, nil, L7RSP, 0, ""},
		{"http hang", hung, &Config{Type: TypeHTTP}, nil, L7TOUT, 0, ""},
		{"http refused", refused, &Config{Type: TypeHTTP}, nil, L4CON, 0, "Connection refused"},
		{"expect status miss", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "status", Pattern: "201,300-310"}}}}, nil, L7STS, 200, "OK"},
		{"expect status range", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "status", Pattern: "199-201"}}}}, nil, L7OK, 200, ""},
		{"expect rstatus", s503, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "rstatus", Pattern: "^5", Negate: true}}}}, nil, L7STS, 503, "Service Unavailable"},
		{"expect 503 accepted", s503, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "status", Pattern: "503"}}}}, nil, L7OK, 503, ""},
		{"expect string", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "string", Pattern: "ell"}}}}, nil, L7OK, 200, ""},
		{"expect string miss", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "string", Pattern: "nothere"}}}}, nil, L7RSP, 200, "HTTP content check did not match"},
		{"expect ! string", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "string", Pattern: "hello", Negate: true}}}}, nil, L7RSP, 200, "HTTP check matched unwanted content"},
		{"expect rstring", ok200, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "rstring", Pattern: "^h.l+o$"}}}}, nil, L7OK, 200, ""},
		{"disable-on-404", s404, &Config{Type: TypeHTTP, HTTP: &HTTPCheck{DisableOn404: true}}, nil, L7OKC, 404, ""},
		{"404 without disable-on-404", s404, &Config{Type: TypeHTTP}, nil, L7STS, 404, "Not Found"},
		{"tcp-check banner and ping", banner, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "expect", Match: "string", Pattern: "+OK"},
			{Action: "send", Data: "PING\r\n"},
			{Action: "expect", Match: "string", Pattern: "+PONG"},
		}}, nil, L7OK, 0, "(tcp-check)"},
		{"tcp-check expect timeout", hung, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "expect", Match: "string", Pattern: "+OK"},
		}}, nil, L7TOUT, 0, " at step 1 of tcp-check (expect string '+OK')"},
		{"tcp-check mismatch at close", echo, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "send", Data: "hello\r\n"},
			{Action: "expect", Match: "string", Pattern: "nope"},
		}}, nil, L7RSP, 0, "TCPCHK did not match content 'nope' at step 2"},
		{"tcp-check unwanted", echo, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "send", Data: "hello\r\n"},
			{Action: "expect", Match: "string", Pattern: "hello", Negate: true},
		}}, nil, L7RSP, 0, "TCPCHK matched unwanted content 'hello' at step 2"},
		{"tcp-check binary", echo, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "send-binary", Data: "50494e47"},
			{Action: "expect", Match: "binary", Pattern: "504f4e47"},
		}}, nil, L7RSP, 0, "TCPCHK did not match content (binary) at step 2"},
		{"tcp-check rstring", echo, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "send", Data: "hello\r\n"},
			{Action: "expect", Match: "rstring", Pattern: "^hel+o"},
		}}, nil, L7OK, 0, "(tcp-check)"},
		{"tcp-check refused", refused, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "expect", Match: "string", Pattern: "x"},
		}}, nil, L4CON, 0, "Connection refused at initial connection step of tcp-check"},
		{"tcp-check connect port", echo, &Config{Type: TypeTCPCheck, TCPRules: []TCPRule{
			{Action: "connect", Port: portOf(t, refused)},
		}}, nil, L4CON, 0, "Connection refused at step 1 of tcp-check (connect port " + itoa(portOf(t, refused)) + ")"},
		{"tcp-check without rules", echo, &Config{Type: TypeTCPCheck}, nil, L4OK, 0, ""},
		{"ssl hello", tlsHello, &Config{Type: TypeSSLHello}, nil, L6OK, 0, ""},
		{"ssl hello garbage", rawGarbage, &Config{Type: TypeSSLHello}, nil, L6RSP, 0, ""},
		{"ssl hello empty", garbage, &Config{Type: TypeSSLHello}, nil, L6RSP, 0, "TCPCHK got an empty response at step 2"},
		{"ssl hello timeout", hung, &Config{Type: TypeSSLHello}, nil, L6TOUT, 0, ""},
		{"redis", redis, &Config{Type: TypeRedis}, nil, L7OK, 0, "Redis server is ok"},
		{"redis error", notRedis, &Config{Type: TypeRedis}, nil, L7STS, 0, "-NOAUTH Authentication required."},
		{"smtp", smtp, &Config{Type: TypeSMTP}, nil, L7OK, 221, "bye"},
		{"smtp ehlo refused", smtp, &Config{Type: TypeSMTP, Hello: "EHLO", Domain: "x"}, nil, L7STS, 500, "what"},
		{"mysql greeting", mysqlGreeting, &Config{Type: TypeMySQL}, nil, L7OK, 0, "8.0.36"},
		{"mysql login", mysqlGreeting, &Config{Type: TypeMySQL, User: "haproxy"}, nil, L7OK, 0, "8.0.36"},
		{"mysql denied", mysqlGreeting, &Config{Type: TypeMySQL, User: "bob"}, nil, L7STS, 1045, "#28000Access denied"},
		{"pgsql", pgsql, &Config{Type: TypePgSQL, User: "alice"}, nil, L7OK, 0, "PostgreSQL server is ok"},
		{"pgsql error", pgsql, &Config{Type: TypePgSQL, User: "bob"}, nil, L7RSP, 0, "FATAL"},
		{"check port", refused, &Config{Type: TypeHTTP}, &ServerConfig{Inter: Duration(inter), Port: portOf(t, ok200)}, L7OK, 200, ""},
		{"check addr", "192.0.2.1:" + itoa(portOf(t, ok200)), &Config{Type: TypeHTTP}, &ServerConfig{Inter: Duration(inter), Addr: "127.0.0.1"}, L7OK, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := sc
			if tt.sc != nil {
				s = *tt.sc
			}
			r := runProbe(t, tt.dial, s, tt.cfg)
			if r.Code != tt.code || r.HTTPCode != tt.http || r.Info != tt.info {
				t.Fatalf("got %s code %d info %q, want %s code %d info %q", r.Code, r.HTTPCode, r.Info, tt.code, tt.http, tt.info)
			}
			if (r.Code == L7TOUT || r.Code == L6TOUT) && (r.Duration < inter-10*time.Millisecond || r.Duration > 3*inter) {
				t.Fatalf("timeout after %v, want about %v", r.Duration, inter)
			}
		})
	}
}

func readFull(c net.Conn, b []byte) bool {
	_, err := io.ReadFull(c, b)
	return err == nil
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}

// The request bytes are those HAProxy 2.6 sends for the same settings.
func TestHTTPRequest(t *testing.T) {
	tests := []struct {
		h    HTTPCheck
		want string
	}{
		{HTTPCheck{}, "OPTIONS / HTTP/1.0\r\n\r\n"},
		{HTTPCheck{URI: "/only-uri"}, "OPTIONS /only-uri HTTP/1.0\r\n\r\n"},
		{HTTPCheck{Method: "HEAD", URI: "/p", Version: "HTTP/1.1", Headers: []Header{{"Host", "www.x.com"}}},
			"HEAD /p HTTP/1.1\r\nhost: www.x.com\r\nconnection: close\r\n\r\n"},
		{HTTPCheck{Method: "POST", URI: "/q", Version: "HTTP/1.1", Headers: []Header{{"Host", "h.example"}, {"X-A", "b"}}, Body: "abc"},
			"POST /q HTTP/1.1\r\nhost: h.example\r\nx-a: b\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc"},
		{HTTPCheck{Method: "OPTIONS", URI: "*", Version: "HTTP/1.1", Headers: []Header{{"Host", "foo"}}},
			"OPTIONS * HTTP/1.1\r\nhost: foo\r\nconnection: close\r\n\r\n"},
	}
	for _, tt := range tests {
		h, err := compileHTTP(&tt.h)
		if err != nil {
			t.Fatal(err)
		}
		if string(h.request) != tt.want {
			t.Errorf("request:\n got %q\nwant %q", h.request, tt.want)
		}
	}
}

// With "timeout check", HAProxy 2.6 fails a silent server after the later
// of min(timeout connect, inter) and timeout check.
func TestCheckTimeouts(t *testing.T) {
	hung := fakeServer(t, hang)
	tests := []struct {
		name                  string
		inter, connect, check time.Duration
		want                  time.Duration
	}{
		{"inter only", 400 * time.Millisecond, 0, 0, 400 * time.Millisecond},
		{"connect timeout ignored without check timeout", 400 * time.Millisecond, 100 * time.Millisecond, 0, 400 * time.Millisecond},
		{"check timeout longer", 800 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		{"connect limit longer", 800 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond, 400 * time.Millisecond},
		{"inter caps connect", 200 * time.Millisecond, 900 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &Config{Type: TypeHTTP, ConnectTimeout: Duration(tt.connect), CheckTimeout: Duration(tt.check)}
			r := runProbe(t, hung, ServerConfig{Inter: Duration(tt.inter)}, cfg)
			if r.Code != L7TOUT {
				t.Fatalf("got %s, want L7TOUT", r.Code)
			}
			if r.Duration < tt.want-10*time.Millisecond || r.Duration > tt.want+150*time.Millisecond {
				t.Fatalf("timed out after %v, want about %v", r.Duration, tt.want)
			}
		})
	}
}

func TestCheckSSL(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	r := runProbe(t, addr, ServerConfig{SSL: true, InsecureSkipVerify: true, Inter: Duration(time.Second)}, nil)
	if r.Code != L6OK {
		t.Fatalf("check-ssl verify none: got %s %q", r.Code, r.Info)
	}
	r = runProbe(t, addr, ServerConfig{SSL: true, Inter: Duration(time.Second)}, nil)
	if r.Code != L6RSP || r.Info != "SSL handshake failure" {
		t.Fatalf("check-ssl with an unknown CA: got %s %q", r.Code, r.Info)
	}
	r = runProbe(t, addr, ServerConfig{SSL: true, InsecureSkipVerify: true, Inter: Duration(time.Second)}, &Config{Type: TypeHTTP})
	if r.Code != L7OK || r.HTTPCode != 200 {
		t.Fatalf("https check: got %s %d %q", r.Code, r.HTTPCode, r.Info)
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []*Config{
		{Type: "nope"},
		{Type: TypePgSQL},
		{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "status", Pattern: "2xx"}}}},
		{Type: TypeHTTP, HTTP: &HTTPCheck{Expect: []HTTPExpect{{Match: "rstring", Pattern: "("}}}},
		{Type: TypeHTTP, HTTP: &HTTPCheck{Method: "GET /x"}},
		{Type: TypeHTTP, HTTP: &HTTPCheck{Headers: []Header{{"Bad Name", "x"}}}},
		{Type: TypeTCPCheck, TCPRules: []TCPRule{{Action: "send-binary", Data: "zz"}}},
		{Type: TypeTCPCheck, TCPRules: []TCPRule{{Action: "expect", Match: "glob", Pattern: "x"}}},
		{Type: TypeTCP, HTTP: &HTTPCheck{}},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := New(Options{Dial: "nohost", Backend: "b", Server: "s"}); err == nil {
		t.Error("address without port accepted")
	}
	if _, err := New(Options{Dial: "127.0.0.1:80", Check: ServerConfig{Fall: -1}}); err == nil {
		t.Error("negative fall accepted")
	}
}

func TestDurationJSON(t *testing.T) {
	var sc ServerConfig
	if err := json.Unmarshal([]byte(`{"inter":"1.5s","fastinter":250000000,"rise":3}`), &sc); err != nil {
		t.Fatal(err)
	}
	if time.Duration(sc.Inter) != 1500*time.Millisecond || time.Duration(sc.FastInter) != 250*time.Millisecond || sc.Rise != 3 {
		t.Fatalf("decoded %+v", sc)
	}
	out, _ := json.Marshal(sc)
	if string(out) != `{"inter":"1.5s","fastinter":"250ms","rise":3}` {
		t.Fatalf("encoded %s", out)
	}
	for _, bad := range []string{`{"inter":"soon"}`, `{"inter":true}`} {
		if err := json.Unmarshal([]byte(bad), &sc); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParamsDefaults(t *testing.T) {
	c, err := New(Options{Dial: "127.0.0.1:1", Check: ServerConfig{Inter: Duration(time.Second), DownInter: Duration(5 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	inter, fast, down, rise, fall := c.Params()
	if inter != time.Second || fast != time.Second || down != 5*time.Second || rise != 2 || fall != 3 {
		t.Fatalf("params %v %v %v %d %d", inter, fast, down, rise, fall)
	}
	if err := Validate("127.0.0.1:1", ServerConfig{ProxyProtocol: "v3"}, nil); err == nil {
		t.Error("proxy_protocol v3 accepted")
	}
	if err := Validate("127.0.0.1:1", ServerConfig{}, &Config{Type: TypeHTTP}); err != nil {
		t.Error(err)
	}
}

func TestUnixSocketCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if r := runProbe(t, "unix/"+path, ServerConfig{Inter: Duration(time.Second)}, nil); r.Code != L4OK {
		t.Fatalf("unix socket: %s %q", r.Code, r.Info)
	}
}

func TestCheckSSLWithCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	// httptest's certificate is for example.com and 127.0.0.1.
	r := runProbe(t, addr, ServerConfig{SSL: true, CAFile: ca, SNI: "example.com", Inter: Duration(time.Second)}, nil)
	if r.Code != L6OK {
		t.Fatalf("verified TLS check: %s %q", r.Code, r.Info)
	}
	if _, err := New(Options{Dial: addr, Check: ServerConfig{SSL: true, CAFile: filepath.Join(t.TempDir(), "missing.pem")}}); err == nil {
		t.Fatal("missing ca_file accepted")
	}
}
