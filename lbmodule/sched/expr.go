package sched

import (
	"fmt"
	"net/textproto"
	"strings"
)

// Expr is a sample expression of "balance hash <expr>", limited to the
// fetches commonly used there. The sample is hashed in its binary form:
// a string gives its bytes, an IPv4 address its 4 network-order bytes, an
// IPv6 address its 16 bytes, an integer 8 big-endian bytes.
type Expr struct {
	// Fetch is the canonical fetch name: req.hdr, req.fhdr, req.cook,
	// url_param, src, src_port, path, url or base.
	Fetch string
	// Arg is the fetch's argument (header, cookie or parameter name).
	Arg string
}

// ParseExpr parses a sample expression such as "req.hdr(x-user)".
func ParseExpr(s string) (Expr, error) {
	s = strings.TrimSpace(s)
	name, arg := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return Expr{}, fmt.Errorf("sample expression %q: missing ')'", s)
		}
		name, arg = s[:i], strings.TrimSpace(s[i+1:len(s)-1])
	}
	if strings.ContainsAny(name, ", ") || strings.Contains(arg, ",") {
		return Expr{}, fmt.Errorf("sample expression %q: converters and extra arguments are not supported", s)
	}
	needArg := true
	switch name {
	case "req.hdr", "hdr":
		name, arg = "req.hdr", textproto.CanonicalMIMEHeaderKey(arg)
	case "req.fhdr":
		arg = textproto.CanonicalMIMEHeaderKey(arg)
	case "req.cook", "cook":
		name = "req.cook"
	case "url_param", "urlp":
		name = "url_param"
	case "src", "src_port", "path", "url", "base":
		needArg = false
	default:
		return Expr{}, fmt.Errorf("sample fetch %q is not supported (expects req.hdr, req.fhdr, req.cook, url_param, src, src_port, path, url or base)", name)
	}
	if needArg && arg == "" {
		return Expr{}, fmt.Errorf("sample fetch %s() requires an argument", name)
	}
	if !needArg && arg != "" {
		return Expr{}, fmt.Errorf("sample fetch %s takes no argument", name)
	}
	return Expr{Fetch: name, Arg: arg}, nil
}

// String returns the expression in HAProxy syntax.
func (e Expr) String() string {
	if e.Arg == "" {
		return e.Fetch
	}
	return e.Fetch + "(" + e.Arg + ")"
}

// hash fetches the sample from in and hashes it with k's function.
func (e Expr) hash(k *Key, in *KeyInput) (uint32, bool) {
	switch e.Fetch {
	case "req.hdr":
		v, ok := lastHeaderValue(headerLines(in, e.Arg))
		return k.sumString(v), ok
	case "req.fhdr":
		lines := headerLines(in, e.Arg)
		if len(lines) == 0 {
			return 0, false
		}
		return k.sumString(trimLWS(lines[len(lines)-1])), true
	case "req.cook":
		v, ok := cookieValue(in.Header["Cookie"], e.Arg)
		return k.sumString(v), ok
	case "url_param":
		v, ok := URLParamKey(in.URI, e.Arg)
		return k.sumString(v), ok
	case "src":
		a := in.Remote.Addr().Unmap()
		switch {
		case a.Is4():
			b := a.As4()
			return k.sum(b[:]), true
		case a.Is6():
			b := a.As16()
			return k.sum(b[:]), true
		}
		return 0, false
	case "src_port":
		if !in.Remote.IsValid() {
			return 0, false
		}
		var b [8]byte
		p := in.Remote.Port()
		b[6], b[7] = byte(p>>8), byte(p)
		return k.sum(b[:]), true
	case "path":
		return k.sumString(PathOf(in.URI)), true
	case "url":
		if in.Scheme != "" {
			var buf [512]byte
			return k.sum(appendAbsolute(buf[:0], in)), true
		}
		return k.sumString(in.URI), true
	case "base":
		var buf [512]byte
		b := append(buf[:0], hostOf(in)...)
		b = append(b, PathOf(in.URI)...)
		return k.sum(b), true
	}
	return 0, false
}

// hostOf is the Host header's value, as the "base" fetch starts with.
func hostOf(in *KeyInput) string {
	if v, ok := lastHeaderValue(headerLines(in, "Host")); ok {
		return v
	}
	return ""
}
