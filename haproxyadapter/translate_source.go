package haproxyadapter

import (
	"net/netip"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
)

// serverSource is the "source" connections to s come from: the server's
// own parameter, else the backend's line; nil when neither is written.
func serverSource(b *config.Proxy, s *config.Server) *config.Source {
	if s.Params.Source != nil {
		return s.Params.Source
	}
	return b.Source
}

// sourceAddress is src as the modules take it, "ip" or "ip:port"; empty
// when the system picks (no source, or the unspecified address on any
// port).
func sourceAddress(src *config.Source) string {
	if src == nil || src.Addr.IsUnspecified() && src.Port == 0 {
		return ""
	}
	if src.Port == 0 {
		return src.Addr.String()
	}
	return netip.AddrPortFrom(src.Addr, uint16(src.Port)).String()
}

// checkSources refuses what "source" says that the translation cannot
// do: interfaces, and usesrc with the PROXY protocol in mode http.
func (t *translator) checkSources(b *config.Proxy) {
	for _, s := range b.Servers {
		src := serverSource(b, s)
		if src == nil {
			continue
		}
		pos := src.Pos
		if s.Params.Source != nil {
			pos = s.Pos
		}
		switch {
		case src.UseSrc != "" && b.Mode == "http" && (s.Params.SendProxy || s.Params.SendProxyV2):
			t.errorf(pos, "source", "usesrc with send-proxy in mode http is not translated (server %q)", s.Name)
		case src.Interface != "":
			t.errorf(pos, "source", "interface is not translated: server %q would connect through any interface instead of %s", s.Name, src.Interface)
		}
	}
}

// httpSource is an HTTP backend's source, for its transport: the local
// address, or the usesrc, which replaces it (the address then serves
// the checks only, as in HAProxy).
func httpSource(src *config.Source) (localAddress, usesrc string) {
	if src == nil {
		return "", ""
	}
	if src.UseSrc != "" {
		return "", src.UseSrc
	}
	return sourceAddress(src), ""
}
