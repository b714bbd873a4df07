package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// builtinServerParams are HAProxy's defaults for a server with no
// parameters.
func builtinServerParams() ServerParams {
	return ServerParams{Weight: 1, Inter: 2 * time.Second, Rise: 2, Fall: 3}
}

func (sp ServerParams) clone() ServerParams {
	c := sp
	c.ALPN = slices.Clone(sp.ALPN)
	c.Other = make([][]string, len(sp.Other))
	for i, o := range sp.Other {
		c.Other[i] = slices.Clone(o)
	}
	if len(c.Other) == 0 {
		c.Other = nil
	}
	return c
}

// serverParamNames lists the server parameters, for suggestions.
func serverParamNames() []string { return keywordsIn(InServer, "") }

// applyServerParams parses parameter words onto sp. subject names the line
// in messages ("web1", or "" for default-server). It reports each problem
// and returns false when any parameter is wrong.
func (b *builder) applyServerParams(st lex.Statement, keyword, subject string, sp *ServerParams, words []string, isDefault bool) bool {
	ok := true
	fail := func(format string, args ...any) {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: keyword, Subject: subject, Message: fmt.Sprintf(format, args...)})
		ok = false
	}
	var notes []*Keyword
	for i := 0; i < len(words); i++ {
		w := words[i]
		k, allowed := LookupKeyword("server", []string{w})
		if k == nil || !allowed {
			// The arity of an unknown word is unknown: stop here, as
			// HAProxy does.
			fail("unknown option %q%s", w, didYouMean(suggest(w, serverParamNames()), '"'))
			break
		}
		if w == "id" && isDefault {
			fail("'id' is only allowed on server lines, not on default-server")
			i += k.Args
			continue
		}
		var args []string
		if k.Args > 0 {
			if i+k.Args >= len(words) {
				fail("option %q needs %d argument", w, k.Args)
				continue
			}
			args = words[i+1 : i+1+k.Args]
			i += k.Args
		} else if k.Args < 0 {
			// "source <addr> [usesrc …] [interface …]": take the rest of the
			// words that belong to it.
			if i+1 >= len(words) {
				fail("option %q needs an address", w)
				continue
			}
			j := i + 2
			for j+1 < len(words) && (words[j] == "usesrc" || words[j] == "interface") {
				j += 2
			}
			args = words[i+1 : j]
			i = j - 1
		}
		exact, err := setServerParam(sp, w, args)
		if err != nil {
			fail("option %q: %v", w, err)
			continue
		}
		if !exact {
			b.diags = append(b.diags, Diagnostic{Severity: Warning, Pos: st.Pos, Keyword: keyword, Subject: subject,
				Message: fmt.Sprintf("option %q: '%s' is not a number: read as its leading digits, as HAProxy does", w, args[0])})
		}
		if k.Status != Translated && !slices.Contains(notes, k) {
			notes = append(notes, k)
		}
	}
	if !ok {
		return false
	}
	for _, d := range groupParamNotes(notes) {
		d.Pos, d.Keyword, d.Subject = st.Pos, keyword, subject
		b.diags = append(b.diags, d)
	}
	return true
}

// setServerParam sets one parameter with its arguments. Numbers are read
// the lax way HAProxy reads them; exact is false when a number had
// trailing characters.
func setServerParam(sp *ServerParams, name string, args []string) (exact bool, err error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	exact = true
	num := func(lo, hi int) (int, error) {
		n, ok, err := parseIntLax(arg, lo, hi)
		exact = exact && ok
		return n, err
	}
	dur := func() (time.Duration, error) { return ParseTime(arg, time.Millisecond) }
	switch name {
	case "weight":
		sp.Weight, err = num(0, 256)
	case "backup":
		sp.Backup = true
	case "no-backup":
		sp.Backup = false
	case "disabled":
		sp.Disabled = true
	case "enabled":
		sp.Disabled = false
	case "cookie":
		sp.Cookie = arg
	case "maxconn":
		sp.MaxConn, err = num(0, 1<<31-1)
	case "maxqueue":
		sp.MaxQueue, err = num(0, 1<<31-1)
	case "minconn":
		sp.MinConn, err = num(0, 1<<31-1)
	case "id":
		sp.ID, err = num(1, 1<<31-1)
	case "check":
		sp.Check = true
	case "no-check":
		sp.Check = false
	case "inter":
		sp.Inter, err = positiveDuration(dur())
	case "fastinter":
		sp.FastInter, err = positiveDuration(dur())
	case "downinter":
		sp.DownInter, err = positiveDuration(dur())
	case "rise":
		sp.Rise, err = num(1, 1<<31-1)
	case "fall":
		sp.Fall, err = num(1, 1<<31-1)
	case "port":
		sp.CheckPort, err = num(1, 65535)
	case "addr":
		sp.CheckAddr = arg
	case "check-ssl":
		sp.CheckSSL = true
	case "no-check-ssl":
		sp.CheckSSL = false
	case "check-sni":
		sp.CheckSNI = arg
	case "agent-check":
		sp.AgentCheck = true
	case "no-agent-check":
		sp.AgentCheck = false
	case "agent-port":
		sp.AgentPort, err = num(1, 65535)
	case "agent-inter":
		sp.AgentInter, err = positiveDuration(dur())
	case "slowstart":
		sp.SlowStart, err = dur()
	case "on-marked-down":
		sp.OnMarkedDown, err = oneOf(arg, "shutdown-sessions")
	case "on-marked-up":
		sp.OnMarkedUp, err = oneOf(arg, "shutdown-backup-sessions")
	case "on-error":
		sp.OnError, err = oneOf(arg, "fastinter", "fail-check", "sudden-death", "mark-down")
	case "observe":
		sp.Observe, err = oneOf(arg, "none", "layer4", "layer7")
	case "error-limit":
		sp.ErrorLimit, err = num(1, 1<<31-1)
	case "ssl":
		sp.SSL = true
	case "no-ssl":
		sp.SSL = false
	case "verify":
		sp.Verify, err = oneOf(arg, "none", "required")
	case "sni":
		sp.SNI = arg
	case "ca-file":
		sp.CAFile = arg
	case "crt":
		sp.Crt = arg
	case "alpn":
		sp.ALPN = strings.Split(arg, ",")
	case "verifyhost":
		sp.VerifyHost = arg
	case "no-verifyhost":
		sp.VerifyHost = ""
	case "send-proxy":
		sp.SendProxy = true
	case "no-send-proxy":
		sp.SendProxy = false
	case "send-proxy-v2":
		sp.SendProxyV2 = true
	case "no-send-proxy-v2":
		sp.SendProxyV2 = false
	case "resolvers":
		sp.Resolvers = arg
	case "init-addr":
		sp.InitAddr = arg
	case "resolve-prefer":
		sp.ResolvePrefer, err = oneOf(arg, "ipv4", "ipv6")
	case "track":
		sp.Track = arg
	case "redir":
		sp.Redir = arg
	case "source":
		sp.Source, err = parseSource(args)
	default:
		// Accepted but not interpreted: keep it, replacing an earlier
		// occurrence (so that default-server values are overridden).
		entry := append([]string{name}, args...)
		for i, o := range sp.Other {
			if o[0] == name {
				sp.Other[i] = entry
				return true, nil
			}
		}
		sp.Other = append(sp.Other, entry)
	}
	return exact, err
}

func positiveDuration(d time.Duration, err error) (time.Duration, error) {
	if err == nil && d <= 0 {
		return 0, fmt.Errorf("must be greater than zero")
	}
	return d, err
}

func oneOf(v string, allowed ...string) (string, error) {
	if slices.Contains(allowed, v) {
		return v, nil
	}
	return "", fmt.Errorf("invalid value '%s' (expected %s)", v, strings.Join(allowed, ", "))
}

// defaultServerLine accumulates a "default-server" line.
func (b *builder) defaultServerLine(c *proxyCtx, st lex.Statement) bool {
	sp := c.p.DefaultServer.clone()
	if !b.applyServerParams(st, "default-server", "", &sp, st.Words[1:], true) {
		return false
	}
	c.p.DefaultServer = sp
	return true
}

// serverLine models "server <name> <address> [params]".
func (b *builder) serverLine(c *proxyCtx, st lex.Statement) bool {
	if len(st.Words) < 3 {
		if len(st.Words) < 2 {
			b.errorf(st.Pos, "server", "missing server name and address")
		} else {
			b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "server", Subject: st.Words[1], Message: "missing address"})
		}
		return false
	}
	name := st.Words[1]
	s, ok := b.newServer(c, st, name, st.Words[2], st.Words[3:])
	if !ok {
		return false
	}
	return b.addServer(c, st, s)
}

func (b *builder) newServer(c *proxyCtx, st lex.Statement, name, addr string, params []string) (*Server, bool) {
	fail := func(format string, args ...any) {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: st.Words[0], Subject: name, Message: fmt.Sprintf(format, args...)})
	}
	if !validProxyName(name) {
		fail("invalid server name: only letters, digits, '-', '_', '.' and ':' are allowed")
		return nil, false
	}
	network, host, port, err := SplitServerAddress(addr)
	if err != nil {
		fail("%v", err)
		return nil, false
	}
	s := &Server{Pos: st.Pos, Name: name, Address: addr, Network: network, Host: host, Port: port, Params: c.p.DefaultServer.clone()}
	if !b.applyServerParams(st, st.Words[0], name, &s.Params, params, false) {
		return nil, false
	}
	return s, true
}

func (b *builder) addServer(c *proxyCtx, st lex.Statement, s *Server) bool {
	if prev, dup := c.serverNames[s.Name]; dup {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: st.Words[0], Subject: s.Name,
			Message: fmt.Sprintf("%s '%s' already has a server named '%s' (declared at %s); use distinct names", c.p.Kind, c.p.Name, s.Name, prev)})
		return false
	}
	c.serverNames[s.Name] = st.Pos
	c.p.Servers = append(c.p.Servers, s)
	return true
}

// serverTemplateLine expands "server-template <prefix> <num|lo-hi>
// <fqdn>[:port] [params]" into servers prefix<lo> … prefix<hi>.
func (b *builder) serverTemplateLine(c *proxyCtx, st lex.Statement) bool {
	if len(st.Words) < 4 {
		b.errorf(st.Pos, "server-template", "usage: server-template <prefix> <num | lo-hi> <fqdn>[:port] [params]")
		return false
	}
	prefix, rng, addr := st.Words[1], st.Words[2], st.Words[3]
	lo, hi := 1, 0
	var err error
	if l, h, isRange := strings.Cut(rng, "-"); isRange {
		lo, err = parseInt(l, 0, 1<<31-1)
		if err == nil {
			hi, err = parseInt(h, 0, 1<<31-1)
		}
		if err == nil && hi < lo {
			err = fmt.Errorf("the range end is lower than its start")
		}
	} else {
		hi, err = parseInt(rng, 1, 1<<31-1)
	}
	if err != nil {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "server-template", Subject: prefix, Message: fmt.Sprintf("invalid server count or range '%s': %v", rng, err)})
		return false
	}
	if hi-lo >= 100000 {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "server-template", Subject: prefix, Message: fmt.Sprintf("range '%s' is too large", rng)})
		return false
	}
	// Parse the parameters once (one set of messages for the line).
	first, ok := b.newServer(c, st, prefix+strconv.Itoa(lo), addr, st.Words[4:])
	if !ok {
		return false
	}
	if first.Params.ID != 0 {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "server-template", Subject: prefix, Message: "'id' cannot be used on a server-template line"})
		return false
	}
	for n := lo; n <= hi; n++ {
		s := *first
		s.Name = prefix + strconv.Itoa(n)
		s.Params = first.Params.clone()
		if !b.addServer(c, st, &s) {
			return false
		}
	}
	return true
}

// numberServers gives every server without an explicit id the lowest free
// id, from 1, in declaration order, and reports duplicate explicit ids.
func (b *builder) numberServers(c *proxyCtx) {
	taken := map[int]*Server{}
	for _, s := range c.p.Servers {
		if id := s.Params.ID; id != 0 {
			if prev := taken[id]; prev != nil {
				b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: s.Pos, Keyword: "server", Subject: s.Name,
					Message: fmt.Sprintf("id %d is already used by server '%s' (declared at %s)", id, prev.Name, prev.Pos)})
				continue
			}
			taken[id] = s
			s.ID = id
		}
	}
	next := 1
	for _, s := range c.p.Servers {
		if s.ID != 0 {
			continue
		}
		for taken[next] != nil {
			next++
		}
		s.ID = next
		taken[next] = s
	}
}

// SplitServerAddress splits a server address into network, host and port
// the way
// HAProxy reads it: an optional "ipv4@", "ipv6@", "unix@" (or other)
// prefix, an IPv6 address in brackets or, without brackets, a port after
// the last colon ("::1" is "::" port 1; "::1:" is ::1 without a port); a
// port may be "+N"/"-N" (relative to the client's port) and may be
// absent. UNIX socket paths have no port.
func SplitServerAddress(addr string) (network, host, port string, err error) {
	network, rest, err := splitAddressFamily(addr)
	if err != nil {
		return "", "", "", err
	}
	if rest == "" {
		return "", "", "", fmt.Errorf("missing address")
	}
	if network == "abns" || network == "sockpair" || network == "fd" || network == "unix" || strings.HasPrefix(rest, "/") {
		if network == "tcp" {
			network = "unix"
		}
		return network, rest, "", nil
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return "", "", "", fmt.Errorf("missing ']' in address '%s'", addr)
		}
		host, after := rest[1:end], rest[end+1:]
		if after == "" {
			return network, host, "", nil
		}
		if !strings.HasPrefix(after, ":") {
			return "", "", "", fmt.Errorf("unexpected '%s' after ']' in address '%s'", after, addr)
		}
		port = after[1:]
		if err := checkServerPort(port, addr); err != nil {
			return "", "", "", err
		}
		return network, host, port, nil
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return network, rest, "", nil
	}
	// Without brackets the port is always after the last colon, even for
	// IPv6: "::1" is "::" port 1, and "::1:" is ::1 without a port.
	host, port = rest[:i], rest[i+1:]
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", "", "", fmt.Errorf("invalid IPv6 address '%s' in '%s' (without brackets the port follows the last colon: write [%s] or %s:)", host, addr, rest, rest)
	}
	if err := checkServerPort(port, addr); err != nil {
		return "", "", "", err
	}
	return network, host, port, nil
}

func checkServerPort(port, addr string) error {
	if port == "" {
		return nil
	}
	p := strings.TrimLeft(port, "+-")
	if len(port)-len(p) > 1 {
		return fmt.Errorf("invalid port '%s' in address '%s'", port, addr)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 || n == 0 && port == p {
		return fmt.Errorf("invalid port '%s' in address '%s'", port, addr)
	}
	return nil
}

// groupParamNotes turns the statuses of a line's parameters into one
// diagnostic per distinct note, listing the parameters it concerns:
// `option "check", "inter" ignored: health checks not run yet …`.
func groupParamNotes(notes []*Keyword) []Diagnostic {
	var out []Diagnostic
	done := map[*Keyword]bool{}
	for _, k := range notes {
		if done[k] {
			continue
		}
		var names []string
		for _, o := range notes {
			if o.Note == k.Note && o.Status == k.Status {
				done[o] = true
				names = append(names, strconv.Quote(o.Name))
			}
		}
		word := "option"
		if len(names) > 1 {
			word = "options"
		}
		d := Diagnostic{Severity: Warning, Message: fmt.Sprintf("%s %s ignored: %s", word, strings.Join(names, ", "), k.Note)}
		if k.Status == Refused {
			d.Severity = Error
			d.Message = fmt.Sprintf("%s %s not supported: %s", word, strings.Join(names, ", "), k.Note)
		}
		out = append(out, d)
	}
	return out
}
