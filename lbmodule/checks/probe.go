package checks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/transport"
)

// maxBody is how much of a response HAProxy inspects (tune.bufsize).
const maxBody = 16384

// prober runs the checks of one server.
type prober struct {
	c       *compiled
	p       params
	network string
	host    string
	port    string
	tlsConf *tls.Config
	useTLS  bool
	// verify, roots and verifyHost verify server certificates.
	verify     bool
	roots      *x509.CertPool
	verifyHost string
	proxy      string
	dialFunc   func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newProber(dial string, sc ServerConfig, c *compiled) (*prober, error) {
	pr := &prober{c: c, p: sc.params(), network: "tcp", useTLS: sc.SSL, proxy: sc.ProxyProtocol}
	switch {
	case strings.HasPrefix(dial, "unix/"):
		pr.network, pr.host = "unix", strings.TrimPrefix(dial, "unix/")
	default:
		host, port, err := net.SplitHostPort(dial)
		if err != nil {
			return nil, fmt.Errorf("check address %q: %v", dial, err)
		}
		pr.host, pr.port = host, port
	}
	if sc.Addr != "" {
		pr.network, pr.host = "tcp", sc.Addr
		if pr.port == "" && sc.Port == 0 {
			return nil, fmt.Errorf("check address %q needs a port", sc.Addr)
		}
	}
	if sc.Port != 0 {
		if pr.network == "unix" {
			return nil, fmt.Errorf("check port %d given for a UNIX socket server", sc.Port)
		}
		pr.port = strconv.Itoa(sc.Port)
	}
	if pr.network == "tcp" {
		if _, err := strconv.Atoi(pr.port); err != nil {
			return nil, fmt.Errorf("check address %q: port %q is not a number", dial, pr.port)
		}
	}
	// As in HAProxy, the checks send only check-sni, and the certificate
	// name is verified against the SNI sent, else against verifyhost, else
	// not at all: Go's own verification, which always wants a name, is
	// replaced.
	conf := &tls.Config{ServerName: sc.SNI, InsecureSkipVerify: true}
	if sc.CAFile != "" {
		pem, err := os.ReadFile(sc.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no certificate found", sc.CAFile)
		}
		pr.roots = pool
	}
	if !sc.InsecureSkipVerify {
		pr.verifyHost = sc.VerifyHost
		pr.verify = true
		conf = pr.withSNI(conf, sc.SNI)
	}
	pr.tlsConf = conf
	d, err := dialerFrom(sc.Source)
	if err != nil {
		return nil, err
	}
	pr.dialFunc = d.DialContext
	return pr, nil
}

// withSNI returns conf sending sni (none when empty), with the
// certificate verification that goes with it.
func (pr *prober) withSNI(conf *tls.Config, sni string) *tls.Config {
	conf = conf.Clone()
	conf.ServerName = sni
	if pr.verify {
		name := sni
		if name == "" {
			name = pr.verifyHost
		}
		conf.VerifyConnection = transport.VerifyConnection(pr.roots, name)
	}
	return conf
}

// address is where the checks go by default.
func (pr *prober) address() string {
	if pr.network == "unix" {
		return pr.host
	}
	return net.JoinHostPort(pr.host, pr.port)
}

// session is one check in progress.
type session struct {
	pr    *prober
	ctx   context.Context
	start time.Time
	// connectBy limits connections; after a connection, deadline limits
	// the whole check.
	connectBy time.Time
	deadline  time.Time
	conn      net.Conn
	stop      func() bool
}

// run performs one check. running tells whether the server is up (for
// disable-on-404).
func (pr *prober) run(ctx context.Context, running bool) Result {
	s := &session{pr: pr, ctx: ctx, start: time.Now()}
	inter := pr.p.inter
	s.connectBy = s.start.Add(inter)
	s.deadline = s.connectBy
	if ct := time.Duration(pr.c.cfg.CheckTimeout); ct > 0 {
		limit := time.Duration(pr.c.cfg.ConnectTimeout)
		if limit <= 0 || limit > inter {
			limit = inter
		}
		s.connectBy = s.start.Add(limit)
		s.deadline = s.connectBy
	}
	defer s.close()
	r := s.check(running)
	r.Duration = time.Since(s.start)
	return r
}

func (s *session) close() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

func (s *session) check(running bool) Result {
	pr := s.pr
	if pr.c.cfg.Type == TypeTCPCheck && len(pr.c.tcpRules) > 0 {
		return s.tcpCheck(pr.c.tcpRules)
	}
	if r, ok := s.connect(pr.network, pr.address(), pr.useTLS, pr.tlsConf); !ok {
		return r
	}
	switch pr.c.cfg.Type {
	case TypeHTTP:
		return s.httpCheck(running)
	case TypeSSLHello:
		return s.sslHello()
	case TypeRedis:
		return s.redis()
	case TypeMySQL:
		return s.mysql()
	case TypePgSQL:
		return s.pgsql()
	case TypeSMTP:
		return s.smtp()
	case TypeLDAP:
		return s.ldap()
	}
	if pr.useTLS {
		return Result{Code: L6OK}
	}
	return Result{Code: L4OK}
}

// connect opens the check's connection (closing an earlier one) and, with
// useTLS, completes a TLS handshake. On failure it returns the result.
func (s *session) connect(network, addr string, useTLS bool, conf *tls.Config) (Result, bool) {
	s.close()
	ctx, cancel := context.WithDeadline(s.ctx, s.connectBy)
	conn, err := s.pr.dialFunc(ctx, network, addr)
	cancel()
	if err != nil {
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			return Result{Code: L4TOUT}, false
		}
		if t := errnoText(err); t != "" {
			return Result{Code: L4CON, Info: t}, false
		}
		return Result{Code: SockErr, Info: err.Error()}, false
	}
	s.conn = conn
	if ct := time.Duration(s.pr.c.cfg.CheckTimeout); ct > 0 {
		if d := time.Now().Add(ct); d.After(s.deadline) {
			s.deadline = d
		}
	}
	_ = conn.SetDeadline(s.deadline)
	// Stopping the checker interrupts blocked reads and writes.
	s.stop = context.AfterFunc(s.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	if s.pr.proxy != "" {
		if _, err := conn.Write(proxyHeader(s.pr.proxy, conn)); err != nil {
			return ioFailure(err, L4TOUT), false
		}
	}
	if !useTLS {
		return Result{}, true
	}
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(s.ctx); err != nil {
		if isTimeout(err) {
			return Result{Code: L6TOUT}, false
		}
		return Result{Code: L6RSP, Info: "SSL handshake failure"}, false
	}
	s.conn = tc
	return Result{}, true
}

// ioFailure classifies an error met after the connection was made.
func ioFailure(err error, timeout Code) Result {
	if isTimeout(err) {
		return Result{Code: timeout}
	}
	if t := errnoText(err); t != "" {
		return Result{Code: SockErr, Info: t}
	}
	return Result{Code: L7RSP}
}

func (s *session) httpCheck(running bool) Result {
	h := s.pr.c.http
	if _, err := s.conn.Write(h.request); err != nil {
		return ioFailure(err, L7TOUT)
	}
	br := bufio.NewReaderSize(s.conn, maxBody)
	resp, err := http.ReadResponse(br, &http.Request{Method: h.method})
	if err != nil {
		if isEOF(err) {
			return Result{Code: L7RSP}
		}
		return ioFailure(err, L7TOUT)
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(code)))

	if h.on404 && running && code == http.StatusNotFound {
		return Result{Code: L7OKC, HTTPCode: code}
	}
	if len(h.expects) == 0 {
		if code >= 200 && code < 400 {
			return Result{Code: L7OK, HTTPCode: code}
		}
		return Result{Code: L7STS, HTTPCode: code, Info: reason}
	}
	var body []byte
	bodyRead := false
	for _, e := range h.expects {
		var match bool
		switch e.Match {
		case "status":
			for _, cr := range e.codes {
				if code >= cr.lo && code <= cr.hi {
					match = true
					break
				}
			}
		case "rstatus":
			match = e.re.MatchString(strconv.Itoa(code))
		case "string", "rstring":
			if !bodyRead {
				body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
				if err != nil && isTimeout(err) {
					return Result{Code: L7TOUT, HTTPCode: code}
				}
				bodyRead = true
			}
			if e.Match == "string" {
				match = bytes.Contains(body, []byte(e.Pattern))
			} else {
				match = e.re.Match(body)
			}
		}
		if match == e.Negate {
			switch {
			case e.Match == "status" || e.Match == "rstatus":
				return Result{Code: L7STS, HTTPCode: code, Info: reason}
			case e.Negate:
				return Result{Code: L7RSP, HTTPCode: code, Info: "HTTP check matched unwanted content"}
			default:
				return Result{Code: L7RSP, HTTPCode: code, Info: "HTTP content check did not match"}
			}
		}
	}
	return Result{Code: L7OK, HTTPCode: code}
}

// sslHello sends a TLS ClientHello and passes when the server answers
// with a TLS handshake or alert record.
func (s *session) sslHello() Result {
	if _, err := s.conn.Write(clientHello()); err != nil {
		return ioFailure(err, L6TOUT)
	}
	var b [1]byte
	if _, err := io.ReadFull(s.conn, b[:]); err != nil {
		switch {
		case isTimeout(err):
			return Result{Code: L6TOUT}
		case isEOF(err):
			// The built-in rules are: send the hello (1), expect (2).
			return Result{Code: L6RSP, Info: emptyResponse(2)}
		}
		return Result{Code: L6RSP}
	}
	if b[0] == 0x15 || b[0] == 0x16 {
		return Result{Code: L6OK}
	}
	return Result{Code: L6RSP}
}

// clientHello builds a TLS 1.2 ClientHello record offering common
// cipher suites.
func clientHello() []byte {
	suites := []uint16{0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a}
	var body []byte
	body = append(body, 0x03, 0x03)          // client version TLS 1.2
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // no session id
	body = append(body, byte(len(suites)*2>>8), byte(len(suites)*2))
	for _, cs := range suites {
		body = append(body, byte(cs>>8), byte(cs))
	}
	body = append(body, 1, 0) // null compression
	ts := time.Now().Unix()
	body[2], body[3], body[4], body[5] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	hs := append([]byte{0x01, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 0x03, 0x01, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

// readUntil reads into buf until done(buf) or the connection ends. It
// returns the data, whether the peer closed, and a read error other than
// the close.
func (s *session) readUntil(buf []byte, done func([]byte) bool) ([]byte, bool, error) {
	var tmp [4096]byte
	for !done(buf) {
		if len(buf) >= maxBody {
			return buf, true, nil
		}
		n, err := s.conn.Read(tmp[:])
		buf = append(buf, tmp[:n]...)
		if err != nil {
			if isEOF(err) {
				return buf, true, nil
			}
			return buf, false, err
		}
	}
	return buf, false, nil
}

func (s *session) redis() Result {
	if _, err := io.WriteString(s.conn, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return ioFailure(err, L7TOUT)
	}
	want := []byte("+PONG")
	buf, closed, err := s.readUntil(nil, func(b []byte) bool { return bytes.Contains(b, want) })
	if bytes.Contains(buf, want) {
		return Result{Code: L7OK, Info: "Redis server is ok"}
	}
	if closed && len(buf) == 0 {
		return Result{Code: L7STS, Info: emptyResponse(2)}
	}
	if err != nil && (len(buf) == 0 || isTimeout(err)) {
		return ioFailure(err, L7TOUT)
	}
	line, _, _ := bytes.Cut(buf, []byte("\r\n"))
	return Result{Code: L7STS, Info: string(line)}
}

// readPacket reads one MySQL packet: 3-byte length, sequence id, payload.
func (s *session) readMySQLPacket() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(s.conn, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > maxBody {
		return nil, errors.New("packet too large")
	}
	p := make([]byte, n)
	_, err := io.ReadFull(s.conn, p)
	return p, err
}

// mysqlError reads an ERR packet: its code, and the text after it (SQL
// state marker included), as HAProxy reports them.
func mysqlError(p []byte) Result {
	r := Result{Code: L7STS}
	if len(p) >= 3 {
		r.HTTPCode = int(p[1]) | int(p[2])<<8
		r.Info = string(p[3:])
	}
	return r
}

func (s *session) mysql() Result {
	p, err := s.readMySQLPacket()
	if err != nil {
		return ioFailure(err, L7TOUT)
	}
	if len(p) > 0 && p[0] == 0xff {
		return mysqlError(p)
	}
	if len(p) == 0 || p[0] != 10 {
		return Result{Code: L7RSP, Info: "Unsupported MySQL protocol version"}
	}
	version, _, _ := bytes.Cut(p[1:], []byte{0})
	user := s.pr.c.cfg.User
	if user == "" {
		return Result{Code: L7OK, Info: string(version)}
	}
	// Handshake response (protocol 4.1) with an empty password, then QUIT.
	var auth []byte
	auth = append(auth, 0x85, 0xa6, 0x03, 0x00) // client capabilities
	auth = append(auth, 0, 0, 0, 1)             // max packet size
	auth = append(auth, 0x21)                   // utf8 character set
	auth = append(auth, make([]byte, 23)...)
	auth = append(auth, user...)
	auth = append(auth, 0, 0) // end of name, empty auth response
	pkt := append([]byte{byte(len(auth)), byte(len(auth) >> 8), byte(len(auth) >> 16), 1}, auth...)
	if _, err := s.conn.Write(pkt); err != nil {
		return ioFailure(err, L7TOUT)
	}
	p, err = s.readMySQLPacket()
	if err != nil {
		return ioFailure(err, L7TOUT)
	}
	if len(p) > 0 && p[0] == 0xff {
		return mysqlError(p)
	}
	_, _ = s.conn.Write([]byte{1, 0, 0, 0, 1})
	return Result{Code: L7OK, Info: string(version)}
}

func (s *session) pgsql() Result {
	var msg []byte
	msg = append(msg, 0, 0, 0, 0, 0, 3, 0, 0) // length, protocol 3.0
	msg = append(msg, "user\x00"...)
	msg = append(msg, s.pr.c.cfg.User...)
	msg = append(msg, 0, 0)
	n := len(msg)
	msg[0], msg[1], msg[2], msg[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	if _, err := s.conn.Write(msg); err != nil {
		return ioFailure(err, L7TOUT)
	}
	buf, _, err := s.readUntil(nil, func(b []byte) bool {
		return len(b) >= 9 || (len(b) > 0 && b[0] == 'E' && bytes.IndexByte(b[1:], 0) >= 0)
	})
	switch {
	case len(buf) >= 9 && buf[0] == 'R':
		code := int(buf[5])<<24 | int(buf[6])<<16 | int(buf[7])<<8 | int(buf[8])
		if code == 0 || (code >= 2 && code <= 10 && code != 8) {
			return Result{Code: L7OK, Info: "PostgreSQL server is ok"}
		}
		return Result{Code: L7RSP}
	case len(buf) > 0 && buf[0] == 'E':
		// HAProxy shows the first error field's text: the severity.
		info := ""
		if len(buf) > 6 {
			field, _, _ := bytes.Cut(buf[6:], []byte{0})
			info = string(field)
		}
		return Result{Code: L7RSP, Info: info}
	case err != nil:
		return ioFailure(err, L7TOUT)
	}
	return Result{Code: L7RSP}
}

var (
	smtpCode  = regexp.MustCompile(`^[0-9]{3}[ \r]`)
	smtpOK    = regexp.MustCompile(`^2[0-9]{2}[ \r]`)
	smtpReply = regexp.MustCompile(`^2[0-9]{2}[- \r]`)
)

// smtpText is a reply's text as HAProxy reports it: after the code, first
// line only.
func smtpText(buf []byte) string {
	if len(buf) <= 4 {
		return ""
	}
	t := strings.TrimLeft(string(buf[4:]), " ")
	if i := strings.IndexAny(t, "\r\n"); i >= 0 {
		t = t[:i]
	}
	return t
}

func smtpCodeOf(buf []byte) int {
	n, _ := strconv.Atoi(string(buf[:min(3, len(buf))]))
	return n
}

// smtp checks the banner, says HELO (or EHLO) and QUIT, each reply a 2xx,
// with the steps, statuses and texts of HAProxy's smtpchk rules.
func (s *session) smtp() Result {
	buf, closed, err := s.readUntil(nil, func(b []byte) bool { return len(b) >= 4 })
	switch {
	case len(buf) == 0 && closed:
		return Result{Code: L7RSP, Info: emptyResponse(2)}
	case len(buf) < 4 && err != nil:
		return ioFailure(err, L7TOUT)
	case !smtpCode.Match(buf):
		line, _, _ := bytes.Cut(buf, []byte("\r\n"))
		return Result{Code: L7RSP, Info: string(line)}
	case !smtpOK.Match(buf):
		return Result{Code: L7STS, HTTPCode: smtpCodeOf(buf), Info: smtpText(buf)}
	}
	hello := strings.ToUpper(s.pr.c.cfg.Hello)
	if hello == "" {
		hello = "HELO"
	}
	domain := s.pr.c.cfg.Domain
	if domain == "" {
		domain = "localhost"
	}
	// exchange sends a command and waits for a 2xx reply, as long as the
	// connection stays open.
	exchange := func(cmd string, step int) (Result, bool) {
		if _, err := io.WriteString(s.conn, cmd); err != nil {
			return ioFailure(err, L7TOUT), false
		}
		buf, closed, err := s.readUntil(nil, func(b []byte) bool { return smtpReply.Match(b) })
		switch {
		case smtpReply.Match(buf):
			return Result{Code: L7OK, HTTPCode: smtpCodeOf(buf), Info: smtpText(buf)}, true
		case len(buf) == 0 && closed:
			return Result{Code: L7STS, Info: emptyResponse(step)}, false
		case closed:
			return Result{Code: L7STS, HTTPCode: smtpCodeOf(buf), Info: smtpText(buf)}, false
		}
		return ioFailure(err, L7TOUT), false
	}
	if r, ok := exchange(hello+" "+domain+"\r\n", 5); !ok {
		return r
	}
	r, _ := exchange("QUIT\r\n", 7)
	return r
}

func (s *session) ldap() Result {
	// An anonymous LDAPv3 simple bind, message id 1.
	bind := []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}
	if _, err := s.conn.Write(bind); err != nil {
		return ioFailure(err, L7TOUT)
	}
	buf, _, err := s.readUntil(nil, func(b []byte) bool { return len(b) >= 14 })
	if len(buf) < 14 {
		if err != nil {
			return ioFailure(err, L7TOUT)
		}
		return Result{Code: L7RSP, Info: "Not LDAPv3 protocol"}
	}
	if buf[0] != 0x30 {
		return Result{Code: L7RSP, Info: "Not LDAPv3 protocol"}
	}
	// Skip the sequence length (short or long form) to the message id.
	i := 2
	if buf[1]&0x80 != 0 {
		i += int(buf[1] & 0x7f)
	}
	// message id (3 bytes: 02 01 xx), then the BindResponse tag 0x61.
	i += 3
	if i+1 >= len(buf) || buf[i] != 0x61 {
		return Result{Code: L7RSP, Info: "Not LDAPv3 protocol"}
	}
	i += 2
	if buf[i-1]&0x80 != 0 {
		i += int(buf[i-1] & 0x7f)
	}
	if i+2 >= len(buf) || buf[i] != 0x0a || buf[i+1] != 0x01 {
		return Result{Code: L7RSP, Info: "Not LDAPv3 protocol"}
	}
	if code := int(buf[i+2]); code != 0 {
		return Result{Code: L7STS, HTTPCode: code, Info: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"}
	}
	return Result{Code: L7OK, Info: "Success"}
}

// proxyHeader is the PROXY protocol header of a check connection: v1
// names the connection's own addresses, v2 is a LOCAL command.
func proxyHeader(version string, conn net.Conn) []byte {
	if version == "v2" {
		return []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
	}
	src, ok1 := conn.LocalAddr().(*net.TCPAddr)
	dst, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return []byte("PROXY UNKNOWN\r\n")
	}
	family := "TCP4"
	if src.IP.To4() == nil {
		family = "TCP6"
	}
	return []byte("PROXY " + family + " " + src.IP.String() + " " + dst.IP.String() + " " +
		strconv.Itoa(src.Port) + " " + strconv.Itoa(dst.Port) + "\r\n")
}
