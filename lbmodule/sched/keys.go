package sched

import (
	"net/netip"
	"strings"
)

// The key extractors: what each hash-based "balance" hashes, as pure
// functions on the request's text. They return sub-slices of their input,
// so they allocate nothing.

// URIOptions are the options of "balance uri".
type URIOptions struct {
	// Len keeps only the first Len bytes of the URI (0: all).
	Len int
	// Depth keeps only the first Depth directories (0: all).
	Depth int
	// Whole keeps the query string.
	Whole bool
	// PathOnly drops "scheme://authority" from an absolute URI.
	PathOnly bool
}

// URIKey returns the part of the request URI that "balance uri" hashes:
// up to the (Depth+1)-th slash, before the query unless Whole, within the
// first Len bytes.
func URIKey[T bytestring](uri T, o URIOptions) T {
	if o.PathOnly {
		uri = pathOf(uri)
	}
	n := len(uri)
	if o.Len > 0 && n > o.Len {
		n = o.Len
	}
	slashes := 0
	end := 0
	for ; end < n; end++ {
		c := uri[end]
		if c == '/' {
			slashes++
			if o.Depth > 0 && slashes == o.Depth+1 {
				break
			}
		} else if c == '?' && !o.Whole {
			break
		}
	}
	return uri[:end]
}

// pathOf returns the URI from the first slash of its path, as HAProxy's
// path parser does: an origin-form URI is returned whole, an absolute one
// loses its scheme and authority, anything else gives "".
func pathOf[T bytestring](uri T) T {
	if len(uri) > 0 && uri[0] == '/' {
		return uri
	}
	// absolute form: scheme "://" authority path
	for i := 0; i+2 < len(uri); i++ {
		if uri[i] == ':' && uri[i+1] == '/' && uri[i+2] == '/' {
			for j := i + 3; j < len(uri); j++ {
				if uri[j] == '/' {
					return uri[j:]
				}
			}
			break
		}
	}
	return uri[:0]
}

// PathOf returns the path of a request URI (origin or absolute form),
// without the query: what the "path" sample fetch returns.
func PathOf[T bytestring](uri T) T {
	p := pathOf(uri)
	for i := 0; i < len(p); i++ {
		if p[i] == '?' {
			return p[:i]
		}
	}
	return p
}

// URLParamKey returns the value of the first "name=" parameter of the
// URI's query string, as "balance url_param" finds it: parameters are
// split on '&', the name is case-sensitive and must be followed by '='.
// An empty value is found (and hashed).
func URLParamKey[T bytestring](uri T, name string) (T, bool) {
	q := -1
	for i := 0; i < len(uri); i++ {
		if uri[i] == '?' {
			q = i
			break
		}
	}
	if q < 0 {
		return uri[:0], false
	}
	return paramValue(uri[q+1:], name, false)
}

// URLParamBodyKey finds the parameter in a POST body (its first data
// block), as "balance url_param ... check_post" does when the query string
// lacks it. HAProxy only checks the value's first byte: a space or line end
// there gives an empty value, any other non-token byte means the body holds
// no parameters.
func URLParamBodyKey[T bytestring](body T, name string) (T, bool) {
	return paramValue(body, name, true)
}

func paramValue[T bytestring](params T, name string, body bool) (T, bool) {
	plen := len(name)
	for len(params) > plen {
		if params[plen] == '=' && string(params[:plen]) == name {
			v := params[plen+1:]
			end := 0
			for end < len(v) && v[end] != '&' {
				if body && !isToken(v[0]) {
					if isLWS(v[0]) {
						break
					}
					return params[:0], false
				}
				end++
			}
			return v[:end], true
		}
		amp := -1
		for i := 0; i < len(params); i++ {
			if params[i] == '&' {
				amp = i
				break
			}
		}
		if amp < 0 {
			break
		}
		params = params[amp+1:]
	}
	return params[:0], false
}

func isToken(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// HeaderKey returns the first comma-separated value of a header, given its
// lines in order, trimmed of spaces: what "balance hdr(name)" hashes. ok is
// false when the header is missing or that value is empty.
func HeaderKey(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	v := lines[0]
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	v = trimLWS(v)
	return v, v != ""
}

// lastHeaderValue returns the last comma-separated value of the last line,
// as the req.hdr(name) sample fetch does.
func lastHeaderValue(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	v := lines[len(lines)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return trimLWS(v), true
}

func trimLWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// DomainKey returns the label before the last dot of a host name, as
// "hdr(...) use_domain_only" hashes it: "haproxy.1wt.eu" gives "1wt",
// "www.example.com:8080" gives "example", and a name without a dot is kept
// whole.
func DomainKey(v string) string {
	n := len(v)
	p, end := n, n
	inDomain := false
	// HAProxy scans backwards from one past the end, so the first byte
	// looked at is outside the value; it never is a dot here.
	for l := n; l > 0; l-- {
		if inDomain {
			if v[p-1] == '.' {
				break
			}
		} else if p < n && v[p] == '.' {
			end = p
			inDomain = true
		}
		p--
	}
	return v[p:end]
}

// SourceHash is what "balance source" uses: an IPv4 address as a host-order
// integer, an IPv6 one as the XOR of its four big-endian 32-bit words,
// then the avalanche when set. The hash function is ignored, as in HAProxy.
// IPv4-mapped IPv6 addresses count as IPv4.
func SourceHash(addr netip.Addr, avalanche bool) uint32 {
	var h uint32
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		h = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	} else {
		b := addr.As16()
		for i := 0; i < 16; i += 4 {
			h ^= uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		}
	}
	if avalanche {
		h = FullHash(h)
	}
	return h
}

// RDPCookieKey returns the value of the "Cookie: name=value" line of an RDP
// connection request (after the 11-byte TPKT and X.224 headers), as
// "balance rdp-cookie(name)" reads it. An empty name takes any cookie name.
func RDPCookieKey[T bytestring](payload T, name string) (T, bool) {
	none := payload[:0]
	if len(payload) <= 11 {
		return none, false
	}
	d := payload[11:]
	if len(d) <= 7 || !strings.EqualFold(string(d[:7]), "Cookie:") {
		return none, false
	}
	d = d[7:]
	for len(d) > 0 && d[0] == ' ' {
		d = d[1:]
	}
	if name != "" {
		if len(d) <= len(name) || d[len(name)] != '=' || !strings.EqualFold(string(d[:len(name)]), name) {
			return none, false
		}
		d = d[len(name)+1:]
	} else {
		i := 0
		for i < len(d) && d[i] != '=' {
			if d[i] == '\r' || d[i] == '\n' {
				return none, false
			}
			i++
		}
		if i == len(d) {
			return none, false
		}
		d = d[i+1:]
	}
	end := 0
	for end < len(d) && d[end] != '\r' {
		end++
	}
	if len(d)-end < 2 || d[end+1] != '\n' {
		return none, false
	}
	return d[:end], true
}

// cookieValue returns the value of the last cookie called name in the
// Cookie header lines, as the req.cook(name) sample fetch does.
func cookieValue(lines []string, name string) (string, bool) {
	val, found := "", false
	for _, line := range lines {
		for line != "" {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = trimLWS(part)
			eq := strings.IndexByte(part, '=')
			if eq < 0 {
				continue
			}
			if trimLWS(part[:eq]) == name {
				val, found = trimLWS(part[eq+1:]), true
			}
		}
	}
	return val, found
}
