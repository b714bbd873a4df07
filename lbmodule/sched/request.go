package sched

import (
	"net/http"
	"net/netip"
)

// FillKeyInput sets in from an HTTP request as HAProxy would see it: the
// request target as received, the absolute form for HTTP/2 and HTTP/3, the
// Host, the headers and the client address. It allocates nothing; Body and
// Payload are left to the caller (see Key.NeedsBody).
func FillKeyInput(in *KeyInput, r *http.Request) {
	in.Method = r.Method
	in.URI = r.RequestURI
	if in.URI == "" && r.URL != nil {
		in.URI = r.URL.Path // a request built by a client, in tests
	}
	in.Scheme = ""
	if r.ProtoMajor >= 2 {
		in.Scheme = "http"
		if r.TLS != nil {
			in.Scheme = "https"
		}
	}
	in.Host = r.Host
	in.Header = r.Header
	in.Remote, _ = netip.ParseAddrPort(r.RemoteAddr)
}
