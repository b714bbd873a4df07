package haproxytest

import (
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

func config(port int) string {
	return fmt.Sprintf("defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"+
		"frontend fe\n  bind 127.0.0.1:%d\n  http-request return status 200\n", port)
}

// A port somebody else listens on answers connections, but is not
// haproxy's: WaitListening must say haproxy could not bind it.
func TestWaitListeningTellsATakenPort(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port

	p := Start(t, Command(t, bin, config(taken)))
	err = p.WaitListening(taken)
	if !CannotBind(err) {
		t.Fatalf("WaitListening on a taken port: %v, want haproxy's cannot bind", err)
	}

	free := porttest.Free(t)
	p = Start(t, Command(t, bin, config(free)))
	if err := p.WaitListening(free); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", porttest.Loopback(free))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
