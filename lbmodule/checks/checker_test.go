package checks

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// toggled is an HTTP origin whose health the test switches.
type toggled struct {
	healthy atomic.Bool
	hits    atomic.Int64
	addr    string
}

func newToggled(t *testing.T) *toggled {
	o := &toggled{}
	o.healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		if !o.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	o.addr = strings.TrimPrefix(srv.URL, "http://")
	return o
}

func startChecker(t *testing.T, o Options) (*Checker, chan Event) {
	t.Helper()
	events := make(chan Event, 100)
	o.OnEvent = func(e Event) { events <- e }
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Stop)
	return c, events
}

func nextEvent(t *testing.T, events chan Event, within time.Duration) Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(within):
		t.Fatalf("no check within %v", within)
	}
	return Event{}
}

// A server goes down after fall failures checked at fastinter, comes back
// after rise successes checked at downinter, and is checked at inter when
// fully up.
func TestCheckerTransitionsAndIntervals(t *testing.T) {
	o := newToggled(t)
	const slow = 1500 * time.Millisecond
	c, events := startChecker(t, Options{
		Backend: "be", Server: "s1", Dial: o.addr,
		Config: &Config{Type: TypeHTTP},
		Check: ServerConfig{Inter: Duration(slow), FastInter: Duration(20 * time.Millisecond),
			DownInter: Duration(30 * time.Millisecond), Rise: 2, Fall: 3},
	})

	// The server starts UP with health = rise; one success: fully up.
	e := nextEvent(t, events, time.Second)
	if e.Result.Code != L7OK || e.Transition != NoChange || e.State.Label() != "UP" {
		t.Fatalf("first check: %s %v %s", e.Result.Code, e.Transition, e.State.Label())
	}
	// Fully up: the next check waits inter.
	select {
	case e := <-events:
		t.Fatalf("checked again after %s while fully up with inter %v", e.Result.Code, slow)
	case <-time.After(300 * time.Millisecond):
	}
	o.healthy.Store(false)
	e = nextEvent(t, events, slow+time.Second)
	first := time.Now()
	if e.Result.Code != L7STS || e.State.Label() != "UP 2/3" {
		t.Fatalf("first failure: %s %s", e.Result.Code, e.State.Label())
	}
	fails := 1
	for e.Transition != WentDown {
		e = nextEvent(t, events, time.Second)
		fails++
	}
	if fails != 3 {
		t.Fatalf("went down after %d failures, want fall=3", fails)
	}
	if d := time.Since(first); d > time.Second {
		t.Fatalf("going down took %v: fastinter not used", d)
	}
	if got := c.Status(); got.DownTransitions != 1 || got.FailedChecks != 3 || got.Last.Code != L7STS || got.Up {
		t.Fatalf("status after down: %+v", got)
	}

	o.healthy.Store(true)
	start := time.Now()
	passes := 0
	for {
		e = nextEvent(t, events, time.Second)
		if e.Result.Code.Passed() {
			passes++
		}
		if e.Transition == WentUp {
			break
		}
	}
	if passes != 2 {
		t.Fatalf("came up after %d successes, want rise=2", passes)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("coming up took %v: downinter/fastinter not used", d)
	}
	st := c.Status()
	if !st.Up || st.Label() != "UP" || st.Downtime <= 0 || st.LastChange.Before(start) {
		t.Fatalf("status after up: %+v", st)
	}
}

// Leaving maintenance restarts the server UP with health = rise, and
// Wake checks it at once: one failure then takes it down, as in HAProxy.
func TestCheckerPausedAndResumed(t *testing.T) {
	o := newToggled(t)
	var paused atomic.Bool
	paused.Store(true)
	c, events := startChecker(t, Options{
		Backend: "be", Server: "s1", Dial: o.addr, Config: &Config{Type: TypeHTTP},
		Check:  ServerConfig{Inter: Duration(time.Hour), Rise: 2, Fall: 3, StartDown: true},
		Paused: paused.Load,
	})
	select {
	case e := <-events:
		t.Fatalf("event while paused: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
	if st := c.Status(); st.Up || st.Label() != "DOWN" {
		t.Fatalf("disabled server starts %s", st.Label())
	}
	o.healthy.Store(false)
	paused.Store(false)
	c.Wake()
	e := nextEvent(t, events, time.Second)
	if !e.Resumed || !e.State.Up || e.State.Health != 2 {
		t.Fatalf("resume event: %+v", e)
	}
	e = nextEvent(t, events, time.Second)
	if e.Result.Code != L7STS || e.Transition != WentDown {
		t.Fatalf("first check after resume: %s %v", e.Result.Code, e.Transition)
	}
}

// SetPaused alone (no Paused function) resets the state on leaving
// maintenance, however short the maintenance was.
func TestCheckerSetPaused(t *testing.T) {
	o := newToggled(t)
	c, events := startChecker(t, Options{
		Backend: "be", Server: "s1", Dial: o.addr, Config: &Config{Type: TypeHTTP},
		Check: ServerConfig{Inter: Duration(time.Hour), Rise: 2, Fall: 3},
	})
	if e := nextEvent(t, events, time.Second); e.State.Label() != "UP" {
		t.Fatalf("first check: %s", e.State.Label())
	}
	c.SetPaused(true)
	c.Wake()
	before := o.hits.Load()
	select {
	case e := <-events:
		t.Fatalf("checked in maintenance: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
	if o.hits.Load() != before {
		t.Fatal("checked in maintenance")
	}
	o.healthy.Store(false)
	c.SetPaused(false)
	if e := nextEvent(t, events, time.Second); !e.Resumed || e.State.Label() != "UP 1/3" {
		t.Fatalf("resume: %+v", e)
	}
	if e := nextEvent(t, events, time.Second); e.Transition != WentDown {
		t.Fatalf("check after resume: %s %v", e.Result.Code, e.Transition)
	}
	c.SetPaused(false) // not paused: nothing happens
	select {
	case e := <-events:
		t.Fatalf("event without a pause: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// SetPaused(false) wakes a checker that found the server in maintenance
// through Options.Paused (a server disabled in the configuration), so that
// leaving maintenance checks it at once instead of after an interval.
func TestCheckerSetPausedAfterPausedOption(t *testing.T) {
	o := newToggled(t)
	var paused atomic.Bool
	paused.Store(true)
	c, events := startChecker(t, Options{
		Backend: "be", Server: "s1", Dial: o.addr, Config: &Config{Type: TypeHTTP},
		Check:  ServerConfig{Inter: Duration(time.Hour), Rise: 2, Fall: 3, StartDown: true},
		Paused: paused.Load,
	})
	deadline := time.Now().Add(5 * time.Second)
	for !c.sawPause.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the checker never looked at the paused server")
		}
		time.Sleep(time.Millisecond) // polls the loop's first turn
	}
	paused.Store(false)
	c.SetPaused(false)
	if e := nextEvent(t, events, time.Second); !e.Resumed || !e.State.Up {
		t.Fatalf("resume event: %+v", e)
	}
	if e := nextEvent(t, events, time.Second); e.Result.Code != L7OK {
		t.Fatalf("check after resume: %s", e.Result.Code)
	}
}

// Stop abandons a check that hangs and leaves no goroutine behind.
func TestCheckerStopDuringCheck(t *testing.T) {
	accepted := make(chan struct{}, 1)
	addr := fakeServer(t, func(c net.Conn) {
		accepted <- struct{}{}
		hang(c)
	})
	before := runtime.NumGoroutine()
	c, err := New(Options{Backend: "be", Server: "s", Dial: addr, Config: &Config{Type: TypeHTTP},
		Check: ServerConfig{Inter: Duration(time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	<-accepted
	if !c.Status().InProgress {
		t.Fatal("check not shown in progress")
	}
	done := make(chan struct{})
	go func() { c.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Stop did not return while a check hung")
	}
	c.Stop() // again: no effect
	// The checker's goroutine and its context watcher are gone; the fake
	// server's own handler ends once the connection is closed.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Stop, %d before Start", n, before)
	}
}

func TestCheckerInitialStatusCarriesOver(t *testing.T) {
	o := newToggled(t)
	prev := Status{State: State{Health: 0, Rise: 2, Fall: 3}, DownTransitions: 4, FailedChecks: 9, Last: Result{Code: L4CON}}
	c, events := startChecker(t, Options{
		Backend: "be", Server: "s1", Dial: o.addr, Initial: &prev,
		Check: ServerConfig{Inter: Duration(20 * time.Millisecond), Rise: 3, Fall: 2},
	})
	if st := c.Status(); st.Up || st.DownTransitions != 4 || st.FailedChecks != 9 {
		t.Fatalf("carried status: %+v", st)
	}
	n := 0
	for {
		e := nextEvent(t, events, time.Second)
		n++
		if e.Transition == WentUp {
			break
		}
	}
	if n != 3 {
		t.Fatalf("came up after %d checks, want the new rise 3", n)
	}
}

func TestStopWithoutStart(t *testing.T) {
	c, err := New(Options{Dial: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	c.Stop()
	c.Start() // after Stop: does nothing
}
