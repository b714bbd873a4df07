package sched

import (
	"net/netip"
	"unsafe"
)

// KeyInput is the request data a Key hashes. The caller fills only what
// the key needs; nothing is copied.
type KeyInput struct {
	// Method is the request method; url_param reads the body of a POST.
	Method string
	// URI is the request target as received: origin form ("/a?b") for
	// HTTP/1, or the :path of HTTP/2 and HTTP/3 (see Scheme).
	URI string
	// Scheme, when set, marks an HTTP/2 or HTTP/3 request, which HAProxy
	// sees in absolute form: "balance uri" and "url" then hash
	// Scheme://Host + URI (use "uri path-only" to hash the same key for
	// every protocol).
	Scheme string
	// Host is the Host header or :authority (Go moves it out of Header).
	Host string
	// Header holds the request headers under canonical names, as
	// net/http's Header does.
	Header map[string][]string
	// Remote is the client's address and port.
	Remote netip.AddrPort
	// Body is the start of a POST body, for url_param.
	Body []byte
	// Payload is the start of a TCP connection's data, for rdp-cookie.
	Payload []byte
}

// Request returns the Request for in, with no server to avoid.
func (k *Key) Request(in *KeyInput) Request {
	h, ok := k.Hash(in)
	return Request{Hash: h, HasHash: ok, SingleZero: k.singleZero(in, ok), Avoid: NoServer}
}

// singleZero tells whether HAProxy skips this key (hash 0) when a single
// server is usable: it checks that before looking for the key, except for
// url_param, which always hashes, and rdp-cookie, which first needs the
// cookie.
func (k *Key) singleZero(in *KeyInput, found bool) bool {
	switch k.Kind {
	case KeyURLParam:
		return false
	case KeyRDPCookie:
		return found
	case KeySource:
		return in.Remote.Addr().IsValid()
	}
	return true
}

// Hash computes in's key hash; ok is false when the key is missing (the
// algorithm then falls back to round robin).
func (k *Key) Hash(in *KeyInput) (hash uint32, ok bool) {
	switch k.Kind {
	case KeySource:
		if !in.Remote.Addr().IsValid() {
			return 0, false
		}
		return SourceHash(in.Remote.Addr(), k.Avalanche), true
	case KeyURI:
		if in.Scheme != "" && !k.URI.PathOnly {
			var buf [512]byte
			abs := appendAbsolute(buf[:0], in)
			return k.sum(URIKey(abs, k.URI)), true
		}
		return k.sumString(URIKey(in.URI, k.URI)), true
	case KeyURLParam:
		if v, found := URLParamKey(in.URI, k.Name); found {
			return k.sumString(v), true
		}
		if in.Method == "POST" {
			if v, found := URLParamBodyKey(in.Body, k.Name); found {
				return k.sum(v), true
			}
		}
		return 0, false
	case KeyHeader:
		v, found := HeaderKey(k.header(in))
		if !found {
			return 0, false
		}
		if k.DomainOnly {
			v = DomainKey(v)
		}
		return k.sumString(v), true
	case KeyRDPCookie:
		v, found := RDPCookieKey(in.Payload, k.Name)
		if !found || len(v) == 0 {
			return 0, false
		}
		return k.sum(v), true
	case KeyExpr:
		return k.Expr.hash(k, in)
	}
	return 0, false
}

// header returns the lines of the key's header, Host included.
func (k *Key) header(in *KeyInput) []string {
	return headerLines(in, k.Name)
}

func headerLines(in *KeyInput, canonical string) []string {
	if lines, ok := in.Header[canonical]; ok {
		return lines
	}
	if canonical == "Host" && in.Host != "" {
		return hostLines(in)
	}
	return nil
}

// hostLines presents in.Host as a one-line header without allocating.
func hostLines(in *KeyInput) []string {
	return unsafe.Slice(&in.Host, 1)
}

func appendAbsolute(b []byte, in *KeyInput) []byte {
	b = append(b, in.Scheme...)
	b = append(b, "://"...)
	b = append(b, in.Host...)
	return append(b, in.URI...)
}

func (k *Key) sum(key []byte) uint32 {
	h := hashWith(k.Function, key)
	if k.Avalanche {
		h = FullHash(h)
	}
	return h
}

func (k *Key) sumString(key string) uint32 {
	h := hashWith(k.Function, key)
	if k.Avalanche {
		h = FullHash(h)
	}
	return h
}
