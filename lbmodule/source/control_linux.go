package source

import (
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Control, as a dialer's Control, lets the socket bind an address that is
// not the host's own (IP_TRANSPARENT); it needs CAP_NET_ADMIN.
func Control(network, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		level, opt := unix.SOL_IP, unix.IP_TRANSPARENT
		if strings.HasSuffix(network, "6") {
			level, opt = unix.SOL_IPV6, unix.IPV6_TRANSPARENT
		}
		err = unix.SetsockoptInt(int(fd), level, opt, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
