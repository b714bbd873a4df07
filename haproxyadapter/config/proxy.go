package config

import (
	"slices"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// proxyCtx is the proxy being built and what its statements need to know.
type proxyCtx struct {
	p *Proxy
	// named is false for an anonymous defaults section.
	named bool
	// ownACLs are the acl lines of this section, the only ones its
	// conditions may name (HAProxy does not inherit ACLs).
	ownACLs []*ACL
	// hasRules is set when a defaults section carries rules.
	hasRules bool
	// serverNames maps a server name to its line, to report duplicates.
	serverNames map[string]Pos
}

// ConditionKeyword is the status of "if"/"unless" conditions on rules whose
// directive is otherwise translated (use_backend).
var ConditionKeyword = &Keyword{Name: "if / unless <condition>", Sections: InFrontend | InListen | InBackend, Status: Translated, Note: noteCond}

// newProxy returns a proxy with HAProxy's built-in defaults.
func newProxy(kind ProxyKind, name string, pos Pos) *Proxy {
	return &Proxy{
		Kind:          kind,
		Name:          name,
		Pos:           pos,
		Mode:          "tcp",
		Retries:       3,
		Options:       map[string]*Option{},
		ErrorFiles:    map[int]*ErrorFile{},
		DefaultServer: builtinServerParams(),
	}
}

// inherit returns a new proxy of the given kind initialised from the
// defaults section d, the way HAProxy copies a defaults section: each
// setting is copied only to the proxies that have the matching capability.
func (d *Proxy) inherit(kind ProxyKind, name string, pos Pos) *Proxy {
	p := newProxy(kind, name, pos)
	p.DefaultsName = d.Name
	p.Mode, p.ModePos = d.Mode, d.ModePos
	p.Disabled = d.Disabled
	for k, o := range d.Options {
		c := *o
		c.Args = slices.Clone(o.Args)
		p.Options[k] = &c
	}
	for k, e := range d.ErrorFiles {
		c := *e
		p.ErrorFiles[k] = &c
	}
	p.ErrorFilesSections = slices.Clone(d.ErrorFilesSections)
	if d.Stats != nil {
		s := *d.Stats
		s.Auths = slices.Clone(d.Stats.Auths)
		s.Scopes = slices.Clone(d.Stats.Scopes)
		s.Admin = slices.Clone(d.Stats.Admin)
		s.HTTPRequests = slices.Clone(d.Stats.HTTPRequests)
		s.Other = slices.Clone(d.Stats.Other)
		p.Stats = &s
	}
	p.Other = slices.Clone(d.Other)
	t := d.Timeouts
	p.Timeouts.HTTPRequest, p.Timeouts.HTTPKeepAlive, p.Timeouts.Tarpit = t.HTTPRequest, t.HTTPKeepAlive, t.Tarpit
	p.HTTPRequest = slices.Clone(d.HTTPRequest)
	p.HTTPResponse = slices.Clone(d.HTTPResponse)
	p.HTTPAfterResponse = slices.Clone(d.HTTPAfterResponse)
	p.TCPRequest = slices.Clone(d.TCPRequest)
	if kind == KindDefaults || kind.HasFrontend() {
		p.MaxConn = d.MaxConn
		p.Timeouts.Client, p.Timeouts.ClientFin = t.Client, t.ClientFin
		p.ClientKeepAlive = d.ClientKeepAlive
		p.MonitorURI, p.MonitorURIPos = d.MonitorURI, d.MonitorURIPos
		p.DefaultBackend, p.DefaultBackendPos = d.DefaultBackend, d.DefaultBackendPos
	}
	if kind == KindDefaults || kind.HasBackend() {
		p.FullConn = d.FullConn
		p.Retries, p.RetriesPos = d.Retries, d.RetriesPos
		p.Timeouts.Connect, p.Timeouts.Server, p.Timeouts.ServerFin = t.Connect, t.Server, t.ServerFin
		p.Timeouts.Queue, p.Timeouts.Check, p.Timeouts.Tunnel = t.Queue, t.Check, t.Tunnel
		p.ServerKeepAlive = d.ServerKeepAlive
		p.Balance = d.Balance
		p.Source = d.Source
		p.Balance.Args = slices.Clone(d.Balance.Args)
		p.HashType = d.HashType
		if d.Cookie != nil {
			c := *d.Cookie
			c.Domains = slices.Clone(d.Cookie.Domains)
			c.Attrs = slices.Clone(d.Cookie.Attrs)
			p.Cookie = &c
		}
		p.DefaultServer = d.DefaultServer.clone()
		p.HTTPCheck = slices.Clone(d.HTTPCheck)
		p.TCPCheck = slices.Clone(d.TCPCheck)
		p.TCPResponse = slices.Clone(d.TCPResponse)
	}
	return p
}

var proxyKinds = map[string]ProxyKind{
	"defaults": KindDefaults,
	"frontend": KindFrontend,
	"backend":  KindBackend,
	"listen":   KindListen,
}

// proxySection builds a defaults, frontend, backend or listen section.
func (b *builder) proxySection(s *lex.Section) {
	kind := proxyKinds[s.Kind]
	if kind != KindDefaults {
		switch {
		case s.Name == "":
			b.errorf(s.Pos, s.Kind, "missing name for the %s section", s.Kind)
		case !validProxyName(s.Name):
			b.errorf(s.Pos, s.Kind, "invalid name '%s': only letters, digits, '-', '_', '.' and ':' are allowed", s.Name)
		}
		// A frontend and a backend may share a name; proxies whose
		// capabilities overlap may not.
		for _, prev := range b.proxyNames[s.Name] {
			if s.Name != "" && (prev.Kind.HasFrontend() && kind.HasFrontend() || prev.Kind.HasBackend() && kind.HasBackend()) {
				b.errorf(s.Pos, s.Kind, "%s '%s' has the same name as %s '%s' declared at %s", s.Kind, s.Name, prev.Kind, prev.Name, prev.Pos)
				break
			}
		}
	}

	parent := b.lastDefaults
	if kind == KindDefaults {
		parent = nil // a defaults section starts from the built-in values
	}
	if s.From != "" {
		switch same := b.namedDefaults[s.From]; len(same) {
		case 0:
			parent = nil
			b.errorf(s.Pos, s.Kind, "%s '%s' inherits from unknown defaults section '%s'", s.Kind, s.Name, s.From)
		case 1:
			parent = same[0]
		default:
			parent = nil
			b.errorf(s.Pos, s.Kind, "ambiguous defaults section name '%s' referenced by %s '%s' exists at least at %s and %s", s.From, s.Kind, s.Name, same[0].Pos, same[1].Pos)
		}
	}
	var p *Proxy
	if parent != nil {
		p = parent.inherit(kind, s.Name, s.Pos)
		if b.defaultsRules[parent] {
			b.checkRulesDefaultsUse(s, kind, parent)
		}
	} else {
		p = newProxy(kind, s.Name, s.Pos)
	}
	c := &proxyCtx{p: p, named: s.Name != "", serverNames: map[string]Pos{}}

	// Legacy "listen <name> <addr>" header.
	if len(s.Args) > 0 {
		if kind == KindListen || kind == KindFrontend {
			b.bindLine(c, lex.Statement{Pos: s.Pos, Words: append([]string{"bind"}, s.Args...)})
		} else {
			b.errorf(s.Pos, s.Kind, "unexpected words after the %s name: %s", s.Kind, strings.Join(s.Args, " "))
		}
	}

	for _, st := range s.Statements {
		if len(st.Words) == 0 {
			continue
		}
		b.proxyStatement(c, st)
	}
	b.numberServers(c)

	if kind == KindDefaults {
		b.cfg.Defaults = append(b.cfg.Defaults, p)
		b.lastDefaults = p
		if s.Name != "" {
			b.namedDefaults[s.Name] = append(b.namedDefaults[s.Name], p)
		}
		if c.hasRules {
			if b.defaultsRules == nil {
				b.defaultsRules = map[*Proxy]bool{}
			}
			b.defaultsRules[p] = true
		}
		return
	}
	b.cfg.Proxies = append(b.cfg.Proxies, p)
	if s.Name != "" {
		b.proxyNames[s.Name] = append(b.proxyNames[s.Name], p)
	}
}

// checkRulesDefaultsUse applies HAProxy's limits on defaults sections that
// carry rules: their rules run first in the proxies inheriting them, which
// is only well defined for frontends alone or backends alone.
func (b *builder) checkRulesDefaultsUse(s *lex.Section, kind ProxyKind, parent *Proxy) {
	switch kind {
	case KindListen:
		b.errorf(s.Pos, s.Kind, "a listen section cannot inherit from a defaults section defining TCP/HTTP rules (defaults '%s' at %s)", parent.Name, parent.Pos)
	case KindDefaults:
		b.errorf(s.Pos, s.Kind, "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults '%s' at %s)", parent.Name, parent.Pos)
	default:
		if b.rulesDefaultsUser == nil {
			b.rulesDefaultsUser = map[*Proxy]ProxyKind{}
		}
		if first, used := b.rulesDefaultsUser[parent]; used && first != kind {
			b.errorf(s.Pos, s.Kind, "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults '%s' at %s)", parent.Name, parent.Pos)
			return
		}
		b.rulesDefaultsUser[parent] = kind
	}
}

func validProxyName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return false
		}
	}
	return s != ""
}

// keywordFamilies are first words that need a second word to name a keyword.
var keywordFamilies = map[string]string{
	"option":              "option",
	"timeout":             "timeout",
	"stats":               "stats keyword",
	"http-request":        "http-request action",
	"http-response":       "http-response action",
	"http-after-response": "http-after-response action",
	"tcp-request":         "tcp-request rule type",
	"tcp-response":        "tcp-response rule type",
	"http-check":          "http-check keyword",
	"tcp-check":           "tcp-check keyword",
	"capture":             "capture keyword",
	"email-alert":         "email-alert keyword",
	"stick":               "stick keyword",
	"monitor":             "monitor keyword",
	"external-check":      "external-check keyword",
	"rate-limit":          "rate-limit keyword",
	"persist":             "persist keyword",
	"declare":             "declare keyword",
}

// proxyStatement checks one statement against the keyword table, models it
// and reports its status.
func (b *builder) proxyStatement(c *proxyCtx, st lex.Statement) {
	p := c.p
	section := p.Kind.String()
	words := st.Words
	k, allowed := LookupKeyword(section, words)
	if family, ok := keywordFamilies[words[0]]; ok && (k == nil || !strings.Contains(k.Name, " ")) {
		if len(words) < 2 {
			b.errorf(st.Pos, words[0], "missing %s name", family)
			return
		}
		if k == nil || words[0] != "http-request" && words[0] != "http-response" && words[0] != "http-after-response" && words[0] != "stats" {
			cands := keywordsIn(sectionScopes[section], words[0]+" ")
			if len(cands) == 0 {
				cands = keywordsIn(0, words[0]+" ")
			}
			b.errorf(st.Pos, words[0], "unknown %s '%s' in '%s' section%s", family, normalizeAction(words[1]), section, didYouMean(suggest(normalizeAction(words[1]), cands), '\''))
			return
		}
		if k.Name == words[0] {
			cands := keywordsIn(sectionScopes[section], words[0]+" ")
			b.errorf(st.Pos, words[0], "unknown %s '%s'%s", family, normalizeAction(words[1]), didYouMean(suggest(normalizeAction(words[1]), cands), '\''))
			return
		}
	}
	// tcp-request/tcp-response rules name their action in the third word.
	if k != nil && (words[0] == "tcp-request" || words[0] == "tcp-response") && strings.Count(k.Name, " ") == 1 && words[1] != "inspect-delay" {
		if len(words) < 3 {
			b.errorf(st.Pos, k.Name, "missing action")
			return
		}
		cands := keywordsIn(sectionScopes[section], k.Name+" ")
		b.errorf(st.Pos, k.Name, "unknown action '%s'%s", normalizeAction(words[2]), didYouMean(suggest(normalizeAction(words[2]), cands), '\''))
		return
	}
	if k == nil {
		if pk, _ := LookupKeyword("server", words[:1]); pk != nil {
			b.errorf(st.Pos, "", "unknown keyword '%s' in '%s' section ('%s' is a server parameter: write it on a server or default-server line)", words[0], section, words[0])
			return
		}
		cands := keywordsIn(sectionScopes[section], "")
		s := suggest(words[0], cands)
		if s == "" {
			s = suggest(words[0], keywordsIn(0, ""))
		}
		b.errorf(st.Pos, "", "unknown keyword '%s' in '%s' section%s", words[0], section, didYouMean(s, '\''))
		return
	}
	name := k.Name
	if st.Prefix != "" && !k.Negatable {
		if strings.HasPrefix(name, "option ") {
			b.errorf(st.Pos, name, "'%s' is not supported before option '%s'", st.Prefix, strings.TrimPrefix(name, "option "))
		} else {
			b.errorf(st.Pos, name, "'%s' may only precede options, log and a few global booleans", st.Prefix)
		}
		return
	}
	if !allowed {
		switch {
		case k.Sections&InProxies == 0:
			b.errorf(st.Pos, name, "'%s' is not allowed in a '%s' section (it belongs in %s)", name, section, scopeNames(k.Sections))
			return
		case p.Kind == KindDefaults:
			b.errorf(st.Pos, name, "'%s' is not allowed in a 'defaults' section", name)
			return
		case name == "server" || name == "default-server" || name == "server-template":
			b.errorf(st.Pos, name, "'%s' not allowed because %s '%s' has no backend capability", name, section, p.Name)
			return
		default:
			// Every proxy keyword is valid in a listen section, so the
			// mismatch is a frontend lacking a backend or the reverse.
			missing := "backend"
			if !p.Kind.HasFrontend() {
				missing = "frontend"
			}
			b.warnf(st.Pos, name, "ignored because %s '%s' has no %s capability", section, p.Name, missing)
			return
		}
	}
	if p.Kind == KindDefaults && k.NamedDefaultsOnly && !c.named {
		b.errorf(st.Pos, name, "'%s' not allowed in anonymous 'defaults' section; name the section and inherit from it with 'from <name>'", words[0])
		return
	}

	h := proxyHandlers[name]
	if h == nil {
		first, _, _ := strings.Cut(name, " ")
		h = proxyHandlers[first]
	}
	if h == nil {
		p.Other = append(p.Other, st)
		b.reportStatus(st.Pos, name, k)
		return
	}
	if h(b, c, st) {
		b.reportStatus(st.Pos, name, k)
	}
}

// reportStatus emits the warning or error that an Ignored or Refused
// keyword carries.
func (b *builder) reportStatus(pos Pos, name string, k *Keyword) {
	switch k.Status {
	case Ignored:
		b.warnf(pos, name, "ignored: %s", k.Note)
	case Refused:
		b.errorf(pos, name, "not supported: %s", k.Note)
	}
}

func scopeNames(sc Scope) string {
	var names []string
	for _, n := range []string{"global", "defaults", "frontend", "listen", "backend", "userlist", "peers", "resolvers", "mailers", "cache", "program", "http-errors", "ring", "log-forward", "fcgi-app", "namespace_list"} {
		if sc&sectionScopes[n] != 0 {
			names = append(names, "'"+n+"'")
		}
	}
	if len(names) == 0 {
		return "a server or bind line"
	}
	return strings.Join(names, ", ")
}

// proxyHandler models a statement; it returns false when it reported an
// error (the keyword's status is then not reported).
type proxyHandler func(b *builder, c *proxyCtx, st lex.Statement) bool

var proxyHandlers map[string]proxyHandler

// initProxyHandlers fills proxyHandlers; the keyword table's init calls it
// first so that it can mark modeled keywords.
func initProxyHandlers() {
	proxyHandlers = map[string]proxyHandler{
		"mode":                proxyMode,
		"bind":                func(b *builder, c *proxyCtx, st lex.Statement) bool { return b.bindLine(c, st) },
		"maxconn":             proxyMaxConn,
		"fullconn":            proxyFullConn,
		"retries":             proxyRetries,
		"timeout":             proxyTimeout,
		"source":              proxySource,
		"clitcpka-idle":       proxyKeepAlive,
		"clitcpka-intvl":      proxyKeepAlive,
		"clitcpka-cnt":        proxyKeepAlive,
		"srvtcpka-idle":       proxyKeepAlive,
		"srvtcpka-intvl":      proxyKeepAlive,
		"srvtcpka-cnt":        proxyKeepAlive,
		"contimeout":          proxyLegacyTimeout,
		"clitimeout":          proxyLegacyTimeout,
		"srvtimeout":          proxyLegacyTimeout,
		"option":              proxyOption,
		"redispatch":          proxyLegacyRedispatch,
		"redisp":              proxyLegacyRedispatch,
		"balance":             proxyBalance,
		"hash-type":           proxyHashType,
		"cookie":              proxyCookie,
		"default-server":      func(b *builder, c *proxyCtx, st lex.Statement) bool { return b.defaultServerLine(c, st) },
		"server":              func(b *builder, c *proxyCtx, st lex.Statement) bool { return b.serverLine(c, st) },
		"server-template":     func(b *builder, c *proxyCtx, st lex.Statement) bool { return b.serverTemplateLine(c, st) },
		"default_backend":     proxyDefaultBackend,
		"use_backend":         proxyUseBackend,
		"use-server":          proxyUseServer,
		"acl":                 proxyACL,
		"http-request":        proxyRule,
		"http-response":       proxyRule,
		"http-after-response": proxyRule,
		"tcp-request":         proxyRule,
		"tcp-response":        proxyRule,
		"redirect":            proxyRule,
		"http-check":          proxyCheckRule,
		"tcp-check":           proxyCheckRule,
		"block":               proxyRule,
		"stats":               proxyStats,
		"monitor-uri":         proxyMonitorURI,
		"monitor":             proxyMonitorFail,
		"errorfile":           proxyErrorFile,
		"errorloc":            proxyErrorFile,
		"errorloc302":         proxyErrorFile,
		"errorloc303":         proxyErrorFile,
		"errorfiles":          proxyErrorFiles,
		"http-error":          proxyHTTPError,
		"description":         proxyDescription,
		"id":                  proxyID,
		"disabled":            func(b *builder, c *proxyCtx, st lex.Statement) bool { c.p.Disabled = true; return true },
		"enabled":             func(b *builder, c *proxyCtx, st lex.Statement) bool { c.p.Disabled = false; return true },
	}
	for _, k := range []string{"reqadd", "rspadd", "reqrep", "reqirep", "reqdel", "reqidel", "reqallow", "reqiallow", "reqdeny", "reqideny", "reqpass", "reqipass", "reqtarpit", "reqitarpit", "reqsetbe", "reqisetbe", "rsprep", "rspirep", "rspdel", "rspidel", "rspdeny", "rspideny"} {
		proxyHandlers[k] = proxyRule
	}
}

// needArgs reports an error unless the statement has between lo and hi
// arguments (hi < 0: no upper bound).
func (b *builder) needArgs(st lex.Statement, name string, lo, hi int, usage string) bool {
	n := len(st.Words) - strings.Count(name, " ") - 1
	if n < lo || hi >= 0 && n > hi {
		if n < lo {
			b.errorf(st.Pos, name, "missing argument; usage: %s", usage)
		} else {
			b.errorf(st.Pos, name, "too many arguments; usage: %s", usage)
		}
		return false
	}
	return true
}

func proxyMode(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "mode", 1, 1, "mode {tcp|http|log}") {
		return false
	}
	switch m := st.Words[1]; m {
	case "tcp", "http", "log":
		c.p.Mode, c.p.ModePos = m, st.Pos
		return true
	default:
		b.errorf(st.Pos, "mode", "unknown proxy mode '%s' (expected tcp, http or log)%s", m, didYouMean(suggest(m, []string{"tcp", "http", "log"}), '\''))
		return false
	}
}

// intArg reads a number the lax way HAProxy does for this keyword, with a
// warning when words follow the digits.
func (b *builder) intArg(st lex.Statement, name, value string, lo, hi int) (int, bool) {
	n, exact, err := parseIntLax(value, lo, hi)
	if err != nil {
		b.errorf(st.Pos, name, "invalid value '%s': %v", value, err)
		return 0, false
	}
	if !exact {
		b.warnf(st.Pos, name, "'%s' is not a number: read as %d, as HAProxy does", value, n)
	}
	return n, true
}

// strictIntArg reads a number that HAProxy checks strictly.
func (b *builder) strictIntArg(st lex.Statement, name, value string, lo, hi int) (int, bool) {
	n, err := parseInt(value, lo, hi)
	if err != nil {
		b.errorf(st.Pos, name, "invalid value '%s': %v", value, err)
		return 0, false
	}
	return n, true
}

func proxyMaxConn(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "maxconn", 1, 1, "maxconn <number>") {
		return false
	}
	n, ok := b.intArg(st, "maxconn", st.Words[1], 0, 1<<31-1)
	c.p.MaxConn = n
	return ok
}

func proxyFullConn(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "fullconn", 1, 1, "fullconn <number>") {
		return false
	}
	n, ok := b.intArg(st, "fullconn", st.Words[1], 0, 1<<31-1)
	c.p.FullConn = n
	return ok
}

func proxyRetries(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "retries", 1, 1, "retries <number>") {
		return false
	}
	n, ok := b.intArg(st, "retries", st.Words[1], 0, 1<<31-1)
	if ok {
		c.p.Retries, c.p.RetriesPos = n, st.Pos
	}
	return ok
}

// timeoutField returns the Timeouts field a "timeout" name sets.
func timeoutField(t *Timeouts, name string) *Duration {
	switch name {
	case "connect":
		return &t.Connect
	case "client":
		return &t.Client
	case "server":
		return &t.Server
	case "http-request":
		return &t.HTTPRequest
	case "http-keep-alive":
		return &t.HTTPKeepAlive
	case "queue":
		return &t.Queue
	case "tunnel":
		return &t.Tunnel
	case "check":
		return &t.Check
	case "client-fin":
		return &t.ClientFin
	case "server-fin":
		return &t.ServerFin
	case "tarpit":
		return &t.Tarpit
	}
	return nil
}

// durationArg parses a time argument, reporting errors with the keyword.
func (b *builder) durationArg(st lex.Statement, name, value string, unit time.Duration) (time.Duration, bool) {
	d, err := ParseTime(value, unit)
	if err != nil {
		b.errorf(st.Pos, name, "%v", err)
		return 0, false
	}
	return d, true
}

func proxyTimeout(b *builder, c *proxyCtx, st lex.Statement) bool {
	name := "timeout " + st.Words[1]
	if !b.needArgs(st, name, 1, 1, name+" <time>") {
		return false
	}
	d, ok := b.durationArg(st, name, st.Words[2], time.Millisecond)
	if !ok {
		return false
	}
	*timeoutField(&c.p.Timeouts, st.Words[1]) = Duration{D: d, Set: true, Pos: st.Pos}
	return true
}

func proxySource(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "source", 1, 5, "source <addr>[:<port>] [usesrc <addr>|client|clientip] [interface <name>]") {
		return false
	}
	src, err := parseSource(st.Words[1:])
	if err != nil {
		b.errorf(st.Pos, "source", "%v", err)
		return false
	}
	src.Pos = st.Pos
	c.p.Source = src
	return true
}

// proxyKeepAlive models clitcpka-idle, -intvl, -cnt and their srvtcpka-…
// twins. Times count in seconds unless a unit is given, as HAProxy's.
func proxyKeepAlive(b *builder, c *proxyCtx, st lex.Statement) bool {
	name := st.Words[0]
	if !b.needArgs(st, name, 1, 1, name+" <value>") {
		return false
	}
	side, setting, _ := strings.Cut(name, "-")
	ka := &c.p.ClientKeepAlive
	if side == "srvtcpka" {
		ka = &c.p.ServerKeepAlive
	}
	if setting == "cnt" {
		n, ok := b.intArg(st, name, st.Words[1], 0, 1<<31-1)
		if ok {
			ka.Count, ka.CountPos = n, st.Pos
		}
		return ok
	}
	d, ok := b.durationArg(st, name, st.Words[1], time.Second)
	if !ok {
		return false
	}
	field := &ka.Idle
	if setting == "intvl" {
		field = &ka.Interval
	}
	*field = Duration{D: d, Set: true, Pos: st.Pos}
	return true
}

func proxyLegacyTimeout(b *builder, c *proxyCtx, st lex.Statement) bool {
	name := st.Words[0]
	if !b.needArgs(st, name, 1, 1, name+" <time>") {
		return false
	}
	d, ok := b.durationArg(st, name, st.Words[1], time.Millisecond)
	if !ok {
		return false
	}
	field := map[string]string{"contimeout": "connect", "clitimeout": "client", "srvtimeout": "server"}[name]
	*timeoutField(&c.p.Timeouts, field) = Duration{D: d, Set: true, Pos: st.Pos}
	b.warnf(st.Pos, name, "'%s' was removed in HAProxy 2.1; read as 'timeout %s'", name, field)
	return false // the warning above replaces the status note
}

func proxyOption(b *builder, c *proxyCtx, st lex.Statement) bool {
	name := st.Words[1]
	switch st.Prefix {
	case "no":
		c.p.Options[name] = &Option{Pos: st.Pos, Enabled: false}
		return false // disabling an option needs no note
	case "default":
		// "default option x" restores HAProxy's built-in setting (off),
		// whatever a defaults section said.
		delete(c.p.Options, name)
		return false
	}
	args := slices.Clone(st.Words[2:])
	if name == "redispatch" && len(args) > 0 {
		if _, err := parseInt(args[0], -1<<31, 1<<31-1); err != nil {
			b.errorf(st.Pos, "option redispatch", "invalid interval '%s': %v", args[0], err)
			return false
		}
	}
	if name == "forwardfor" {
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "except", "header":
				if i+1 >= len(args) {
					b.errorf(st.Pos, "option forwardfor", "'%s' needs an argument", args[i])
					return false
				}
				i++
			case "if-none":
			default:
				b.errorf(st.Pos, "option forwardfor", "unknown argument '%s' (expected except, header or if-none)", args[i])
				return false
			}
		}
	}
	c.p.Options[name] = &Option{Pos: st.Pos, Enabled: true, Args: args}
	return true
}

func proxyLegacyRedispatch(b *builder, c *proxyCtx, st lex.Statement) bool {
	c.p.Options["redispatch"] = &Option{Pos: st.Pos, Enabled: true}
	b.warnf(st.Pos, st.Words[0], "'%s' is deprecated (removed in HAProxy 2.1); read as 'option redispatch'", st.Words[0])
	return false
}

var balanceAlgorithms = []string{"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr", "random", "rdp-cookie", "hash"}

func proxyBalance(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "balance", 1, -1, "balance <algorithm> [arguments]") {
		return false
	}
	word := strings.ToLower(st.Words[1])
	alg, param := word, ""
	if i := strings.IndexByte(word, '('); i >= 0 {
		if !strings.HasSuffix(word, ")") {
			b.errorf(st.Pos, "balance", "missing ')' in '%s'", st.Words[1])
			return false
		}
		alg, param = word[:i], st.Words[1][i+1:len(word)-1]
	}
	if !slices.Contains(balanceAlgorithms, alg) {
		b.errorf(st.Pos, "balance", "unknown algorithm '%s'%s", alg, didYouMean(suggest(alg, balanceAlgorithms), '\''))
		return false
	}
	args := slices.Clone(st.Words[2:])
	switch alg {
	case "hdr":
		if param == "" {
			b.errorf(st.Pos, "balance", "hdr requires a header name: balance hdr(<name>)")
			return false
		}
	case "random":
		if param != "" {
			if _, err := parseInt(param, 1, 1<<31-1); err != nil {
				b.errorf(st.Pos, "balance", "invalid draw count '%s' in random(): %v", param, err)
				return false
			}
		}
	case "url_param":
		if len(args) == 0 {
			b.errorf(st.Pos, "balance", "url_param requires a parameter name")
			return false
		}
	case "hash":
		if len(args) == 0 {
			b.errorf(st.Pos, "balance", "hash requires a sample expression")
			return false
		}
	case "uri":
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "len", "depth":
				if i+1 >= len(args) {
					b.errorf(st.Pos, "balance", "uri '%s' needs a number", args[i])
					return false
				}
				if _, err := parseInt(args[i+1], 0, 1<<31-1); err != nil {
					b.errorf(st.Pos, "balance", "uri %s: %v", args[i], err)
					return false
				}
				i++
			case "whole", "path-only":
			default:
				b.errorf(st.Pos, "balance", "unknown uri argument '%s' (expected len, depth, whole or path-only)", args[i])
				return false
			}
		}
	}
	c.p.Balance = Balance{Pos: st.Pos, Algorithm: alg, Param: param, Args: args}
	return true
}

func proxyHashType(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "hash-type", 1, 3, "hash-type <map-based|consistent> [sdbm|djb2|wt6|crc32|none] [avalanche]") {
		return false
	}
	h := HashType{Pos: st.Pos, Method: st.Words[1]}
	if h.Method != "map-based" && h.Method != "consistent" {
		b.errorf(st.Pos, "hash-type", "unknown method '%s' (expected map-based or consistent)", h.Method)
		return false
	}
	for _, w := range st.Words[2:] {
		switch w {
		case "sdbm", "djb2", "wt6", "crc32", "none":
			if h.Function != "" {
				b.errorf(st.Pos, "hash-type", "more than one hash function")
				return false
			}
			h.Function = w
		case "avalanche":
			h.Avalanche = true
		default:
			b.errorf(st.Pos, "hash-type", "unknown hash function '%s' (expected sdbm, djb2, wt6, crc32 or none)", w)
			return false
		}
	}
	c.p.HashType = h
	return true
}

func proxyCookie(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "cookie", 1, -1, "cookie <name> [insert|prefix|rewrite] [options]") {
		return false
	}
	ck := &Cookie{Pos: st.Pos, Name: st.Words[1]}
	args := st.Words[2:]
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch w {
		case "insert", "prefix", "rewrite":
			if ck.Mode != "" {
				b.errorf(st.Pos, "cookie", "'%s' conflicts with '%s': only one of insert, prefix and rewrite may be used", w, ck.Mode)
				return false
			}
			ck.Mode = w
		case "indirect":
			ck.Indirect = true
		case "nocache":
			ck.NoCache = true
		case "postonly":
			ck.PostOnly = true
		case "preserve":
			ck.Preserve = true
		case "httponly":
			ck.HTTPOnly = true
		case "secure":
			ck.Secure = true
		case "dynamic":
			ck.Dynamic = true
		case "domain", "maxidle", "maxlife", "attr":
			if i+1 >= len(args) {
				b.errorf(st.Pos, "cookie", "'%s' needs an argument", w)
				return false
			}
			i++
			v := args[i]
			switch w {
			case "domain":
				ck.Domains = append(ck.Domains, v)
			case "attr":
				ck.Attrs = append(ck.Attrs, v)
			default:
				d, ok := b.durationArg(st, "cookie", v, time.Second)
				if !ok {
					return false
				}
				if w == "maxidle" {
					ck.MaxIdle = d
				} else {
					ck.MaxLife = d
				}
			}
		default:
			opts := []string{"insert", "prefix", "rewrite", "indirect", "nocache", "postonly", "preserve", "httponly", "secure", "dynamic", "domain", "maxidle", "maxlife", "attr"}
			b.errorf(st.Pos, "cookie", "unknown option '%s'%s", w, didYouMean(suggest(w, opts), '\''))
			return false
		}
	}
	if ck.Mode == "rewrite" && ck.Indirect {
		b.errorf(st.Pos, "cookie", "'rewrite' and 'indirect' are mutually exclusive")
		return false
	}
	if ck.Preserve && ck.Mode != "insert" && !ck.Indirect {
		b.errorf(st.Pos, "cookie", "'preserve' requires 'insert' or 'indirect'")
		return false
	}
	c.p.Cookie = ck
	return true
}

func proxyDefaultBackend(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "default_backend", 1, 1, "default_backend <backend>") {
		return false
	}
	c.p.DefaultBackend, c.p.DefaultBackendPos = st.Words[1], st.Pos
	return true
}

func proxyUseBackend(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "use_backend", 1, -1, "use_backend <backend> [{if|unless} <condition>]") {
		return false
	}
	ub := &UseBackend{Pos: st.Pos, Backend: st.Words[1]}
	rest := st.Words[2:]
	if len(rest) > 0 {
		cond, ok := b.condition(c, st, "use_backend", rest)
		if !ok {
			return false
		}
		ub.Cond = cond
	}
	c.p.UseBackends = append(c.p.UseBackends, ub)
	if ub.Cond != nil {
		b.reportStatus(st.Pos, "use_backend", ConditionKeyword)
	}
	return true
}

func proxyUseServer(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "use-server", 1, -1, "use-server <server> [{if|unless} <condition>]") {
		return false
	}
	us := &UseServer{Pos: st.Pos, Server: st.Words[1]}
	if rest := st.Words[2:]; len(rest) > 0 {
		cond, ok := b.condition(c, st, "use-server", rest)
		if !ok {
			return false
		}
		us.Cond = cond
	}
	c.p.UseServers = append(c.p.UseServers, us)
	return true
}

func proxyMonitorURI(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "monitor-uri", 1, 1, "monitor-uri <uri>") {
		return false
	}
	c.p.MonitorURI, c.p.MonitorURIPos = st.Words[1], st.Pos
	return true
}

func proxyMonitorFail(b *builder, c *proxyCtx, st lex.Statement) bool {
	if len(st.Words) < 3 || st.Words[2] != "if" && st.Words[2] != "unless" {
		b.errorf(st.Pos, "monitor fail", "expects 'if' or 'unless' followed by a condition")
		return false
	}
	cond, ok := b.condition(c, st, "monitor fail", st.Words[2:])
	if !ok {
		return false
	}
	c.p.MonitorFail = append(c.p.MonitorFail, cond)
	return true
}

// errorCodes are the status codes errorfile and errorloc accept in 2.6.
var errorCodes = []int{200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504}

func proxyErrorFile(b *builder, c *proxyCtx, st lex.Statement) bool {
	name := st.Words[0]
	if !b.needArgs(st, name, 2, 2, name+" <code> <file|url>") {
		return false
	}
	code, err := parseInt(st.Words[1], 100, 599)
	if err != nil || !slices.Contains(errorCodes, code) {
		b.errorf(st.Pos, name, "status code '%s' is not supported (valid codes: 200 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504)", st.Words[1])
		return false
	}
	e := &ErrorFile{Pos: st.Pos, Keyword: name, Code: code}
	if name == "errorfile" {
		e.File = st.Words[2]
	} else {
		e.Location = st.Words[2]
	}
	c.p.ErrorFiles[code] = e
	return true
}

// proxyHTTPError models "http-error status <code> <reply options>": the
// page for the code, replacing an earlier errorfile or errorloc for it.
func proxyHTTPError(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "http-error", 2, -1, "http-error status <code> [content-type <type>] [string|lf-string|file|lf-file|errorfile …] [hdr <name> <fmt>]*") {
		return false
	}
	if st.Words[1] != "status" {
		b.errorf(st.Pos, "http-error", "expects 'status <code>', found '%s'", st.Words[1])
		return false
	}
	code, err := parseInt(st.Words[2], 100, 599)
	if err != nil || !slices.Contains(errorCodes, code) || code == 200 {
		b.errorf(st.Pos, "http-error", "status code '%s' is not supported (valid codes: 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504)", st.Words[2])
		return false
	}
	c.p.ErrorFiles[code] = &ErrorFile{Pos: st.Pos, Keyword: "http-error", Code: code, Reply: slices.Clone(st.Words[3:])}
	return true
}

func proxyErrorFiles(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "errorfiles", 1, -1, "errorfiles <http-errors name> [<code> ...]") {
		return false
	}
	c.p.ErrorFilesSections = append(c.p.ErrorFilesSections, &Rule{Pos: st.Pos, Keyword: "errorfiles", Action: st.Words[1], Args: slices.Clone(st.Words[2:])})
	return true
}

func proxyDescription(b *builder, c *proxyCtx, st lex.Statement) bool {
	c.p.Description = strings.Join(st.Words[1:], " ")
	return true
}

func proxyID(b *builder, c *proxyCtx, st lex.Statement) bool {
	if !b.needArgs(st, "id", 1, 1, "id <number>") {
		return false
	}
	n, ok := b.intArg(st, "id", st.Words[1], 1, 1<<31-1)
	if !ok {
		return false
	}
	for _, other := range b.cfg.Proxies {
		if other.ID == n {
			b.errorf(st.Pos, "id", "%s '%s' has the same id %d as %s '%s' declared at %s", c.p.Kind, c.p.Name, n, other.Kind, other.Name, other.IDPos)
			return false
		}
	}
	c.p.ID, c.p.IDPos = n, st.Pos
	return true
}
