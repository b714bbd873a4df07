package checks

import (
	"fmt"
	"net"
	"net/netip"
)

// LocalAddr parses the local address connections to a server come from
// (HAProxy's "source"): "ip" or "ip:port", IPv6 in brackets with a port.
// Empty returns nil: the system picks.
func LocalAddr(source string) (*net.TCPAddr, error) {
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

// dialerFrom is a dialer whose connections come from source.
func dialerFrom(source string) (net.Dialer, error) {
	local, err := LocalAddr(source)
	if err != nil {
		return net.Dialer{}, err
	}
	var d net.Dialer
	if local != nil {
		d.LocalAddr = local
	}
	return d, nil
}
