package lbmodule

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// reverse_proxy adds Via to the request and the response, and sets
// X-Forwarded-For, -Proto and -Host on the request, before the selection
// policy runs. HAProxy adds none of them unless "option forwardfor" asks
// for X-Forwarded-For. Undoing them in the policy, on the request that is
// about to be sent, costs a few map operations; header handlers configured
// around reverse_proxy cost a copy of the request header and a response
// writer wrapper per request.

// forwardedHeaders are the request headers reverse_proxy sets about the
// client.
var forwardedHeaders = [...]string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"}

// ForwardFor is HAProxy's "option forwardfor": the client's address is
// added to the request as a header line of its own, after any the request
// has.
type ForwardFor struct {
	// Header names the header; empty means X-Forwarded-For.
	Header string `json:"header,omitempty"`
	// Except lists networks (CIDR, or single addresses) whose clients get
	// no header, such as a trusted proxy in front.
	Except []string `json:"except,omitempty"`
	// IfNone adds the header only when the request has none.
	IfNone bool `json:"if_none,omitempty"`

	except []netip.Prefix
}

// provision parses the networks.
func (f *ForwardFor) provision() error {
	if f.Header == "" {
		f.Header = "X-Forwarded-For"
	}
	f.Header = http.CanonicalHeaderKey(f.Header)
	f.except = f.except[:0]
	for _, s := range f.Except {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("forward_for: except %q: not a network or address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		f.except = append(f.except, p.Masked())
	}
	return nil
}

// add adds the client's address of r to h, unless the client is excepted
// or the request has the header and IfNone is set.
func (f *ForwardFor) add(h http.Header, remoteAddr string) {
	if f.IfNone && len(h[f.Header]) > 0 {
		return
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return
	}
	host, _, _ = strings.Cut(host, "%")
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.Unmap()
		for _, p := range f.except {
			if p.Contains(addr) {
				return
			}
		}
	}
	h[f.Header] = append(h[f.Header], host)
}

// restoreRequestHeaders undoes, on r (reverse_proxy's copy of the request,
// before its first attempt), the headers reverse_proxy added: its Via line
// goes, and the X-Forwarded-* headers get the values of sent, the request
// as it reached reverse_proxy (nil when unknown: they are removed). Then
// the forwardfor header is added.
func (p *HTTPSelection) restoreRequestHeaders(r *http.Request, sent http.Header) {
	h := r.Header
	// reverse_proxy appends its Via last.
	switch via := h["Via"]; len(via) {
	case 0:
	case 1:
		delete(h, "Via")
	default:
		h["Via"] = via[: len(via)-1 : len(via)-1]
	}
	for _, name := range forwardedHeaders {
		if v, ok := sent[name]; ok {
			h[name] = v
		} else {
			delete(h, name)
		}
	}
	if p.ForwardFor != nil {
		p.ForwardFor.add(h, r.RemoteAddr)
	}
}

// noteResponseVia records where reverse_proxy will add its Via to the
// response: after the values the response header has now.
func (ex *exchange) noteResponseVia(w http.ResponseWriter) {
	if w != nil {
		ex.stripVia, ex.viaAt = true, len(w.Header()["Via"])
	}
}

// stripResponseVia removes the Via line reverse_proxy added to the final
// response header h ("1.1 Caddy", "HTTP/2.0 Caddy"), leaving those the
// server sent and those response rules set.
func (ex *exchange) stripResponseVia(h http.Header) {
	if !ex.stripVia {
		return
	}
	ex.stripVia = false
	via := h["Via"]
	if ex.viaAt >= len(via) || !strings.HasSuffix(via[ex.viaAt], " Caddy") {
		return
	}
	if len(via) == 1 {
		delete(h, "Via")
		return
	}
	h["Via"] = append(via[:ex.viaAt:ex.viaAt], via[ex.viaAt+1:]...)
}
