// Package config turns the sections read by package lex into a typed model of
// an HAProxy configuration, with defaults inherited the way HAProxy inherits
// them. It reports problems as Diagnostics naming file:line and the keyword.
//
// The model covers what a Caddy translation needs; statements it knows but
// does not model are kept verbatim (Proxy.Other) so that a translator can
// still decide about them.
package config

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// Pos is a place in a configuration file.
type Pos = lex.Pos

// Config is a whole haproxy.cfg.
type Config struct {
	Global Global
	// Defaults sections in file order (named and anonymous).
	Defaults []*Proxy
	// Proxies are the frontend, backend and listen sections in file order.
	Proxies []*Proxy
	// Userlists by file order.
	Userlists []*Userlist
	// HTTPErrors sections (2.2+), by name.
	HTTPErrors map[string]*HTTPErrors
	// OtherSections are sections the model keeps only by name (resolvers,
	// peers, mailers, cache, program, ring …).
	OtherSections []*lex.Section

	// byName indexes Proxies by name; indexed is len(Proxies) when it was
	// built.
	byName  map[string][]*Proxy
	indexed int
}

// Proxy returns the first frontend, backend or listen section with that
// name, or nil. HAProxy 2.6 lets a frontend and a backend share a name
// (their capabilities do not overlap), so prefer Backend or Frontend when
// the role is known.
func (c *Config) Proxy(name string) *Proxy {
	if ps := c.proxiesNamed(name); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// Backend returns the backend or listen section with that name, or nil:
// the proxy a use_backend or default_backend rule names.
func (c *Config) Backend(name string) *Proxy {
	for _, p := range c.proxiesNamed(name) {
		if p.Kind.HasBackend() {
			return p
		}
	}
	return nil
}

// Frontend returns the frontend or listen section with that name, or nil.
func (c *Config) Frontend(name string) *Proxy {
	for _, p := range c.proxiesNamed(name) {
		if p.Kind.HasFrontend() {
			return p
		}
	}
	return nil
}

// proxiesNamed returns the proxies with that name in file order. The index
// is rebuilt when Proxies has changed length, so that a config of
// thousands of sections is not searched once per rule.
func (c *Config) proxiesNamed(name string) []*Proxy {
	if c.byName == nil || c.indexed != len(c.Proxies) {
		c.byName = make(map[string][]*Proxy, len(c.Proxies))
		for _, p := range c.Proxies {
			c.byName[p.Name] = append(c.byName[p.Name], p)
		}
		c.indexed = len(c.Proxies)
	}
	return c.byName[name]
}

// Global is the global section (all global sections merged in order).
type Global struct {
	Pos Pos
	// MaxConn is the process-wide connection limit; 0 when unset.
	MaxConn int
	// HardStopAfter bounds how long old connections may live after a reload;
	// 0 when unset.
	HardStopAfter time.Duration
	// Grace delays the closing of listeners on a soft stop; 0 when unset.
	Grace time.Duration
	// StatsSockets lists "stats socket" lines.
	StatsSockets []StatsSocket
	// StatsTimeout is the "stats timeout" value; 0 when unset.
	StatsTimeout time.Duration
	// SSLServerVerify is the global "ssl-server-verify" value ("" when unset).
	SSLServerVerify string
	// BufSize and MaxRewrite are tune.bufsize and tune.maxrewrite (0 when
	// unset): together they bound the size of a request head.
	BufSize, MaxRewrite int
	// CABase and CRTBase are the base directories for relative CA and
	// certificate paths.
	CABase, CRTBase string
	// Other keeps every statement of the global section in order, for
	// keywords the model does not interpret.
	Other []lex.Statement
}

// StatsSocket is a "stats socket <addr> [params]" line.
type StatsSocket struct {
	Pos     Pos
	Address string
	Params  []string
}

// ProxyKind tells a frontend from a backend, a listen or a defaults section.
type ProxyKind int

const (
	KindDefaults ProxyKind = iota
	KindFrontend
	KindBackend
	KindListen
)

// HasFrontend reports whether the proxy accepts connections (frontend or listen).
func (k ProxyKind) HasFrontend() bool { return k == KindFrontend || k == KindListen }

// HasBackend reports whether the proxy has servers (backend or listen).
func (k ProxyKind) HasBackend() bool { return k == KindBackend || k == KindListen }

func (k ProxyKind) String() string {
	switch k {
	case KindFrontend:
		return "frontend"
	case KindBackend:
		return "backend"
	case KindListen:
		return "listen"
	default:
		return "defaults"
	}
}

// Proxy is a frontend, backend, listen or defaults section, after defaults
// have been applied.
type Proxy struct {
	Kind ProxyKind
	Name string
	Pos  Pos
	// DefaultsName is the name of the defaults section the proxy inherited
	// from ("" for an anonymous one, or when none preceded it).
	DefaultsName string

	// ID is the "id" value, 0 when unset.
	ID    int
	IDPos Pos
	// Disabled is set by "disabled" (and cleared by "enabled"): HAProxy does
	// not start the proxy.
	Disabled bool
	// Description is the "description" text, words joined by spaces.
	Description string

	// Mode is "http", "tcp" (HAProxy's default) or "log".
	Mode    string
	ModePos Pos

	// Binds are the listening addresses (frontend and listen only). The
	// legacy "listen name addr:port" header becomes a Bind too.
	Binds []*Bind

	// MaxConn is the frontend connection limit; 0 when unset.
	MaxConn int
	// FullConn is the backend "fullconn" value; 0 when unset.
	FullConn int

	// Timeouts as written or inherited.
	Timeouts Timeouts
	// Retries is the number of connection retries (HAProxy default 3).
	Retries int
	// RetriesPos is where "retries" was set, zero when it is the default.
	RetriesPos Pos

	// Options maps an option name ("forwardfor", "httplog", "redispatch",
	// "httpchk" …) to its state; "no option x" leaves an entry with
	// Enabled=false so that it overrides an inherited one, and
	// "default option x" removes the entry (HAProxy's built-in setting,
	// whatever the defaults section said).
	Options map[string]*Option
	// ClientKeepAlive and ServerKeepAlive are the clitcpka-idle, -intvl,
	// -cnt and srvtcpka-… lines, as written or inherited. They apply once
	// option clitcpka, srvtcpka or tcpka turns the probes on.
	ClientKeepAlive, ServerKeepAlive TCPKeepAlive

	// Balance is the load-balancing algorithm; zero value means roundrobin.
	Balance Balance
	// Source is the "source" line: where connections to servers come
	// from; nil when unset.
	Source *Source
	// HashType is the "hash-type" line; zero value means map-based + sdbm
	// without avalanche.
	HashType HashType
	// Cookie is the persistence cookie, nil when unset.
	Cookie *Cookie

	// DefaultServer is the accumulated "default-server" parameters.
	DefaultServer ServerParams
	// Servers in declaration order, with default-server and server-template
	// already applied (a template becomes N servers).
	Servers []*Server

	// DefaultBackend is the "default_backend" name, "" when unset.
	DefaultBackend    string
	DefaultBackendPos Pos
	// UseBackends are the "use_backend" rules in order.
	UseBackends []*UseBackend
	// UseServers are the "use-server" rules in order.
	UseServers []*UseServer

	// ACLs are the named ACL lines of this section in order (several lines
	// may share a name). ACLs are not inherited from defaults; conditions
	// point at the lines they use through CondTerm.Defs.
	ACLs []*ACL

	// HTTPRequest, HTTPResponse, HTTPAfterResponse, TCPRequest and
	// TCPResponse hold rule lines in order. For tcp-request the first
	// argument ("connection", "content", "session", "inspect-delay") is kept
	// in Rule.Action as "connection accept", "content reject" and so on.
	HTTPRequest       []*Rule
	HTTPResponse      []*Rule
	HTTPAfterResponse []*Rule
	TCPRequest        []*Rule
	TCPResponse       []*Rule
	// Redirects are legacy "redirect" lines (Action "redirect").
	Redirects []*Rule

	// HTTPCheck and TCPCheck are the "http-check"/"tcp-check" rule lines.
	HTTPCheck []*Rule
	TCPCheck  []*Rule

	// Stats holds the "stats" keywords; nil when none was written.
	Stats *Stats

	// MonitorURI is the "monitor-uri" value, "" when unset.
	MonitorURI    string
	MonitorURIPos Pos
	// MonitorFail are "monitor fail if|unless <cond>" lines.
	MonitorFail []*Condition

	// ErrorFiles maps a status code to an "errorfile" or "errorloc*" line.
	ErrorFiles map[int]*ErrorFile
	// ErrorFilesSections are "errorfiles <http-errors name> [codes]" lines.
	ErrorFilesSections []*Rule

	// Other keeps, in order, every statement the model does not interpret
	// (log, capture, compression, stick-table …) so the translator can warn
	// or refuse with its position. Statements inherited from the defaults
	// section come first, with their position in the defaults section;
	// Build has already reported their status there.
	Other []lex.Statement
}

// Option returns the option with that name if it is set and enabled.
func (p *Proxy) Option(name string) *Option {
	if o := p.Options[name]; o != nil && o.Enabled {
		return o
	}
	return nil
}

// Bind is one address of a "bind" line: a line with several comma-separated
// addresses gives one Bind per address, all sharing the same parameters. A
// port range stays one Bind (PortLow..PortHigh).
type Bind struct {
	Pos Pos
	// Address as written, e.g. "*:80", ":8080", "ipv6@:::443",
	// "127.0.0.1:8000-8010", "/run/x.sock", "unix@/run/x.sock".
	Address string
	// Host is the address part without any "ipv4@"/"ipv6@" prefix; "" for
	// all IPv4 addresses ("*", "0.0.0.0" and an empty host all give ""),
	// "::" for all IPv6 addresses ("[::]:443", ":::443"). For a UNIX socket
	// it is the path.
	Host string
	// Network is "tcp", "tcp4" (ipv4@), "tcp6" (ipv6@ or an IPv6 address)
	// or "unix"; other HAProxy families ("abns", "fd", "sockpair", "quic4"
	// …) are kept by their prefix name.
	Network string
	// PortLow and PortHigh give the port range (equal for one port; 0 for
	// unix sockets).
	PortLow, PortHigh int
	// Params are the words after the address ("ssl", "crt", "x.pem",
	// "alpn", "h2,http/1.1", "accept-proxy" …).
	Params []string
	// SSL is true when "ssl" is among the params.
	SSL bool
	// Certs are the "crt" arguments; CrtLists the "crt-list" arguments.
	Certs, CrtLists []string
	// ALPN is the "alpn" protocol list.
	ALPN []string
	// AcceptProxy is true with "accept-proxy".
	AcceptProxy bool
	// Name and ID are the "name" and "id" values ("" and 0 when unset).
	Name string
	ID   int
	// CAFile and Verify configure client certificates ("verify" is "none",
	// "optional" or "required"; "" when not written).
	CAFile, Verify string
	// StrictSNI refuses handshakes whose SNI matches no certificate.
	StrictSNI bool
	// SSLMinVer and SSLMaxVer are "SSLv3", "TLSv1.0" … "TLSv1.3" or "".
	SSLMinVer, SSLMaxVer string
	// V4V6 and V6Only select the IPv6 wildcard's behaviour.
	V4V6, V6Only bool
	// Proto is the forced protocol ("h2" for cleartext HTTP/2), "" when unset.
	Proto string
	// MaxConn is the listener's connection limit, 0 when unset.
	MaxConn int
}

// Duration is a time value from the configuration.
type Duration struct {
	// D is the value; meaningful only when Set is true.
	D time.Duration
	// Set reports whether the value was written (or inherited).
	Set bool
	// Infinite is true for "infinite" where HAProxy allows it.
	Infinite bool
	Pos      Pos
}

// Source is a "source" line or server parameter: the local address of
// connections to servers.
type Source struct {
	Pos Pos
	// Addr is the local address to bind, unspecified for any; Port is
	// its port, 0 for any.
	Addr netip.Addr
	Port int
	// UseSrc is "client", "clientip", an address ("ip" or "ip:port")
	// the connection is to come from (transparent proxying), or "".
	UseSrc string
	// Interface is the network interface to send through, "" for any.
	Interface string
}

// TCPKeepAlive holds one side's TCP keep-alive probe settings; an unset
// field leaves the system's value.
type TCPKeepAlive struct {
	// Idle and Interval are clitcpka-idle / clitcpka-intvl (or srvtcpka-…).
	Idle, Interval Duration
	// Count is clitcpka-cnt (or srvtcpka-cnt), 0 when unset.
	Count    int
	CountPos Pos
}

// Timeouts holds every "timeout" keyword (and the legacy contimeout,
// clitimeout and srvtimeout, which set Connect, Client and Server).
type Timeouts struct {
	Connect, Client, Server, HTTPRequest, HTTPKeepAlive, Queue, Tunnel,
	Check, ClientFin, ServerFin, Tarpit Duration
}

// Option is an "option" line.
type Option struct {
	Pos     Pos
	Enabled bool
	// Args are the words after the option name, e.g. for
	// "option forwardfor except 127.0.0.0/8 header X-Real-IP" they are
	// ["except", "127.0.0.0/8", "header", "X-Real-IP"].
	Args []string
}

// Balance is a "balance" line.
type Balance struct {
	Pos Pos
	// Algorithm is the algorithm name as written, lower case, with any
	// parenthesised argument split off: "roundrobin", "static-rr",
	// "leastconn", "first", "source", "uri", "url_param", "hdr",
	// "random", "rdp-cookie", "hash". Empty when no balance line was
	// written or inherited (HAProxy 2.6 then uses roundrobin).
	Algorithm string
	// Param is the parenthesised argument: the header name for hdr(x), the
	// draw count for random(n), the cookie name for rdp-cookie(x).
	Param string
	// Args are the remaining words: "len", "8", "depth", "2", "whole",
	// "path-only", "check_post", "use_domain_only", the url_param name,
	// or the sample expression of "hash <expr>".
	Args []string
}

// HashType is a "hash-type" line.
type HashType struct {
	Pos Pos
	// Method is "map-based" or "consistent" ("" when unset = map-based).
	Method string
	// Function is "sdbm", "djb2", "wt6", "crc32" or "none"; "" when unset.
	Function string
	// Avalanche is true when the "avalanche" modifier was written.
	Avalanche bool
}

// Cookie is a "cookie" line.
type Cookie struct {
	Pos  Pos
	Name string
	// Mode is "insert", "prefix" or "rewrite"; "" when none was written
	// (HAProxy then only reads the cookie set by the server).
	Mode                                                    string
	Indirect, NoCache, PostOnly, Preserve, HTTPOnly, Secure bool
	Dynamic                                                 bool
	Domains                                                 []string
	// MaxIdle and MaxLife are zero when unset (seconds by default).
	MaxIdle, MaxLife time.Duration
	// Attrs are "attr" values in order.
	Attrs []string
}

// ServerParams are the parameters of a "server" or "default-server" line.
// Every field has HAProxy's default once the server is built.
type ServerParams struct {
	// Weight 0..256, default 1.
	Weight int
	// Backup, with "no-backup" undoing an inherited one.
	Backup bool
	// Disabled starts the server in maintenance ("enabled" undoes it).
	Disabled bool
	// Cookie is the persistence value.
	Cookie string
	// MaxConn, MaxQueue, MinConn: 0 = unlimited/unset.
	MaxConn, MaxQueue, MinConn int
	// ID is the numeric id ("id" keyword); 0 means "not set explicitly"
	// and is replaced by the auto-numbered id in Server.ID.
	ID int

	// Check enables health checks.
	Check bool
	// Inter, FastInter, DownInter are check intervals (Inter default 2s;
	// the other two default to Inter when zero).
	Inter, FastInter, DownInter time.Duration
	// Rise and Fall default to 2 and 3.
	Rise, Fall int
	// CheckPort and CheckAddr redirect checks ("port", "addr"); 0/"" unset.
	CheckPort int
	CheckAddr string
	// CheckSSL is "check-ssl"; CheckSNI is "check-sni".
	CheckSSL bool
	CheckSNI string
	// AgentCheck and its parameters are kept as written.
	AgentCheck bool
	AgentPort  int
	AgentInter time.Duration

	// SlowStart warm-up duration; 0 when unset.
	SlowStart time.Duration
	// OnMarkedDown, OnMarkedUp, OnError, Observe: values as written.
	OnMarkedDown, OnMarkedUp, OnError, Observe string
	ErrorLimit                                 int

	// SSL enables TLS to the server. Verify is "none" or "required" ("" when
	// not written: HAProxy's default is required unless global
	// ssl-server-verify none). SNI is the "sni" expression.
	SSL        bool
	Verify     string
	SNI        string
	CAFile     string
	Crt        string
	ALPN       []string
	VerifyHost string

	// SendProxy and SendProxyV2 enable the PROXY protocol to the server.
	SendProxy, SendProxyV2 bool
	// Source is the server's "source" parameter, nil when unset.
	Source *Source

	// Resolvers, InitAddr, ResolvePrefer are DNS settings as written.
	Resolvers, InitAddr, ResolvePrefer string

	// Track is "track [backend/]server".
	Track string
	// Redir is the "redir <prefix>" value.
	Redir string

	// Other keeps parameters the model accepts but does not interpret
	// (e.g. "tfo", "pool-max-conn 10"), each with its arguments.
	Other [][]string
}

// Server is a "server" line, or one server generated by "server-template".
type Server struct {
	Pos  Pos
	Name string
	// Address as written after environment expansion (host[:port], maybe
	// with an "ipv4@"/"ipv6@"/"unix@" prefix).
	Address string
	// Network is "tcp", "tcp4" (ipv4@), "tcp6" (ipv6@) or "unix" (unix@ or
	// a path); other HAProxy families ("abns", "sockpair" …) are kept by
	// their prefix name.
	Network string
	// Host and Port split from Address (Host without the family prefix; for
	// a UNIX socket, the path). Without brackets an IPv6 address takes its
	// port after the last colon, as in HAProxy. Port is "" when none was given
	// (HAProxy then uses the client's destination port), and may start
	// with "+" or "-" for a relative port.
	Host string
	Port string
	// ID is the server's numeric id: explicit "id" or auto-numbered from 1
	// in declaration order, skipping ids taken explicitly.
	ID     int
	Params ServerParams
}

// ACL is one "acl" line, or an anonymous ACL written "{ … }" in a condition.
type ACL struct {
	Pos Pos
	// Name is empty for an anonymous ACL.
	Name string
	// Fetch is the sample fetch with converters, exactly as written,
	// e.g. "path_beg", "hdr(host)", "req.hdr(host),lower", "src".
	Fetch string
	// Flags are the flags in order, each with its argument when it has one:
	// ["-i"], ["-m", "beg"], ["-f", "/etc/x.lst"], ["-n"], ["--"].
	Flags [][]string
	// Patterns are the values to compare with; may be empty (e.g. -m found).
	Patterns []string
}

// Condition is an "if|unless" condition: an OR of AND-terms.
type Condition struct {
	Pos Pos
	// Unless is true for "unless" (the whole condition is negated).
	Unless bool
	// Terms is the disjunction; each inner slice is a conjunction.
	Terms [][]CondTerm
}

// CondTerm is one operand of a condition.
type CondTerm struct {
	// Negate is true for "!name" or "!{ … }".
	Negate bool
	// Name references a named (or predefined, e.g. "TRUE", "METH_GET")
	// ACL; empty for an anonymous ACL.
	Name string
	// Anonymous is the inline "{ … }" ACL, nil for a named one.
	Anonymous *ACL
	// Defs are the "acl" lines a name refers to (several lines with one name
	// are OR'ed), as visible where the condition was written; nil for a
	// predefined ACL and for an anonymous one. Rules inherited from a named
	// defaults section keep the defaults' ACLs here.
	Defs []*ACL
}

// UseBackend is a "use_backend <name> [if|unless <cond>]" line.
type UseBackend struct {
	Pos     Pos
	Backend string
	// Cond is nil when the rule has no condition.
	Cond *Condition
}

// UseServer is a "use-server <server> [if|unless <cond>]" line.
type UseServer struct {
	Pos    Pos
	Server string
	Cond   *Condition
}

// Rule is an http-request, http-response, tcp-request, tcp-response,
// http-check, tcp-check or redirect line: an action, its arguments and an
// optional condition.
type Rule struct {
	Pos Pos
	// Keyword is the directive, e.g. "http-request", "reqadd" (legacy
	// forms are kept so that messages can name what the user wrote).
	Keyword string
	// Action is the action name, e.g. "set-header", "deny", "redirect",
	// "content accept".
	Action string
	// Args are the words between the action and "if"/"unless".
	Args []string
	// Cond is nil when the rule has no condition.
	Cond *Condition
}

// Stats holds the "stats" keywords of a proxy.
type Stats struct {
	Pos          Pos
	Enabled      bool
	URI          string
	Realm        string
	Auths        []StatsAuth
	Refresh      time.Duration
	HideVersion  bool
	ShowLegends  bool
	ShowNode     string
	ShowNodeSet  bool
	ShowDesc     string
	Scopes       []string
	Admin        []*Condition
	HTTPRequests []*Rule
	// Other keeps "stats" lines not listed above.
	Other []lex.Statement
}

// StatsAuth is a "stats auth <user>:<password>" line.
type StatsAuth struct {
	Pos      Pos
	User     string
	Password string
}

// ErrorFile is an "errorfile <code> <file>", "errorloc[302|303] <code>
// <url>" or "http-error status <code> …" line.
type ErrorFile struct {
	Pos     Pos
	Keyword string
	Code    int
	// File is the errorfile path; Location the errorloc URL.
	File, Location string
	// Reply are the reply options of an "http-error status <code>" line
	// (content-type, payload, hdr), as http-request return takes them.
	Reply []string
}

// Userlist is a "userlist" section.
type Userlist struct {
	Pos    Pos
	Name   string
	Users  []*User
	Groups []*Group
}

// User is a "user" line of a userlist.
type User struct {
	Pos  Pos
	Name string
	// Password is the crypt(3) hash for "password", or the clear text for
	// "insecure-password" (then Insecure is true).
	Password string
	Insecure bool
	Groups   []string
}

// Group is a "group" line of a userlist.
type Group struct {
	Pos   Pos
	Name  string
	Users []string
}

// HTTPErrors is an "http-errors" section: "errorfile <code> <file>" lines.
type HTTPErrors struct {
	Pos        Pos
	Name       string
	ErrorFiles map[int]*ErrorFile
}

// Severity tells a warning from an error.
type Severity int

const (
	Warning Severity = iota
	Error
)

// Diagnostic is a warning or an error about one statement.
type Diagnostic struct {
	Severity Severity
	Pos      Pos
	// Keyword is the directive concerned, e.g. "server", "option httplog".
	Keyword string
	// Subject names the object of the directive when there is one, e.g. the
	// server name for a server line; Error() prints it quoted after the
	// keyword: `haproxy.cfg:42: server "web1": …`.
	Subject string
	Message string
}

func (d Diagnostic) Error() string {
	switch {
	case d.Keyword == "":
		return d.Pos.String() + ": " + d.Message
	case d.Subject != "":
		return d.Pos.String() + ": " + d.Keyword + " " + strconv.Quote(d.Subject) + ": " + d.Message
	default:
		return d.Pos.String() + ": " + d.Keyword + ": " + d.Message
	}
}
