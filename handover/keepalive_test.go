package handover

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// A layer4 server's listen config says nothing about keep-alive: its
// connections get none, as HAProxy's without "option clitcpka". An HTTP
// server's config asks for it, and gets it.
func TestKeepAliveOnlyWhenAskedFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  net.ListenConfig
		want bool
	}{
		{"unset (layer4)", net.ListenConfig{}, false},
		{"enabled (HTTP)", net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{Enable: true}}, true},
		{"period", net.ListenConfig{KeepAlive: 30 * time.Second}, true},
		{"disabled", net.ListenConfig{KeepAlive: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			l := listenSharedWith(t, addr, tc.cfg)
			defer l.Close()
			dialClient(t, addr)
			c := acceptOne(t, l)
			defer c.Close()
			tcp, ok := TCPConn(c)
			if !ok {
				t.Fatalf("accepted %T, not TCP", c)
			}
			if got := keepAliveOn(t, tcp); got != tc.want {
				t.Fatalf("SO_KEEPALIVE = %v, want %v", got, tc.want)
			}
		})
	}
}

func keepAliveOn(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var optErr error
	if err := raw.Control(func(fd uintptr) {
		v, optErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	}); err != nil || optErr != nil {
		t.Fatal(err, optErr)
	}
	return v != 0
}
