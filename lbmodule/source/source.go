// Package source decides where connections to servers come from: a local
// address (HAProxy's "source"), or an address that is not the host's own
// (HAProxy's "usesrc", transparent proxying): the client's address
// ("clientip"), its address and port ("client"), or a given one. The
// latter needs IP_TRANSPARENT (Linux, CAP_NET_ADMIN), and a network that
// routes the servers' answers back to this host.
package source

import (
	"fmt"
	"net"
	"net/netip"
)

// Addr parses the local address connections to a server come from
// (HAProxy's "source"): "ip" or "ip:port", IPv6 in brackets with a port.
// Empty returns nil: the system picks.
func Addr(source string) (*net.TCPAddr, error) {
	if source == "" {
		return nil, nil
	}
	if ap, err := netip.ParseAddrPort(source); err == nil {
		return net.TCPAddrFromAddrPort(ap), nil
	}
	addr, err := netip.ParseAddr(source)
	if err != nil {
		return nil, fmt.Errorf("source %q: want ip or ip:port", source)
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)), nil
}
