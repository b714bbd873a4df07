package maxconn

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// wrapped returns a loopback listener wrapped with limit name/max.
func wrapped(t *testing.T, name string, max int) net.Listener {
	t.Helper()
	w := &ListenerWrapper{Limits: []Limit{{Name: name, Max: max}}}
	if err := w.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Cleanup() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := w.WrapListener(ln)
	t.Cleanup(func() { wl.Close() })
	return wl
}

type accepted struct {
	c   net.Conn
	err error
}

// acceptAsync runs one Accept in the background.
func acceptAsync(ln net.Listener) <-chan accepted {
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	return ch
}

// waitForSlot fills ln's limit of one with an accepted connection, dials
// a second and returns its Accept, which waits for a slot.
func waitForSlot(t *testing.T, ln net.Listener) <-chan accepted {
	t.Helper()
	dial(t, ln)
	if r := <-acceptAsync(ln); r.err != nil {
		t.Fatal(r.err)
	}
	dial(t, ln)
	return acceptAsync(ln)
}

// heldBack checks that a waiting Accept is still waiting a while later:
// the limit holds the connection back.
func heldBack(t *testing.T, waiting <-chan accepted) {
	t.Helper()
	select {
	case r := <-waiting:
		t.Fatalf("accepted over the limit: %v", r.err)
	case <-time.After(200 * time.Millisecond):
	}
}

// letIn waits for a waiting Accept to succeed, and closes the connection;
// failure says what went wrong if it does not.
func letIn(t *testing.T, waiting <-chan accepted, failure string) {
	t.Helper()
	select {
	case r := <-waiting:
		if r.err != nil {
			t.Fatal(r.err)
		}
		r.c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal(failure)
	}
}

func dial(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSharedLimitAcrossListeners: two listeners share a limit of one; the
// second connection is handed over only when the first closes.
func TestSharedLimitAcrossListeners(t *testing.T) {
	a, b := wrapped(t, t.Name(), 1), wrapped(t, t.Name(), 1)
	dial(t, a)
	first := <-acceptAsync(a)
	if first.err != nil {
		t.Fatal(first.err)
	}
	dial(t, b)
	second := acceptAsync(b)
	heldBack(t, second)
	first.c.Close()
	// Closing twice gives the slot back once.
	first.c.Close()
	letIn(t, second, "a closed connection did not free its slot")
}

// TestCloseWakesWaitingAccept: closing a listener whose Accept waits for a
// slot ends that Accept.
func TestCloseWakesWaitingAccept(t *testing.T) {
	ln := wrapped(t, t.Name(), 1)
	waiting := waitForSlot(t, ln)
	ln.Close()
	select {
	case r := <-waiting:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the waiting Accept")
	}
}

func TestProvisionRejectsBadLimits(t *testing.T) {
	for _, l := range []Limit{{Name: "", Max: 1}, {Name: "x", Max: 0}} {
		w := &ListenerWrapper{Limits: []Limit{l}}
		if err := w.Provision(caddy.Context{}); err == nil {
			t.Errorf("limit %+v accepted", l)
		}
	}
}

// TestReloadRaisesLimit: a config loaded with a higher max for the same
// limit lets a waiting connection in, and the limit lives while any config
// uses it.
func TestReloadRaisesLimit(t *testing.T) {
	ln := wrapped(t, t.Name(), 1)
	waiting := waitForSlot(t, ln)
	heldBack(t, waiting)
	next := &ListenerWrapper{Limits: []Limit{{Name: t.Name(), Max: 2}}}
	if err := next.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	defer next.Cleanup()
	letIn(t, waiting, "raising the limit did not let the waiting connection in")
}
