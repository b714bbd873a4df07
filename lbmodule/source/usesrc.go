package source

import (
	"net"
	"net/netip"
)

// UseSrc is a parsed usesrc: where connections come from.
type UseSrc struct {
	// mode is "client", "clientip" or "" for the fixed address.
	mode  string
	fixed *net.TCPAddr
}

// ParseUseSrc reads "client", "clientip" or "ip[:port]"; "" gives nil.
func ParseUseSrc(usesrc string) (*UseSrc, error) {
	switch usesrc {
	case "":
		return nil, nil
	case "client", "clientip":
		return &UseSrc{mode: usesrc}, nil
	}
	fixed, err := Addr(usesrc)
	if err != nil {
		return nil, err
	}
	return &UseSrc{fixed: fixed}, nil
}

// LocalAddr is the address a connection for client comes from; nil when
// the client's address is not an IP one.
func (s *UseSrc) LocalAddr(client net.Addr) *net.TCPAddr {
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
