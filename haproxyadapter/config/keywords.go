package config

import (
	"slices"
	"sort"
	"strings"
)

// Status tells what happens to a keyword when a configuration is adapted.
type Status int

const (
	// Translated keywords are interpreted by the model and carried into the
	// Caddy configuration.
	Translated Status = iota
	// Ignored keywords are accepted with a warning: they have no effect in
	// Caddy, and dropping them does not change who may access what.
	Ignored
	// Refused keywords stop the adapter with an error: dropping them would
	// change who may access what or silently break the service.
	Refused
)

func (s Status) String() string {
	switch s {
	case Translated:
		return "translated"
	case Ignored:
		return "ignored"
	default:
		return "refused"
	}
}

// Scope is a set of places where a keyword may be written.
type Scope uint32

// Sections and parameter lists a keyword may belong to.
const (
	InGlobal Scope = 1 << iota
	InDefaults
	InFrontend
	InListen
	InBackend
	InUserlist
	InPeers
	InResolvers
	InMailers
	InCache
	InProgram
	InHTTPErrors
	InRing
	InLogForward
	InFCGIApp
	InNamespaceList
	// InServer is a "server"/"default-server" parameter.
	InServer
	// InBind is a "bind" parameter.
	InBind

	// InProxies is every section that describes a proxy, defaults included.
	InProxies = InDefaults | InFrontend | InListen | InBackend
)

// sectionScopes maps a section keyword to its Scope.
var sectionScopes = map[string]Scope{
	"global":         InGlobal,
	"defaults":       InDefaults,
	"frontend":       InFrontend,
	"listen":         InListen,
	"backend":        InBackend,
	"userlist":       InUserlist,
	"peers":          InPeers,
	"resolvers":      InResolvers,
	"mailers":        InMailers,
	"cache":          InCache,
	"program":        InProgram,
	"http-errors":    InHTTPErrors,
	"ring":           InRing,
	"log-forward":    InLogForward,
	"fcgi-app":       InFCGIApp,
	"namespace_list": InNamespaceList,
	"server":         InServer,
	"bind":           InBind,
}

// Keyword describes one configuration keyword of HAProxy 2.6 and what the
// adapter does with it.
type Keyword struct {
	// Name is the keyword with its sub-keyword when it has one: "maxconn",
	// "option httplog", "timeout connect", "stats uri",
	// "http-request set-header", "tcp-request content". Server and bind
	// parameters are named alone ("weight", "crt").
	Name string
	// Sections are the places where HAProxy accepts the keyword.
	Sections Scope
	// NamedDefaultsOnly is set when a defaults section may carry the keyword
	// only if it is named (rules and ACLs, HAProxy 2.5+).
	NamedDefaultsOnly bool
	// Negatable is set when "no" and "default" may precede the keyword.
	Negatable bool
	// Args is the number of words a server or bind parameter takes after its
	// name (-1: the rest of the line is interpreted by the parameter).
	Args int
	// Status and Note say what the adapter does with it; Note is one
	// sentence for the user.
	Status Status
	Note   string
	// Later marks a keyword the model interprets but whose translation is
	// still to come, so the status is expected to change.
	Later bool
	// Legacy marks keywords removed from HAProxy before 2.6 that the adapter
	// still accepts to help migrations.
	Legacy bool
}

// Notes shared by many keywords.
const (
	noteProcess           = "process management is the service manager's job; Caddy runs as one process"
	noteUser              = "run Caddy as the wanted user (for example with systemd's User=) instead"
	noteLog               = "Caddy writes its own logs; configure them in Caddy's logging settings"
	noteTune              = "low-level HAProxy tuning with no equivalent in Caddy"
	noteLua               = "Lua scripting has no equivalent; the scripts are not loaded"
	noteTLSBind           = "Caddy's TLS defaults apply to listeners (TLS 1.2+, modern cipher suites)"
	noteTLSServer         = "Caddy's TLS defaults apply to connections to servers"
	noteConnMode          = "Caddy keeps client connections alive and pools upstream ones"
	noteMaxConn           = "connection rate limits and per-bind connection limits are not enforced"
	noteMaxConnLimit      = "HTTP frontends: the haproxy_maxconn listener wrapper stops accepting connections while the limit is reached, leaving the next ones in the kernel's backlog; mode tcp frontends: the haproxy_maxconn layer4 handler holds the next ones, unread, until a slot frees"
	noteChecksUnsupported = "not supported: health checks run without it"
	noteStatsModules      = "the stats page shows no module columns"
	notePersist           = "not supported: the persistence cookie applies without it"
	noteCompression       = "responses pass uncompressed; add Caddy's encode handler to compress"
	noteSplice            = "Go copies data between connections itself; the kernel splice setting has no equivalent"
	noteCliKeepalive      = "TCP keep-alive probes on the client connections, with these settings (unset ones keep the system's); without the option a mode tcp frontend sends none, as HAProxy, and an HTTP frontend keeps Go's default probes (15 s)"
	noteSrvKeepalive      = "TCP keep-alive probes on the connections to servers, with these settings (unset ones keep the system's); without the option a mode tcp backend sends none, as HAProxy, and an HTTP backend keeps Caddy's default probes"
	noteSource            = "the local address of the connections to servers, their health checks and agents (mode http: one per backend, the transport's local_address); usesrc (transparent proxying, IP_TRANSPARENT; in mode http connections to servers are then not kept alive); interface is refused"
	noteDNS               = "Caddy resolves server host names with the system resolver when it connects"
	noteHarmless          = "harmless: only informative"
	noteDevice            = "device detection modules are not available"
	noteMail              = "e-mail alerts are not sent"
	noteCapture           = "captures only feed HAProxy's logs"
	noteRules             = "%s rules are not translated yet; express them with Caddy handlers or remove the line"
	noteTCPRules          = "accept and reject in mode tcp proxies (backend rules run once the backend is chosen), with conditions on src, dst, dst_port, req.ssl_sni, req.ssl_alpn and req.ssl_hello_type (caddy-l4 matchers); in mode http, connection rules only, through caddy-l4's listener wrapper"
	noteACL               = "request fetches (path, url, base, query, url_param, hdr, cook, method, src, dst, ports, ssl_fc, ssl_fc_sni, ssl_c_used, ssl_c_verify, http_auth, http_auth_group, nbsrv, srv_is_up and their _beg, _end … forms, var(), str()) become Caddy matchers, with the converters lower, upper, length, hex, base64, bool, word, field, regsub, map, map_str and map_beg; other converters and fetches are refused where used"
	noteCond              = "and, or, ! and anonymous { } ACLs; a condition is refused where one of its ACLs is. In http-response rules, request fetches never match (as in HAProxy) and positive status tests become required status codes"
	noteRedirect          = "location, prefix and scheme redirects with code, drop-query and append-slash; the value may hold %[fetch,converters] expressions"
	noteHeaderValue       = "literal text, the log-format fetches Caddy has a placeholder for (src, src_port, dst, dst_port, method, query, req.hdr(host), ssl_fc_sni), var(txn.*|req.*) and, in request rules, %[fetch,converters…] sample expressions (in response rules: txn variables and constants with converters)"
	noteStick             = "stick tables are not supported; use cookie persistence or balance source instead"
)

// kwTable is every known keyword; kwIndex finds them by name.
var (
	kwTable []*Keyword
	kwIndex map[string][]*Keyword
)

func init() {
	kwIndex = map[string][]*Keyword{}
	add := func(list []*Keyword) {
		for _, k := range list {
			kwTable = append(kwTable, k)
			kwIndex[k.Name] = append(kwIndex[k.Name], k)
		}
	}
	add(globalKeywords())
	add(proxyKeywords())
	add(ruleActionKeywords())
	add(serverKeywords())
	add(bindKeywords())
	add(otherSectionKeywords())
	sort.SliceStable(kwTable, func(i, j int) bool { return kwTable[i].Name < kwTable[j].Name })

	// A keyword the model interprets but that is not translated yet is
	// expected to change status: mark it.
	initProxyHandlers()
	for _, k := range kwTable {
		if k.Status == Translated {
			continue
		}
		first, _, _ := strings.Cut(k.Name, " ")
		switch {
		case k.Sections&InProxies != 0 && (proxyHandlers[k.Name] != nil || proxyHandlers[first] != nil):
			k.Later = true
		case k.Sections&InServer != 0 && slices.Contains(modeledServerParams, k.Name):
			k.Later = true
		}
	}
}

// modeledServerParams are the server parameters ServerParams has a field
// for.
var modeledServerParams = []string{
	"cookie", "maxqueue", "check", "inter", "fastinter", "downinter", "rise", "fall", "port",
	"addr", "check-ssl", "no-check-ssl", "check-sni", "agent-check", "no-agent-check",
	"agent-port", "agent-inter", "slowstart", "on-marked-down", "on-marked-up", "on-error",
	"observe", "error-limit", "resolvers", "init-addr", "resolve-prefer", "track", "redir",
}

// Keywords returns the whole table, sorted by name. Callers must not modify
// the entries.
func Keywords() []*Keyword { return kwTable }

// LookupKeyword finds the keyword a statement starts with in a section
// ("global", "defaults", "frontend", "backend", "listen", "userlist",
// "peers", "resolvers", "mailers", "cache", "program", "http-errors",
// "ring", "log-forward") or in a parameter list ("server" for server and
// default-server parameters, "bind" for bind parameters). words are the
// statement's words; the longest known keyword wins ("option httplog" over
// "option", "http-request set-header" over "http-request"). The second
// result reports whether the keyword is allowed there; when the words name
// no keyword of that place but one of another, that one is returned with
// false. nil means the keyword is unknown everywhere.
func LookupKeyword(section string, words []string) (*Keyword, bool) {
	scope := sectionScopes[section]
	var fallback *Keyword
	for n := min(len(words), 3); n >= 1; n-- {
		name := keywordName(words[:n])
		for _, k := range kwIndex[name] {
			if k.Sections&scope != 0 {
				return k, true
			}
			// Keep the most specific other-place match, preferring one of
			// the same kind of section (proxy keywords for a proxy);
			// server and bind parameters only count inside their own lists.
			if k.Sections&(InServer|InBind) != 0 && scope&(InServer|InBind) == 0 {
				continue
			}
			if fallback == nil || fallback.Sections&scope&InProxies == 0 && k.Sections&InProxies != 0 && scope&InProxies != 0 {
				fallback = k
			}
		}
		if fallback != nil {
			return fallback, false
		}
	}
	return nil, false
}

// keywordName joins words the way the table names keywords, normalising
// action names that carry arguments or a counter number
// ("set-var(txn.x)" → "set-var", "track-sc0" → "track-sc").
func keywordName(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	parts := make([]string, len(words))
	for i, w := range words {
		if i > 0 {
			w = normalizeAction(w)
		}
		parts[i] = w
	}
	return strings.Join(parts, " ")
}

func normalizeAction(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 {
		w = w[:i]
	}
	if strings.HasPrefix(w, "lua.") {
		return "lua"
	}
	for _, p := range []string{"track-sc", "sc-inc-gpc", "sc-set-gpt", "sc-add-gpc"} {
		if strings.HasPrefix(w, p) {
			rest := w[len(p):]
			if strings.Trim(rest, "0123456789") == "" {
				return p
			}
		}
	}
	return w
}

// keywordsIn lists the names of the keywords allowed in a scope whose name
// starts with prefix, for suggestions. With prefix "" only first words are
// listed (so that "option x" does not compete with a plain keyword).
func keywordsIn(scope Scope, prefix string) []string {
	var names []string
	seen := map[string]bool{}
	for _, k := range kwTable {
		if scope != 0 && k.Sections&scope == 0 || scope == 0 && k.Sections&(InServer|InBind) != 0 {
			continue
		}
		name := k.Name
		if prefix == "" {
			name, _, _ = strings.Cut(name, " ")
		} else if !strings.HasPrefix(name, prefix) {
			continue
		} else {
			name = strings.TrimPrefix(name, prefix)
			name, _, _ = strings.Cut(name, " ")
			if name == "" {
				continue
			}
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// Constructors that keep the tables below readable.

// sec parses a compact applicability string for proxy keywords, in the
// column order of HAProxy's keyword matrix: defaults, frontend, listen,
// backend. "X" means allowed, "!" allowed in named defaults only, "-" not
// allowed. For example "X-XX" is defaults, listen and backend.
func sec(s string) (Scope, bool) {
	cols := []Scope{InDefaults, InFrontend, InListen, InBackend}
	var sc Scope
	named := false
	for i, c := range s {
		switch c {
		case 'X':
			sc |= cols[i]
		case '!':
			sc |= cols[i]
			named = true
		}
	}
	return sc, named
}

func px(name, where string, st Status, note string) *Keyword {
	sc, named := sec(where)
	return &Keyword{Name: name, Sections: sc, NamedDefaultsOnly: named, Status: st, Note: note}
}

func neg(k *Keyword) *Keyword   { k.Negatable = true; return k }
func later(k *Keyword) *Keyword { k.Later = true; return k }
func legacy(k *Keyword) *Keyword {
	k.Legacy = true
	return k
}

func kw(name string, scope Scope, st Status, note string) *Keyword {
	return &Keyword{Name: name, Sections: scope, Status: st, Note: note}
}

func param(scope Scope, name string, args int, st Status, note string) *Keyword {
	return &Keyword{Name: name, Sections: scope, Args: args, Status: st, Note: note}
}
