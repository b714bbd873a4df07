// Package netconn looks through the wrappers an accepted or dialled
// connection arrives in.
package netconn

import (
	"net"

	"github.com/mholt/caddy-l4/layer4"
)

// Unwrap returns the connection c wraps, nil when c wraps none it knows:
// a layer4 connection, TLS and the maxconn and shared-socket wrappers
// (NetConn), a PROXY protocol reader (Raw).
func Unwrap(c net.Conn) net.Conn {
	switch w := c.(type) {
	case *layer4.Connection:
		return w.Conn
	case interface{ NetConn() net.Conn }:
		return w.NetConn()
	case interface{ Raw() net.Conn }:
		return w.Raw()
	}
	return nil
}
