// Package checks runs health checks with HAProxy 2.6's semantics: the
// probe types of "option httpchk", "option tcp-check", "option
// ssl-hello-chk" and the protocol checks, the rise/fall health counter,
// the inter/fastinter/downinter schedule, the check status codes shown by
// the stats page, and the wording of HAProxy's transition log lines.
//
// It does not depend on Caddy: the lbmodule package feeds the results
// into its backend model.
package checks

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// Default check parameters, as in HAProxy.
const (
	DefaultInter = 2 * time.Second
	DefaultRise  = 2
	DefaultFall  = 3
)

// Check types (Config.Type).
const (
	// TypeTCP is the default check: a TCP connection, followed by a TLS
	// handshake when the server's checks use TLS.
	TypeTCP = "tcp"
	// TypeHTTP is "option httpchk".
	TypeHTTP = "http"
	// TypeTCPCheck is "option tcp-check" with its rules.
	TypeTCPCheck = "tcp-check"
	// TypeSSLHello is "option ssl-hello-chk".
	TypeSSLHello = "ssl-hello"
	// TypeMySQL is "option mysql-check".
	TypeMySQL = "mysql"
	// TypePgSQL is "option pgsql-check".
	TypePgSQL = "pgsql"
	// TypeRedis is "option redis-check".
	TypeRedis = "redis"
	// TypeSMTP is "option smtpchk".
	TypeSMTP = "smtp"
	// TypeLDAP is "option ldap-check".
	TypeLDAP = "ldap"
)

// Config is the check configuration of a backend: what a check sends and
// expects, and the timeouts. The servers' own settings (interval,
// rise/fall, address) are in ServerConfig.
type Config struct {
	// Type is the kind of check: "tcp" (the default), "http",
	// "tcp-check", "ssl-hello", "mysql", "pgsql", "redis", "smtp" or
	// "ldap".
	Type string `json:"type,omitempty"`

	// HTTP describes the request and the expected response of an "http"
	// check.
	HTTP *HTTPCheck `json:"http,omitempty"`

	// TCPRules are the steps of a "tcp-check" check, run in order; the
	// first that fails fails the check. Without a "connect" first step the
	// check connects to the server first. No rules means a plain connect.
	TCPRules []TCPRule `json:"tcp_rules,omitempty"`

	// User is the user name of a "mysql" check (empty: the check only
	// reads the server's greeting) and of a "pgsql" check (required).
	User string `json:"user,omitempty"`
	// Domain is the domain name an "smtp" check sends in its HELO or EHLO
	// (default "localhost"); Hello is "HELO" (default) or "EHLO".
	Domain string `json:"domain,omitempty"`
	Hello  string `json:"hello,omitempty"`

	// ConnectTimeout is the backend's "timeout connect". It limits the
	// connection only when CheckTimeout is set.
	ConnectTimeout Duration `json:"connect_timeout,omitempty"`
	// CheckTimeout is "timeout check". Without it a whole check (connect
	// and response) must finish within the server's inter. With it the
	// connection must be made within min(ConnectTimeout, inter), and the
	// check may then last until the later of that limit and CheckTimeout
	// (as HAProxy 2.6 behaves).
	CheckTimeout Duration `json:"check_timeout,omitempty"`

	// LogHealthChecks logs the result of every check that moves a
	// server's health counter ("option log-health-checks"), not only the
	// UP/DOWN transitions.
	LogHealthChecks bool `json:"log_health_checks,omitempty"`
}

// HTTPCheck is the request of an HTTP check and what its response must
// look like.
type HTTPCheck struct {
	// Method is the request method; default OPTIONS.
	Method string `json:"method,omitempty"`
	// URI is the request target; default "/".
	URI string `json:"uri,omitempty"`
	// Version is the HTTP version; default "HTTP/1.0".
	Version string `json:"version,omitempty"`
	// Headers are sent in order after the request line.
	Headers []Header `json:"headers,omitempty"`
	// Body is sent with a Content-Length header.
	Body string `json:"body,omitempty"`

	// Expect are the conditions the response must meet, checked in order.
	// Without any, the status must be 2xx or 3xx.
	Expect []HTTPExpect `json:"expect,omitempty"`

	// DisableOn404 puts a running server that answers 404 in NOLB mode
	// (no new load-balanced traffic, persistence kept) instead of
	// failing it ("http-check disable-on-404").
	DisableOn404 bool `json:"disable_on_404,omitempty"`
}

// Header is one request header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HTTPExpect is one "http-check expect" condition.
type HTTPExpect struct {
	// Match is "status" (a list of codes and ranges: "200,201,300-310"),
	// "rstatus" (a regular expression on the code), "string" (a substring
	// of the body) or "rstring" (a regular expression on the body). Only
	// the first 16 kB of the body are inspected.
	Match string `json:"match"`
	// Pattern is what Match looks for.
	Pattern string `json:"pattern"`
	// Negate inverts the condition ("!").
	Negate bool `json:"negate,omitempty"`
}

// TCPRule is one "tcp-check" step.
type TCPRule struct {
	// Action is "connect", "send", "send-binary" or "expect".
	Action string `json:"action"`

	// Data is the text to send ("send"), or its hexadecimal form
	// ("send-binary").
	Data string `json:"data,omitempty"`

	// Match is the kind of "expect": "string", "rstring", "binary" (hex
	// pattern) or "rbinary" (a regular expression on the hex dump).
	Match string `json:"match,omitempty"`
	// Pattern is what Match looks for.
	Pattern string `json:"pattern,omitempty"`
	// Negate inverts an expect ("!").
	Negate bool `json:"negate,omitempty"`

	// Port and Addr override the destination of a "connect" step; SSL
	// makes it a TLS connection, with SNI as its server name.
	Port int    `json:"port,omitempty"`
	Addr string `json:"addr,omitempty"`
	SSL  bool   `json:"ssl,omitempty"`
	SNI  string `json:"sni,omitempty"`
}

// ServerConfig are one server's check settings: HAProxy's "check" and the
// parameters that go with it on the server line.
type ServerConfig struct {
	// Inter is the interval between checks when the server is fully up
	// (and the whole check's time limit without "timeout check");
	// default 2s.
	Inter Duration `json:"inter,omitempty"`
	// FastInter is the interval while the server changes state (going
	// up or down, or not yet checked); default Inter.
	FastInter Duration `json:"fastinter,omitempty"`
	// DownInter is the interval when the server is fully down; default
	// Inter.
	DownInter Duration `json:"downinter,omitempty"`
	// Rise is how many consecutive successes bring a down server up;
	// default 2. Fall is how many consecutive failures take an up server
	// down; default 3.
	Rise int `json:"rise,omitempty"`
	Fall int `json:"fall,omitempty"`

	// Port and Addr send the checks elsewhere than the server's address
	// ("port", "addr"). 0 and "" keep the server's.
	Port int    `json:"port,omitempty"`
	Addr string `json:"addr,omitempty"`

	// SSL runs the checks over TLS ("check-ssl", or "ssl" without
	// port/addr). A TCP check then passes on a completed handshake (L6OK).
	SSL bool `json:"ssl,omitempty"`
	// SNI is the TLS server name of the checks ("check-sni").
	SNI string `json:"sni,omitempty"`
	// InsecureSkipVerify accepts any server certificate ("verify none").
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// CAFile verifies the server certificate against these CAs.
	CAFile string `json:"ca_file,omitempty"`
	// VerifyHost is the name the server certificate must carry when the
	// check sends no SNI ("verifyhost"); without either, as in HAProxy,
	// only the certificate chain is verified.
	VerifyHost string `json:"verify_host,omitempty"`

	// ProxyProtocol sends a PROXY protocol header, "v1" or "v2", first on
	// each check connection, as HAProxy does for a server with
	// send-proxy or send-proxy-v2 (and no check port or address). The
	// header names the check connection's own addresses (v1) or says
	// LOCAL (v2).
	ProxyProtocol string `json:"proxy_protocol,omitempty"`

	// Source is the local address checks connect from, "ip" or
	// "ip:port": the server's "source" in HAProxy, which applies to its
	// checks too. Empty lets the system pick.
	Source string `json:"source,omitempty"`

	// StartDown starts the server down with a health of 0, as HAProxy does
	// for a server that starts in maintenance ("disabled").
	StartDown bool `json:"start_down,omitempty"`
}

// Duration is a time.Duration that reads from JSON as a Go duration
// string ("1.5s", "300ms") or an integer number of nanoseconds, like
// caddy.Duration.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or an integer of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("duration must be a string like \"2s\" or an integer of nanoseconds: %s", b)
	}
	*d = Duration(v)
	return nil
}

// params are a server's check parameters with the defaults applied.
type params struct {
	inter, fastInter, downInter time.Duration
	rise, fall                  int
}

func (sc ServerConfig) params() params {
	p := params{
		inter:     time.Duration(sc.Inter),
		fastInter: time.Duration(sc.FastInter),
		downInter: time.Duration(sc.DownInter),
		rise:      sc.Rise,
		fall:      sc.Fall,
	}
	if p.inter <= 0 {
		p.inter = DefaultInter
	}
	if p.fastInter <= 0 {
		p.fastInter = p.inter
	}
	if p.downInter <= 0 {
		p.downInter = p.inter
	}
	if p.rise <= 0 {
		p.rise = DefaultRise
	}
	if p.fall <= 0 {
		p.fall = DefaultFall
	}
	return p
}

// Validate reports the first problem in a server's settings.
func (sc ServerConfig) Validate() error {
	switch {
	case sc.Inter < 0 || sc.FastInter < 0 || sc.DownInter < 0:
		return fmt.Errorf("check intervals must not be negative")
	case sc.Rise < 0 || sc.Fall < 0:
		return fmt.Errorf("rise and fall must not be negative")
	case sc.Port < 0 || sc.Port > 65535:
		return fmt.Errorf("check port %d out of range", sc.Port)
	case sc.ProxyProtocol != "" && sc.ProxyProtocol != "v1" && sc.ProxyProtocol != "v2":
		return fmt.Errorf("proxy_protocol must be v1 or v2, not %q", sc.ProxyProtocol)
	}
	_, err := source.Addr(sc.Source)
	return err
}

// compiled is a Config made ready to run: patterns parsed, defaults set.
type compiled struct {
	cfg      Config
	http     *compiledHTTP
	tcpRules []compiledRule
}

type compiledHTTP struct {
	request []byte
	method  string
	expects []compiledExpect
	on404   bool
}

type compiledExpect struct {
	HTTPExpect
	codes []codeRange
	re    *regexp.Regexp
}

type codeRange struct{ lo, hi int }

type compiledRule struct {
	TCPRule
	// step is the rule's number in HAProxy's messages, from 1.
	step int
	data []byte
	re   *regexp.Regexp
}

// compile checks cfg and prepares it; a nil cfg is the default TCP check.
func compile(cfg *Config) (*compiled, error) {
	c := &compiled{}
	if cfg != nil {
		c.cfg = *cfg
	}
	switch c.cfg.Type {
	case "":
		c.cfg.Type = TypeTCP
	case TypeTCP, TypeSSLHello, TypeRedis, TypeLDAP:
	case TypeMySQL:
	case TypePgSQL:
		if c.cfg.User == "" {
			return nil, fmt.Errorf("pgsql check: a user is required")
		}
	case TypeSMTP:
		switch strings.ToUpper(c.cfg.Hello) {
		case "", "HELO", "EHLO":
		default:
			return nil, fmt.Errorf("smtp check: hello must be HELO or EHLO, not %q", c.cfg.Hello)
		}
	case TypeHTTP:
		h, err := compileHTTP(c.cfg.HTTP)
		if err != nil {
			return nil, err
		}
		c.http = h
	case TypeTCPCheck:
		rules, err := compileRules(c.cfg.TCPRules)
		if err != nil {
			return nil, err
		}
		c.tcpRules = rules
	default:
		return nil, fmt.Errorf("unknown check type %q", c.cfg.Type)
	}
	if c.cfg.Type != TypeHTTP && c.cfg.HTTP != nil {
		return nil, fmt.Errorf("http settings given for a %q check", c.cfg.Type)
	}
	if c.cfg.Type != TypeTCPCheck && len(c.cfg.TCPRules) > 0 {
		return nil, fmt.Errorf("tcp_rules given for a %q check", c.cfg.Type)
	}
	if c.cfg.ConnectTimeout < 0 || c.cfg.CheckTimeout < 0 {
		return nil, fmt.Errorf("timeouts must not be negative")
	}
	return c, nil
}

func compileHTTP(h *HTTPCheck) (*compiledHTTP, error) {
	var hc HTTPCheck
	if h != nil {
		hc = *h
	}
	if hc.Method == "" {
		hc.Method = "OPTIONS"
	}
	if hc.URI == "" {
		hc.URI = "/"
	}
	if hc.Version == "" {
		hc.Version = "HTTP/1.0"
	}
	for _, s := range []string{hc.Method, hc.URI, hc.Version} {
		if strings.ContainsAny(s, " \r\n") {
			return nil, fmt.Errorf("http check: %q contains a space or a line break", s)
		}
	}
	var b strings.Builder
	b.WriteString(hc.Method + " " + hc.URI + " " + hc.Version + "\r\n")
	hasConn, connClose := false, false
	for _, hdr := range hc.Headers {
		if hdr.Name == "" || strings.ContainsAny(hdr.Name, " :\r\n") || strings.ContainsAny(hdr.Value, "\r\n") {
			return nil, fmt.Errorf("http check: invalid header %q: %q", hdr.Name, hdr.Value)
		}
		// HAProxy's HTTP/1 layer rewrites Connection and Content-Length
		// itself.
		if strings.EqualFold(hdr.Name, "Connection") {
			hasConn = true
			connClose = connClose || strings.EqualFold(strings.TrimSpace(hdr.Value), "close")
			continue
		}
		if strings.EqualFold(hdr.Name, "Content-Length") {
			continue
		}
		b.WriteString(strings.ToLower(hdr.Name) + ": " + hdr.Value + "\r\n")
	}
	// HAProxy states a length when there is a body, or when the method
	// normally carries one.
	switch {
	case hc.Body != "":
		b.WriteString("content-length: " + strconv.Itoa(len(hc.Body)) + "\r\n")
	case !isBodilessMethod(hc.Method):
		b.WriteString("content-length: 0\r\n")
	}
	// HTTP/1.1 checks ask the server to close unless a Connection header
	// says otherwise; 1.0 closes by default.
	if (!hasConn || connClose) && hc.Version != "HTTP/1.0" {
		b.WriteString("connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(hc.Body)

	out := &compiledHTTP{request: []byte(b.String()), method: hc.Method, on404: hc.DisableOn404}
	for i, e := range hc.Expect {
		ce := compiledExpect{HTTPExpect: e}
		switch e.Match {
		case "status":
			codes, err := parseCodes(e.Pattern)
			if err != nil {
				return nil, fmt.Errorf("http check expect %d: %v", i+1, err)
			}
			ce.codes = codes
		case "rstatus", "rstring":
			re, err := regexp.Compile(e.Pattern)
			if err != nil {
				return nil, fmt.Errorf("http check expect %d: %v", i+1, err)
			}
			ce.re = re
		case "string":
			if e.Pattern == "" {
				return nil, fmt.Errorf("http check expect %d: empty string", i+1)
			}
		default:
			return nil, fmt.Errorf("http check expect %d: unknown match %q (want status, rstatus, string or rstring)", i+1, e.Match)
		}
		out.expects = append(out.expects, ce)
	}
	return out, nil
}

func isBodilessMethod(m string) bool {
	switch m {
	case "OPTIONS", "GET", "HEAD", "DELETE":
		return true
	}
	return false
}

// parseCodes reads "200,201,300-310".
func parseCodes(s string) ([]codeRange, error) {
	var out []codeRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad status code %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad status range %q", part)
			}
		}
		out = append(out, codeRange{a, b})
	}
	return out, nil
}

func compileRules(rules []TCPRule) ([]compiledRule, error) {
	out := make([]compiledRule, 0, len(rules))
	for i, r := range rules {
		cr := compiledRule{TCPRule: r, step: i + 1}
		where := fmt.Sprintf("tcp-check rule %d (%s)", i+1, r.Action)
		switch r.Action {
		case "connect":
			if r.Port < 0 || r.Port > 65535 {
				return nil, fmt.Errorf("%s: port %d out of range", where, r.Port)
			}
		case "send":
			cr.data = []byte(r.Data)
		case "send-binary":
			b, err := hex.DecodeString(r.Data)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			cr.data = b
		case "expect":
			switch r.Match {
			case "string":
				if r.Pattern == "" {
					return nil, fmt.Errorf("%s: empty pattern", where)
				}
				cr.data = []byte(r.Pattern)
			case "binary":
				b, err := hex.DecodeString(r.Pattern)
				if err != nil || len(b) == 0 {
					return nil, fmt.Errorf("%s: bad hex pattern %q", where, r.Pattern)
				}
				cr.data = b
			case "rstring", "rbinary":
				re, err := regexp.Compile(r.Pattern)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", where, err)
				}
				cr.re = re
			default:
				return nil, fmt.Errorf("%s: unknown match %q (want string, rstring, binary or rbinary)", where, r.Match)
			}
		default:
			return nil, fmt.Errorf("tcp-check rule %d: unknown action %q", i+1, r.Action)
		}
		out = append(out, cr)
	}
	return out, nil
}

// Validate reports the first problem in cfg.
func (cfg *Config) Validate() error {
	_, err := compile(cfg)
	return err
}
