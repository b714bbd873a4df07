package runtimeapi

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// startApp provisions and starts a runtime API app on one socket, as a
// config load does.
func startApp(t *testing.T, address, level string) *App {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	a := &App{Listeners: []Listener{{Address: address, Level: level}}}
	if err := a.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	return a
}

// ask sends one command on a new connection and returns the answer.
func ask(path, cmd string) (string, error) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// listeningFDs returns this process's descriptors of the UNIX socket
// listening on path, from /proc.
func listeningFDs(t *testing.T, path string) []int {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip(err)
	}
	return socketFDs(path)
}

// socketFDs is listeningFDs for any goroutine.
func socketFDs(path string) []int {
	data, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return nil
	}
	inodes := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		// Num RefCount Protocol Flags Type St Inode Path; flags 00010000
		// is a listening socket.
		if len(f) == 8 && f[7] == path && f[3] == "00010000" {
			inodes[f[6]] = true
		}
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []int
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			n, _ := strconv.Atoi(e.Name())
			fds = append(fds, n)
		}
	}
	return fds
}

// inAccept reports whether a thread of this process is blocked in
// accept(2) on descriptor fd, from /proc.
func inAccept(fd int) bool {
	tasks, _ := os.ReadDir("/proc/self/task")
	want := fmt.Sprintf("%d 0x%x ", syscall.SYS_ACCEPT4, fd)
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if err == nil && strings.HasPrefix(string(b), want) {
			return true
		}
	}
	return false
}

// Caddy hands a UNIX socket to the next config through a duplicate
// descriptor, and making it puts the socket in blocking mode for a moment
// (Go's os.File.Fd). An accept loop that a client woke just then went back
// into accept(2) and sat there; when the reload's stop closed that loop's
// listener, the close waited for it, and the config load hung. The test
// puts the old config's accept loop in that state during a reload: the
// stop returns, the socket stays open, and the next client is served with
// the new config's settings.
func TestReloadWhileAcceptIsBlocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	address := "unix/" + path
	old := startApp(t, address, "operator")
	fds := listeningFDs(t, path)
	if len(fds) != 1 {
		t.Fatalf("%d descriptors for the socket, want 1", len(fds))
	}
	next := startApp(t, address, "admin")

	// Clients wake the accept loops until the old config's one goes
	// back into accept(2) in blocking mode.
	if err := syscall.SetNonblock(fds[0], false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !inAccept(fds[0]) {
		if time.Now().After(deadline) {
			t.Fatal("no accept loop is in accept(2) on the first descriptor")
		}
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		time.Sleep(time.Millisecond)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	go func() { _ = old.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// Release the accept loop so that the test can end.
		_, _ = ask(path, "show info")
		<-done
		t.Fatal("the old config's Stop did not return within 5s")
	}
	// "set server" needs admin (the new config), not operator (the old).
	out, err := ask(path, "set server nobackend/s state ready")
	if err != nil || strings.Contains(out, "Permission denied") {
		t.Fatalf("after the reload: %q, %v", out, err)
	}
	_ = next.Stop()
	if _, err := ask(path, "show info"); err == nil {
		t.Error("the socket still answers after the last config stopped")
	}
}

// Reloads replace the app serving a UNIX socket while clients keep
// connecting: every command is answered, and the socket is the one opened
// at first.
func TestReloadsKeepServingTheUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	address := "unix/" + path
	current := startApp(t, address, "admin")
	fds := listeningFDs(t, path)

	var stop atomic.Bool
	var clients sync.WaitGroup
	var answered, failed atomic.Int64
	for range 8 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for !stop.Load() {
				out, err := ask(path, "show info")
				if err != nil || !strings.Contains(out, "Name:") {
					failed.Add(1)
					continue
				}
				answered.Add(1)
			}
		}()
	}
	const reloads = 300
	for range reloads {
		next := startApp(t, address, "admin")
		_ = current.Stop()
		current = next
		if got := listeningFDs(t, path); fmt.Sprint(got) != fmt.Sprint(fds) {
			stop.Store(true)
			t.Fatalf("the socket's descriptors went from %v to %v", fds, got)
		}
		// Let some commands through between reloads.
		for n := answered.Load(); answered.Load() == n && failed.Load() == 0; {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	clients.Wait()
	_ = current.Stop()
	if got := listeningFDs(t, path); len(got) != 0 {
		t.Errorf("descriptors %v still open after the last stop", got)
	}
	if answered.Load() == 0 || failed.Load() > 0 {
		t.Fatalf("%d answered, %d failed", answered.Load(), failed.Load())
	}
	t.Logf("%d commands answered across %d reloads, one socket (descriptor %v)", answered.Load(), reloads, fds)
}
