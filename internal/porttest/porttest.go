// Package porttest hands out TCP ports to tests and tells which ports a
// process listens on, so that a test can tell its own proxy's listener
// from somebody else's.
package porttest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// given are the ports Free and Range have handed out in this process.
var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// claim records n ports from first as handed out, unless one of them
// already is.
func claim(first, n int) bool {
	givenMu.Lock()
	defer givenMu.Unlock()
	for p := first; p < first+n; p++ {
		if given[p] {
			return false
		}
	}
	for p := first; p < first+n; p++ {
		given[p] = true
	}
	return true
}

// Free returns a TCP port that is free on every interface and that no
// other caller in this process got: the kernel may hand a port it just
// gave back out again.
func Free(t testing.TB) int {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if claim(port, 1) {
			return port
		}
	}
}

// Loopback is 127.0.0.1:port.
func Loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Range returns the first of n consecutive free ports. They are taken
// below the kernel's ephemeral range, where no outgoing connection's local
// port can sit in the middle of them.
func Range(t testing.TB, n int) int {
	t.Helper()
	low, high := 10000, ephemeralLow()
	if high-n <= low {
		low = 1024
	}
	for attempt := 0; attempt < 200; attempt++ {
		first := low + rand.IntN(high-n-low)
		if rangeFree(first, n) && claim(first, n) {
			return first
		}
	}
	t.Fatalf("found no %d consecutive free ports between %d and %d", n, low, high)
	return 0
}

// ephemeralLow is the first port the kernel picks local ports from.
func ephemeralLow() int {
	const fallback = 32768
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return fallback
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 2048 {
		return fallback
	}
	return n
}

// rangeFree reports whether every port of the range can be listened on.
func rangeFree(first, n int) bool {
	for p := first; p < first+n; p++ {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// Sockets returns the listening sockets of process pid, as "tcp/PORT" or
// "udp/PORT" (IPv4 and IPv6 alike) with how many there are of each: Caddy
// binds a second socket (SO_REUSEPORT) while a reload hands over from the
// old config to the new one. It reads /proc, so it works on Linux only.
func Sockets(pid int) (map[string]int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, fmt.Errorf("listing the sockets of process %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	sockets := map[string]int{}
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			if table == "tcp" {
				return nil, fmt.Errorf("reading the socket table: %w", err)
			}
			continue
		}
		lines := strings.Split(string(data), "\n")
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			// TCP listeners are in state 0A; a bound UDP socket is 07.
			if (strings.HasPrefix(table, "tcp") && f[3] != "0A") || (strings.HasPrefix(table, "udp") && f[3] != "07") {
				continue
			}
			_, portHex, _ := strings.Cut(f[1], ":")
			port, err := strconv.ParseUint(portHex, 16, 16)
			if err != nil {
				continue
			}
			sockets[strings.TrimSuffix(table, "6")+"/"+strconv.Itoa(int(port))]++
		}
	}
	return sockets, nil
}

// ListensTCP reports whether process pid listens on every TCP port given.
func ListensTCP(pid int, ports ...int) (bool, error) {
	sockets, err := Sockets(pid)
	if err != nil {
		return false, err
	}
	for _, p := range ports {
		if sockets["tcp/"+strconv.Itoa(p)] == 0 {
			return false, nil
		}
	}
	return true, nil
}
