package lbmodule

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// fakeClock is a settable time source for slow start.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// slowBackend builds a backend whose server A has the given slow start,
// on a fake clock half-way through a second (HAProxy counts from the
// second of the transition).
func slowBackend(t *testing.T, balance string, slow time.Duration, weights ...int) (*Backend, *fakeClock) {
	t.Helper()
	cfg := BackendConfig{Balance: balance, Servers: servers(weights...)}
	cfg.Servers[0].SlowStart = caddy.Duration(slow)
	b := mustBackend(t, cfg)
	clk := new(fakeClock)
	clk.set(time.Unix(1_700_000_000, 500_000_000))
	b.now = clk.now
	t.Cleanup(func() { stopWarmup(b.Server("A")) })
	return b, clk
}

func committedEweight(b *Backend, name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lbEweight[b.Server(name).index]
}

// TestSlowStartRamp follows a 10 s slow start second by second: the
// weight multiplier is (16 × elapsed + 10) / 10, and the throttle
// percentages, 100 × eweight / (16 × weight) rounded up by 15/16ths as
// HAProxy computes them, match for the first seconds what HAProxy 2.6's
// "show stat" printed for the same server (6, 12, 25, 31).
func TestSlowStartRamp(t *testing.T) {
	b, clk := slowBackend(t, "roundrobin", 10*time.Second, 10, 10)
	a := b.Server("A")
	if th, starting := b.Throttle(a); starting || committedEweight(b, "A") != 160 {
		t.Fatalf("at start: throttle %d starting %v eweight %d, want no slow start at start-up", th, starting, committedEweight(b, "A"))
	}
	_ = b.SetOperational("A", false)
	_ = b.SetOperational("A", true)
	for _, tc := range []struct {
		elapsed  int
		eweight  int
		throttle int // 0: slow start over
	}{
		{0, 10, 6}, {1, 20, 12}, {2, 40, 25}, {3, 50, 31}, {4, 70, 43}, {5, 90, 56},
		{6, 100, 62}, {7, 120, 75}, {8, 130, 81}, {9, 150, 93}, {10, 160, 0}, {11, 160, 0},
	} {
		if tc.elapsed > 0 {
			clk.advance(time.Second)
		}
		b.changed("A")
		if got := committedEweight(b, "A"); got != tc.eweight {
			t.Errorf("after %ds: eweight %d, want %d", tc.elapsed, got, tc.eweight)
		}
		th, starting := b.Throttle(a)
		if starting != (tc.throttle > 0) || th != tc.throttle {
			t.Errorf("after %ds: throttle %d (starting %v), want %d", tc.elapsed, th, starting, tc.throttle)
		}
	}
}

// TestSlowStartSteersTraffic: the algorithms see the ramped weight. At
// the first step A (eweight 10) against B (160) takes 1 request in 17,
// give or take the position FWRR gives a server coming back.
func TestSlowStartSteersTraffic(t *testing.T) {
	for _, balance := range []string{"roundrobin", "leastconn", "first", "random"} {
		t.Run(balance, func(t *testing.T) {
			b, clk := slowBackend(t, balance, 10*time.Second, 10, 10)
			_ = b.SetOperational("A", false)
			_ = b.SetOperational("A", true)
			if got := committedEweight(b, "A"); got != 10 {
				t.Fatalf("eweight %d, want 10", got)
			}
			if balance == "roundrobin" {
				if got := strings.Count(picks(t, b, 17*20), "A"); got < 19 || got > 21 {
					t.Errorf("A took %d of 340 requests at 1/17 of the total weight, want 20±1", got)
				}
			}
			clk.advance(10 * time.Second)
			b.changed("A")
			if got := committedEweight(b, "A"); got != 160 {
				t.Errorf("after the period: eweight %d, want 160", got)
			}
		})
	}
}

// TestSlowStartStaticAlgorithm: map-based algorithms keep the full weight
// (HAProxy applies slow start to dynamic algorithms only), but maxconn is
// still throttled.
func TestSlowStartStaticAlgorithm(t *testing.T) {
	cfg := BackendConfig{Balance: "static-rr", Servers: servers(1, 1)}
	cfg.Servers[0].SlowStart = caddy.Duration(10 * time.Second)
	cfg.Servers[0].MaxConn = 10
	b := mustBackend(t, cfg)
	clk := new(fakeClock)
	clk.set(time.Unix(1_700_000_000, 0))
	b.now = clk.now
	t.Cleanup(func() { stopWarmup(b.Server("A")) })
	_ = b.SetOperational("A", false)
	_ = b.SetOperational("A", true)
	if got := picks(t, b, 4); got != "ABAB" {
		t.Errorf("static-rr during slow start: %q, want ABAB", got)
	}
	clk.advance(3 * time.Second)
	b.mu.Lock()
	limit := b.dynMaxConn(b.Server("A"))
	b.mu.Unlock()
	if limit != 3 {
		t.Errorf("maxconn 10 after 3 s of 10: %d, want 3", limit)
	}
}

// TestSlowStartMaxConn: the connection limit grows with the elapsed share
// of the period, at least 1, and queued requests get the new slots as the
// limit grows.
func TestSlowStartMaxConn(t *testing.T) {
	cfg := BackendConfig{Servers: servers(1), QueueTimeout: caddy.Duration(time.Minute)}
	cfg.Servers[0].SlowStart = caddy.Duration(4 * time.Second)
	cfg.Servers[0].MaxConn = 8
	b := mustBackend(t, cfg)
	clk := new(fakeClock)
	clk.set(time.Unix(1_700_000_000, 0))
	b.now = clk.now
	a := b.Server("A")
	t.Cleanup(func() { stopWarmup(a) })
	_ = b.SetOperational("A", false)
	_ = b.SetOperational("A", true)
	for _, tc := range []struct{ elapsed, limit int }{{0, 1}, {1, 2}, {2, 4}, {3, 6}, {4, 8}} {
		clk.set(time.Unix(1_700_000_000+int64(tc.elapsed), 0))
		b.mu.Lock()
		got := b.dynMaxConn(a)
		b.mu.Unlock()
		if got != tc.limit {
			t.Errorf("after %ds of 4: limit %d, want %d", tc.elapsed, got, tc.limit)
		}
	}

	// Back to the start of a new slow start: one slot, a second request
	// waits until the next step.
	_ = b.SetOperational("A", false)
	clk.set(time.Unix(1_700_000_100, 0))
	_ = b.SetOperational("A", true)
	first, err := b.Acquire(context.Background(), noAvoid, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err == nil {
			b.Release(s)
		}
		got <- err
	}()
	hcWait(t, "second request queued", func() bool { return b.Counters().QueueCurrent.Load() == 1 })
	clk.advance(time.Second)
	b.changed("A")
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the queued request did not get the slot the ramp added")
	}
	b.Release(first)
}

// TestSlowStartTriggers: slow start follows DOWN to UP, NOLB to UP and
// leaving maintenance, as in HAProxy; going down or into maintenance
// ends it.
func TestSlowStartTriggers(t *testing.T) {
	b, _ := slowBackend(t, "roundrobin", 10*time.Second, 1, 1)
	a := b.Server("A")
	starting := func() bool { _, s := b.Throttle(a); return s }
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"weight change", func() { _ = b.SetWeight("A", 2) }, false},
		{"down", func() { _ = b.SetOperational("A", false) }, false},
		{"up", func() { _ = b.SetOperational("A", true) }, true},
		{"down again", func() { _ = b.SetOperational("A", false) }, false},
		{"up again", func() { _ = b.SetOperational("A", true) }, true},
		{"maintenance", func() { _ = b.SetAdminState("A", AdminMaint) }, false},
		{"ready", func() { _ = b.SetAdminState("A", AdminReady) }, true},
		{"drain", func() { stopWarmup(a); _ = b.SetAdminState("A", AdminDrain) }, false},
		{"ready from drain", func() { _ = b.SetAdminState("A", AdminReady) }, false},
		{"stopping", func() { b.setCheckState(a, true, true) }, false},
		{"up from stopping", func() { b.setCheckState(a, true, false) }, true},
	}
	for _, st := range steps {
		st.do()
		if got := starting(); got != st.want {
			t.Errorf("after %s: slow start %v, want %v", st.name, got, st.want)
		}
	}
}

// TestSlowStartRealTime runs a 2 s slow start on the real clock: the
// weight goes from 1/16 to 9/16 after a second and to the whole after
// two, by itself.
func TestSlowStartRealTime(t *testing.T) {
	cfg := BackendConfig{Servers: servers(10, 10)}
	cfg.Servers[0].SlowStart = caddy.Duration(2 * time.Second)
	b := mustBackend(t, cfg)
	t.Cleanup(func() { stopWarmup(b.Server("A")) })
	_ = b.SetOperational("A", false)
	earlyInSecond(t)
	_ = b.SetOperational("A", true)
	seen := []int{committedEweight(b, "A")}
	deadline := time.Now().Add(5 * time.Second)
	for seen[len(seen)-1] != 160 {
		if time.Now().After(deadline) {
			t.Fatalf("slow start did not finish; weights seen %v", seen)
		}
		if w := committedEweight(b, "A"); w != seen[len(seen)-1] {
			seen = append(seen, w)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := fmt.Sprint(seen); got != "[10 90 160]" {
		t.Errorf("weights during a 2 s slow start: %s, want [10 90 160]", got)
	}
}

// TestSlowStartAgainstHAProxy takes a server out of maintenance on both
// sides and compares the throttle percentages each shows until its slow
// start of 3 s is over: HAProxy's "show stat" throttle column against
// Backend.Throttle.
func TestSlowStartAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test")
	}
	s1, s2 := newDiffOrigin(t, "s1"), newDiffOrigin(t, "s2")
	h := startHAProxyChecks(t, fmt.Sprintf("    server s1 %s weight 10 slowstart 3s\n    server s2 %s weight 10", s1.dial, s2.dial))
	cfg := BackendConfig{Servers: []ServerConfig{
		{Name: "s1", Dial: s1.dial, Weight: weight(10), SlowStart: caddy.Duration(3 * time.Second)},
		{Name: "s2", Dial: s2.dial, Weight: weight(10)},
	}}
	b := mustBackend(t, cfg)
	t.Cleanup(func() { stopWarmup(b.Server("s1")) })

	hThrottle := func() string {
		lines := strings.Split(strings.TrimPrefix(h.command("show stat"), "# "), "\n")
		head := strings.Split(lines[0], ",")
		for _, line := range lines[1:] {
			f := strings.Split(line, ",")
			if len(f) < len(head) || f[0] != "be" || f[1] != "s1" {
				continue
			}
			for i, n := range head {
				if n == "throttle" {
					return f[i]
				}
			}
		}
		t.Fatal("no throttle column for be/s1")
		return ""
	}
	oThrottle := func() string {
		if p, ok := b.Throttle(b.Server("s1")); ok {
			return fmt.Sprint(p)
		}
		return ""
	}
	// follow polls a side until its slow start ends and returns the
	// throttle values it went through.
	follow := func(get func() string) []string {
		var seen []string
		deadline := time.Now().Add(6 * time.Second)
		for time.Now().Before(deadline) {
			v := get()
			if v == "" {
				return seen
			}
			if len(seen) == 0 || seen[len(seen)-1] != v {
				seen = append(seen, v)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("slow start not over after 6 s: %v", seen)
		return seen
	}

	h.command("set server be/s1 state maint")
	earlyInSecond(t)
	h.command("set server be/s1 state ready")
	_ = b.SetAdminState("s1", AdminMaint)
	_ = b.SetAdminState("s1", AdminReady)
	done := make(chan []string)
	go func() { done <- follow(oThrottle) }()
	hSeen := follow(hThrottle)
	oSeen := <-done
	t.Logf("throttle steps: haproxy %v, model %v", hSeen, oSeen)
	if fmt.Sprint(hSeen) != fmt.Sprint(oSeen) || len(oSeen) != 3 {
		t.Errorf("throttle during a 3 s slow start: haproxy %v, model %v (want three steps each)", hSeen, oSeen)
	}
}

// earlyInSecond waits for the first half of a wall-clock second. Slow
// start counts whole seconds from the second of the transition but
// recomputes a second after the transition itself: a transition late in
// its second, with the recomputation a little late, would skip a step.
func earlyInSecond(t *testing.T) {
	t.Helper()
	hcWait(t, "the start of a second", func() bool { return time.Now().Nanosecond() < 400_000_000 })
}
