package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/lex"
)

// bindLine models "bind <addr>[,<addr>…] [params]": one Bind per address
// and per port of a range, sharing the parameters.
func (b *builder) bindLine(c *proxyCtx, st lex.Statement) bool {
	if len(st.Words) < 2 {
		b.errorf(st.Pos, "bind", "missing address")
		return false
	}
	addrList := st.Words[1]
	fail := func(format string, args ...any) {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "bind", Subject: addrList, Message: fmt.Sprintf(format, args...)})
	}
	var tmpl Bind
	tmpl.Pos = st.Pos
	tmpl.Params = slices.Clone(st.Words[2:])
	if !b.applyBindParams(st, addrList, &tmpl, st.Words[2:]) {
		return false
	}
	var binds []*Bind
	for _, a := range strings.Split(addrList, ",") {
		pb, err := ParseBindAddress(a)
		if err != nil {
			fail("%v", err)
			return false
		}
		bd := tmpl
		bd.Address, bd.Host, bd.Network, bd.PortLow, bd.PortHigh = pb.Address, pb.Host, pb.Network, pb.PortLow, pb.PortHigh
		bd.Certs, bd.CrtLists, bd.ALPN = slices.Clone(tmpl.Certs), slices.Clone(tmpl.CrtLists), slices.Clone(tmpl.ALPN)
		binds = append(binds, &bd)
	}
	c.p.Binds = append(c.p.Binds, binds...)
	return true
}

// ParseBindAddress reads one address of a bind line (no commas): an
// optional family prefix, then a UNIX path, "[ipv6]:port", or
// "host:port" with the port after the last colon; the port may be a range
// "lo-hi". Only the address fields of the returned Bind are set.
func ParseBindAddress(addr string) (*Bind, error) {
	network, rest, err := splitAddressFamily(addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" || network == "abns" || network == "fd" || network == "sockpair" || strings.HasPrefix(rest, "/") {
		if rest == "" {
			return nil, fmt.Errorf("missing socket path in '%s'", addr)
		}
		if network == "tcp" {
			network = "unix"
		}
		return &Bind{Address: addr, Host: rest, Network: network}, nil
	}
	var host, ports string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return nil, fmt.Errorf("missing ']' in address '%s'", addr)
		}
		host = rest[1:end]
		after := rest[end+1:]
		if !strings.HasPrefix(after, ":") {
			return nil, fmt.Errorf("missing port in address '%s'", addr)
		}
		ports = after[1:]
		if network == "tcp" {
			network = "tcp6"
		}
	} else {
		i := strings.LastIndex(rest, ":")
		if i < 0 {
			return nil, fmt.Errorf("missing port in address '%s' (write '%s:<port>' or ':<port>')", addr, rest)
		}
		host, ports = rest[:i], rest[i+1:]
		if strings.Contains(host, ":") && network == "tcp" {
			network = "tcp6"
		}
	}
	if host == "*" || host == "0.0.0.0" {
		host = ""
	}
	if ports == "" {
		return nil, fmt.Errorf("missing port in address '%s'", addr)
	}
	lo, hi, err := portRange(ports)
	if err != nil {
		return nil, fmt.Errorf("invalid port '%s' in address '%s': %v", ports, addr, err)
	}
	// A range stays one Bind: callers open one socket per port of
	// PortLow..PortHigh.
	return &Bind{Address: addr, Host: host, Network: network, PortLow: lo, PortHigh: hi}, nil
}

func portRange(s string) (lo, hi int, err error) {
	l, h, isRange := strings.Cut(s, "-")
	lo, err = parseInt(l, 1, 65535)
	if err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		hi, err = parseInt(h, 1, 65535)
		if err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range end %d is lower than its start %d", hi, lo)
		}
	}
	return lo, hi, nil
}

var tlsVersions = []string{"SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// applyBindParams parses the parameters of a bind line onto bd and reports
// their status.
func (b *builder) applyBindParams(st lex.Statement, subject string, bd *Bind, words []string) bool {
	ok := true
	fail := func(format string, args ...any) {
		b.diags = append(b.diags, Diagnostic{Severity: Error, Pos: st.Pos, Keyword: "bind", Subject: subject, Message: fmt.Sprintf(format, args...)})
		ok = false
	}
	var notes []*Keyword
	for i := 0; i < len(words); i++ {
		w := words[i]
		k, allowed := LookupKeyword("bind", []string{w})
		if k == nil || !allowed {
			fail("unknown option %q%s", w, didYouMean(suggest(w, keywordsIn(InBind, "")), '"'))
			break
		}
		arg := ""
		if k.Args > 0 {
			if i+1 >= len(words) {
				fail("option %q needs an argument", w)
				continue
			}
			arg = words[i+1]
			i++
		}
		var err error
		switch w {
		case "ssl":
			bd.SSL = true
		case "crt":
			bd.Certs = append(bd.Certs, arg)
		case "crt-list":
			bd.CrtLists = append(bd.CrtLists, arg)
		case "alpn":
			bd.ALPN = strings.Split(arg, ",")
		case "accept-proxy":
			bd.AcceptProxy = true
		case "name":
			bd.Name = arg
		case "id":
			bd.ID, err = parseInt(arg, 1, 1<<31-1)
		case "maxconn":
			bd.MaxConn, err = parseInt(arg, 0, 1<<31-1)
		case "ca-file":
			bd.CAFile = arg
		case "verify":
			bd.Verify, err = oneOf(arg, "none", "optional", "required")
		case "strict-sni":
			bd.StrictSNI = true
		case "ssl-min-ver":
			bd.SSLMinVer, err = oneOf(arg, tlsVersions...)
		case "ssl-max-ver":
			bd.SSLMaxVer, err = oneOf(arg, tlsVersions...)
		case "v4v6":
			bd.V4V6 = true
		case "v6only":
			bd.V6Only = true
		case "proto":
			bd.Proto = arg
		case "backlog":
			_, err = parseInt(arg, 0, 1<<31-1)
		case "mode":
			if _, perr := strconv.ParseUint(arg, 8, 32); perr != nil {
				err = fmt.Errorf("invalid octal permissions '%s'", arg)
			}
		}
		if err != nil {
			fail("option %q: %v", w, err)
			continue
		}
		if k.Status != Translated && !slices.Contains(notes, k) {
			notes = append(notes, k)
		}
	}
	if !ok {
		return false
	}
	for _, d := range groupParamNotes(notes) {
		d.Pos, d.Keyword, d.Subject = st.Pos, "bind", subject
		b.diags = append(b.diags, d)
	}
	return true
}

// splitAddressFamily reads an address's optional family prefix ("ipv4@",
// "ipv6@", "unix@" …), shared by bind and server addresses, and returns
// the network it names ("tcp" without a prefix) and the rest.
func splitAddressFamily(addr string) (network, rest string, err error) {
	network, rest = "tcp", addr
	i := strings.Index(rest, "@")
	if i < 0 || strings.ContainsAny(rest[:i], "/:[") {
		return network, rest, nil
	}
	family := rest[:i]
	rest = rest[i+1:]
	switch family {
	case "ipv4", "tcp4":
		network = "tcp4"
	case "ipv6", "tcp6":
		network = "tcp6"
	case "tcp":
	case "unix", "abns", "fd", "sockpair", "quic4", "quic6", "udp", "udp4", "udp6":
		network = family
	default:
		return "", "", fmt.Errorf("unknown address family '%s@' in '%s'", family, addr)
	}
	return network, rest, nil
}
