package l4proxy

import (
	"net"
	"net/netip"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// transparentSource is a server's usesrc: the address its connections
// come from, which is not the host's own.
type transparentSource struct {
	// mode is "client", "clientip" or "" for the fixed address.
	mode  string
	fixed *net.TCPAddr
}

func newTransparentSource(usesrc string) (*transparentSource, error) {
	switch usesrc {
	case "":
		return nil, nil
	case "client", "clientip":
		return &transparentSource{mode: usesrc}, nil
	}
	fixed, err := checks.LocalAddr(usesrc)
	if err != nil {
		return nil, err
	}
	return &transparentSource{fixed: fixed}, nil
}

// localAddr is the address a connection for client comes from; nil when
// the client's address is not an IP one.
func (s *transparentSource) localAddr(client net.Addr) *net.TCPAddr {
	if s.fixed != nil {
		return s.fixed
	}
	ap, err := netip.ParseAddrPort(client.String())
	if err != nil {
		return nil
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if s.mode == "clientip" {
		ap = netip.AddrPortFrom(ap.Addr(), 0)
	}
	return net.TCPAddrFromAddrPort(ap)
}
