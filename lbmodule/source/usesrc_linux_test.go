package source

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
)

// Control is what lets a socket use an address the host does not
// have (here TEST-NET-1's 192.0.2.1), as usesrc needs.
func TestControlAllowsForeignAddresses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("IP_TRANSPARENT needs root (CAP_NET_ADMIN)")
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_nonlocal_bind"); err == nil && len(b) > 0 && b[0] != '0' {
		t.Skip("ip_nonlocal_bind is on: any socket may bind any address")
	}
	const foreign = "192.0.2.1:0"
	if ln, err := net.Listen("tcp4", foreign); err == nil {
		ln.Close()
		t.Skip("this host has 192.0.2.1")
	}
	lc := net.ListenConfig{Control: Control}
	ln, err := lc.Listen(t.Context(), "tcp4", foreign)
	if errors.Is(err, syscall.EPERM) {
		t.Skip("no CAP_NET_ADMIN here")
	}
	if err != nil {
		t.Fatalf("binding %s with IP_TRANSPARENT: %v", foreign, err)
	}
	ln.Close()
}

func TestLocalAddr(t *testing.T) {
	client := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 40000}
	for usesrc, want := range map[string]string{
		"clientip": "10.1.2.3:0", "client": "10.1.2.3:40000", "192.0.2.7": "192.0.2.7:0", "192.0.2.7:81": "192.0.2.7:81",
	} {
		s, err := ParseUseSrc(usesrc)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LocalAddr(client).String(); got != want {
			t.Errorf("usesrc %s: %s, want %s", usesrc, got, want)
		}
	}
	if _, err := ParseUseSrc("hdr_ip(x)"); err == nil {
		t.Error("usesrc hdr_ip(x) accepted")
	}
}
