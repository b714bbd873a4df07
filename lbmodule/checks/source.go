package checks

import (
	"net"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// dialerFrom is a dialer whose connections come from src.
func dialerFrom(src string) (net.Dialer, error) {
	local, err := source.Addr(src)
	if err != nil {
		return net.Dialer{}, err
	}
	var d net.Dialer
	if local != nil {
		d.LocalAddr = local
	}
	return d, nil
}
