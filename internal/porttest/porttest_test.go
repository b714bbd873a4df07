package porttest

import (
	"net"
	"os"
	"strconv"
	"testing"
)

func TestRangeIsFreeAndBelowEphemeralPorts(t *testing.T) {
	first := Range(t, 16)
	if first+16 > ephemeralLow() {
		t.Fatalf("range %d-%d reaches the ephemeral ports from %d", first, first+15, ephemeralLow())
	}
	for p := first; p < first+16; p++ {
		ln, err := net.Listen("tcp", Loopback(p))
		if err != nil {
			t.Fatalf("port %d of the range: %v", p, err)
		}
		ln.Close()
	}
	if again := Range(t, 16); again < first+16 && again+16 > first {
		t.Fatalf("second range %d overlaps the first %d", again, first)
	}
}

func TestFreeNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p := Free(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}

func TestListensTCPSeesOnlyOwnListeners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := ListensTCP(os.Getpid(), port); err != nil || !ok {
		t.Fatalf("own listener on %d: %v %v", port, ok, err)
	}
	// The parent (go test) does not listen there.
	if ok, err := ListensTCP(os.Getppid(), port); err != nil || ok {
		t.Fatalf("parent listens on %d: %v %v", port, ok, err)
	}
	// A connected socket is not a listener.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().(*net.TCPAddr).Port
	if ok, _ := ListensTCP(os.Getpid(), local); ok {
		t.Fatalf("the client port %s counted as listening", strconv.Itoa(local))
	}
}
