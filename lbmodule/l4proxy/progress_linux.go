package l4proxy

import (
	"net"

	"golang.org/x/sys/unix"
)

// kernelProgress returns how many bytes the kernel has received on c plus
// how many the peer has acknowledged, which grows whenever data moves on
// the socket, even while a splice is blocked on it. ok is false when c is
// not a socket the kernel describes.
func kernelProgress(c net.Conn) (bytes uint64, ok bool) {
	tc, isTCP := c.(*net.TCPConn)
	if !isTCP {
		return 0, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var info *unix.TCPInfo
	ctlErr := raw.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if ctlErr != nil || err != nil {
		return 0, false
	}
	return info.Bytes_received + info.Bytes_acked, true
}
