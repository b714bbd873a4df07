package lbmodule

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
)

func weight(w int) *int { return &w }

// servers builds server configs named A, B, C… with the given weights.
func servers(weights ...int) []ServerConfig {
	list := make([]ServerConfig, len(weights))
	for i, w := range weights {
		name := string(rune('A' + i))
		list[i] = ServerConfig{Name: name, Dial: "127.0.0.1:" + string(rune('1'+i)) + "000", Weight: weight(w)}
	}
	return list
}

func mustBackend(t *testing.T, cfg BackendConfig) *Backend {
	t.Helper()
	b, err := NewBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var noAvoid = sched.Request{Avoid: sched.NoServer}

// picks acquires and releases n times and returns the server names.
func picks(t *testing.T, b *Backend, n int) string {
	t.Helper()
	var sb strings.Builder
	for range n {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err != nil {
			t.Fatalf("after %q: %v", sb.String(), err)
		}
		sb.WriteString(s.Name)
		b.Release(s)
	}
	return sb.String()
}

func TestBackendRoundRobinSequence(t *testing.T) {
	b := mustBackend(t, BackendConfig{Backend: "web", Servers: servers(5, 3, 1)})
	if got, want := picks(t, b, 18), "AABACBAAB"+"AABACBAAB"; got != want {
		t.Fatalf("sequence %s, want %s", got, want)
	}
	for _, c := range []struct {
		name  string
		total int64
	}{{"A", 10}, {"B", 6}, {"C", 2}} {
		cn := b.Server(c.name).Counters()
		if got := cn.Total.Load(); got != c.total {
			t.Errorf("%s lbtot %d, want %d", c.name, got, c.total)
		}
		if got := cn.Current.Load(); got != 0 {
			t.Errorf("%s current %d after release, want 0", c.name, got)
		}
		if got := cn.Max.Load(); got != 1 {
			t.Errorf("%s max %d, want 1", c.name, got)
		}
	}
	if got := b.Counters().Total.Load(); got != 18 {
		t.Errorf("backend lbtot %d, want 18", got)
	}
}

func TestBackendAdminStates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     BackendConfig
		changes func(b *Backend) error
		want    string
	}{
		{
			name:    "drain leaves the rotation",
			cfg:     BackendConfig{Servers: servers(1, 1, 1)},
			changes: func(b *Backend) error { return b.SetAdminState("B", AdminDrain) },
			want:    "ACACAC",
		},
		{
			name:    "maint leaves the rotation",
			cfg:     BackendConfig{Servers: servers(1, 1, 1)},
			changes: func(b *Backend) error { return b.SetAdminState("A", AdminMaint) },
			want:    "BCBCBC",
		},
		{
			// FWRR places a returning server ahead of the current
			// position, so B goes first.
			name: "ready brings it back",
			cfg:  BackendConfig{Servers: servers(1, 1)},
			changes: func(b *Backend) error {
				if err := b.SetAdminState("A", AdminMaint); err != nil {
					return err
				}
				return b.SetAdminState("A", AdminReady)
			},
			want: "BABABA",
		},
		{
			name: "config disabled starts in maint",
			cfg: BackendConfig{Servers: []ServerConfig{
				{Name: "A", Dial: "a:1", Disabled: true}, {Name: "B", Dial: "b:1"},
			}},
			want: "BBBB",
		},
		{
			name: "down leaves the rotation",
			cfg:  BackendConfig{Servers: servers(1, 1, 1)},
			changes: func(b *Backend) error {
				return b.SetOperational("C", false)
			},
			want: "ABABAB",
		},
		{
			name:    "weight zero leaves the rotation",
			cfg:     BackendConfig{Servers: servers(1, 1)},
			changes: func(b *Backend) error { return b.SetWeight("A", 0) },
			want:    "BBB",
		},
		{
			name: "first usable backup serves when all actives are in maint",
			cfg: BackendConfig{Servers: []ServerConfig{
				{Name: "A", Dial: "a:1"}, {Name: "B", Dial: "b:1"},
				{Name: "X", Dial: "x:1", Backup: true}, {Name: "Y", Dial: "y:1", Backup: true},
			}},
			changes: func(b *Backend) error {
				if err := b.SetAdminState("A", AdminMaint); err != nil {
					return err
				}
				return b.SetAdminState("B", AdminMaint)
			},
			want: "XXXX",
		},
		{
			name: "allbackups balances over every backup",
			cfg: BackendConfig{AllBackups: true, Servers: []ServerConfig{
				{Name: "A", Dial: "a:1"},
				{Name: "X", Dial: "x:1", Backup: true}, {Name: "Y", Dial: "y:1", Backup: true},
			}},
			changes: func(b *Backend) error { return b.SetAdminState("A", AdminMaint) },
			want:    "XYXY",
		},
		{
			name: "backups stay idle while an active is usable",
			cfg: BackendConfig{Servers: []ServerConfig{
				{Name: "A", Dial: "a:1"}, {Name: "B", Dial: "b:1"}, {Name: "X", Dial: "x:1", Backup: true},
			}},
			changes: func(b *Backend) error { return b.SetAdminState("A", AdminDrain) },
			want:    "BBBB",
		},
		{
			name: "next backup when the first is in maint",
			cfg: BackendConfig{Servers: []ServerConfig{
				{Name: "A", Dial: "a:1", Disabled: true},
				{Name: "X", Dial: "x:1", Backup: true}, {Name: "Y", Dial: "y:1", Backup: true},
			}},
			changes: func(b *Backend) error { return b.SetAdminState("X", AdminMaint) },
			want:    "YYY",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustBackend(t, tc.cfg)
			if tc.changes != nil {
				if err := tc.changes(b); err != nil {
					t.Fatal(err)
				}
			}
			if got := picks(t, b, len(tc.want)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			// The picks use exactly the servers counted usable.
			act, bck := b.UsableCounts()
			usable := map[bool]int{}
			for _, s := range b.Servers() {
				if s.Usable() {
					usable[s.Backup]++
				}
			}
			if act != usable[false] || bck != usable[true] {
				t.Fatalf("UsableCounts %d/%d, servers say %d/%d", act, bck, usable[false], usable[true])
			}
		})
	}
}

func TestBackendNoServer(t *testing.T) {
	b := mustBackend(t, BackendConfig{Servers: servers(1, 1)})
	for _, n := range []string{"A", "B"} {
		if err := b.SetAdminState(n, AdminMaint); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Acquire(context.Background(), noAvoid, nil); !errors.Is(err, ErrNoServer) {
		t.Fatalf("got %v, want ErrNoServer", err)
	}
}

func TestBackendStateErrors(t *testing.T) {
	b := mustBackend(t, BackendConfig{Backend: "web", Servers: servers(1)})
	if err := b.SetAdminState("nope", AdminMaint); err == nil || !strings.Contains(err.Error(), `no server "nope"`) {
		t.Errorf("unknown server: %v", err)
	}
	if err := b.SetWeight("A", 257); err == nil {
		t.Error("weight 257 accepted")
	}
	if _, err := ParseAdminState("sleep"); err == nil {
		t.Error("admin state sleep accepted")
	}
	for _, s := range []string{"READY", "drain", "Maint"} {
		st, err := ParseAdminState(s)
		if err != nil || !strings.EqualFold(st.String(), s) {
			t.Errorf("ParseAdminState(%q) = %v, %v", s, st, err)
		}
	}
}

func TestBackendConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  BackendConfig
		want string
	}{
		{"duplicate name", BackendConfig{Servers: []ServerConfig{{Name: "a", Dial: "x:1"}, {Name: "a", Dial: "y:1"}}}, "duplicate server name"},
		{"missing dial", BackendConfig{Servers: []ServerConfig{{Name: "a"}}}, "missing dial"},
		{"bad weight", BackendConfig{Servers: []ServerConfig{{Name: "a", Dial: "x:1", Weight: weight(300)}}}, "out of range"},
		{"duplicate id", BackendConfig{Servers: []ServerConfig{{Name: "a", Dial: "x:1", ID: 2}, {Name: "b", Dial: "y:1"}}}, "id 2 already used"},
		{"unknown balance", BackendConfig{Balance: "fastest", Servers: servers(1)}, `"fastest"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewBackend(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestBackendMaxConnSkipsFullServers(t *testing.T) {
	cfg := BackendConfig{Servers: servers(1, 1)}
	cfg.Servers[0].MaxConn = 1
	b := mustBackend(t, cfg)
	held, err := b.Acquire(context.Background(), noAvoid, nil)
	if err != nil || held.Name != "A" {
		t.Fatalf("first pick %v, %v", held, err)
	}
	// A is full: every pick goes to B while A's request is in flight.
	var got strings.Builder
	var hold []*Server
	for range 4 {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString(s.Name)
		hold = append(hold, s)
	}
	if got.String() != "BBBB" {
		t.Fatalf("with A full got %s, want BBBB", got.String())
	}
	if n := b.Server("B").Served(); n != 4 {
		t.Fatalf("B serves %d, want 4", n)
	}
	for _, s := range hold {
		b.Release(s)
	}
	b.Release(held)
}

func TestBackendQueue(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 1)}
	cfg.Servers[0].MaxConn = 1
	cfg.Servers[1].MaxConn = 1
	b := mustBackend(t, cfg)
	a, _ := b.Acquire(context.Background(), noAvoid, nil)
	bb, _ := b.Acquire(context.Background(), noAvoid, nil)
	if a.Name == bb.Name {
		t.Fatalf("both picks on %s", a.Name)
	}

	// Two requests queue, in order.
	type result struct {
		n int
		s *Server
	}
	results := make(chan result, 2)
	for n := range 2 {
		go func() {
			s, err := b.Acquire(context.Background(), noAvoid, nil)
			if err != nil {
				t.Error(err)
			}
			results <- result{n, s}
		}()
		waitFor(t, func() bool { return b.Counters().QueueCurrent.Load() == int64(n+1) })
	}
	if got := b.Counters().QueueMax.Load(); got != 2 {
		t.Errorf("queue max %d, want 2", got)
	}

	// Each freed slot goes to the oldest waiter, on the freed server.
	b.Release(bb)
	r := <-results
	if r.n != 0 || r.s != bb {
		t.Fatalf("first grant went to waiter %d on %s, want waiter 0 on %s", r.n, r.s.Name, bb.Name)
	}
	b.Release(a)
	r = <-results
	if r.n != 1 || r.s != a {
		t.Fatalf("second grant went to waiter %d on %s, want waiter 1 on %s", r.n, r.s.Name, a.Name)
	}
	if got := b.Counters().QueueCurrent.Load(); got != 0 {
		t.Errorf("queue %d after grants, want 0", got)
	}
	// The queued requests got their server from the queue, not the load
	// balancer: lbtot counts the first two only, sessions all four.
	if got := b.Counters().Total.Load(); got != 2 {
		t.Errorf("backend lbtot %d, want 2", got)
	}
	if got := b.Counters().Sessions.Load(); got != 4 {
		t.Errorf("backend sessions %d, want 4", got)
	}
	b.Release(bb)
	b.Release(a)
	if got := b.Counters().Current.Load(); got != 0 {
		t.Errorf("backend current %d, want 0", got)
	}
}

func TestBackendQueueTimeoutAndCancel(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(20 * time.Millisecond), Servers: servers(1)}
	cfg.Servers[0].MaxConn = 1
	b := mustBackend(t, cfg)
	held, _ := b.Acquire(context.Background(), noAvoid, nil)

	start := time.Now()
	if _, err := b.Acquire(context.Background(), noAvoid, nil); !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("got %v, want ErrQueueTimeout", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("gave up after %v, before the queue timeout", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx, noAvoid, nil)
		errc <- err
	}()
	waitFor(t, func() bool { return b.Counters().QueueCurrent.Load() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := b.Counters().QueueCurrent.Load(); got != 0 {
		t.Fatalf("abandoned waiter still queued (%d)", got)
	}
	b.Release(held)
	if s, err := b.Acquire(context.Background(), noAvoid, nil); err != nil || s != held {
		t.Fatalf("after release got %v, %v", s, err)
	}
}

// When the servers holding queued requests go to maintenance and none is
// left, the queued requests get ErrNoServer instead of waiting.
func TestBackendQueueFailsWhenNoServerLeft(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1)}
	cfg.Servers[0].MaxConn = 1
	b := mustBackend(t, cfg)
	held, _ := b.Acquire(context.Background(), noAvoid, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := b.Acquire(context.Background(), noAvoid, nil)
		errc <- err
	}()
	waitFor(t, func() bool { return b.Counters().QueueCurrent.Load() == 1 })
	if err := b.SetAdminState("A", AdminMaint); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrNoServer) {
		t.Fatalf("got %v, want ErrNoServer", err)
	}
	b.Release(held)
}

// A server coming back from maintenance takes the requests queued on the
// backend.
func TestBackendQueueServedByReturningServer(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 1)}
	cfg.Servers[0].MaxConn = 1
	cfg.Servers[1].MaxConn = 1
	cfg.Servers[1].Disabled = true
	b := mustBackend(t, cfg)
	held, _ := b.Acquire(context.Background(), noAvoid, nil)
	got := make(chan *Server, 1)
	go func() {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	waitFor(t, func() bool { return b.Counters().QueueCurrent.Load() == 1 })
	if err := b.SetAdminState("B", AdminReady); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s == nil || s.Name != "B" {
		t.Fatalf("queued request went to %v, want B", s)
	}
	b.Release(held)
}

type vetoSet map[string]bool

func (v vetoSet) Vetoed(s *Server) bool { return v[s.Name] }

func TestBackendVeto(t *testing.T) {
	b := mustBackend(t, BackendConfig{Servers: servers(1, 1, 1)})
	veto := vetoSet{"B": true}
	var got strings.Builder
	for range 6 {
		s, err := b.Acquire(context.Background(), noAvoid, veto)
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString(s.Name)
		b.Release(s)
	}
	if strings.Contains(got.String(), "B") {
		t.Fatalf("vetoed server picked: %s", got.String())
	}
	if _, err := b.Acquire(context.Background(), noAvoid, vetoSet{"A": true, "B": true, "C": true}); !errors.Is(err, ErrNoServer) {
		t.Fatalf("all vetoed: got %v, want ErrNoServer", err)
	}
}

func TestBackendConcurrentMaxConn(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 2, 3)}
	for i := range cfg.Servers {
		cfg.Servers[i].MaxConn = 2
	}
	b := mustBackend(t, cfg)
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := map[string]int64{}
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s, err := b.Acquire(context.Background(), noAvoid, nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if n := s.Counters().Current.Load(); n > peak[s.Name] {
					peak[s.Name] = n
				}
				mu.Unlock()
				b.Release(s)
			}
		}()
	}
	wg.Wait()
	for _, s := range b.Servers() {
		if s.Counters().Max.Load() > 2 || peak[s.Name] > 2 {
			t.Errorf("%s exceeded maxconn 2: max %d", s.Name, s.Counters().Max.Load())
		}
		if s.Served() != 0 {
			t.Errorf("%s still serves %d", s.Name, s.Served())
		}
	}
	if got := b.Counters().Sessions.Load(); got != 64*50 {
		t.Errorf("sessions %d, want %d", got, 64*50)
	}
	var lbtot int64
	for _, s := range b.Servers() {
		lbtot += s.Counters().Total.Load()
	}
	if got := b.Counters().Total.Load(); got != lbtot || got > 64*50 {
		t.Errorf("backend lbtot %d, servers' sum %d, requests %d", got, lbtot, 64*50)
	}
}

func TestDynamicMaxConn(t *testing.T) {
	cfg := BackendConfig{FullConn: 100, Servers: servers(1)}
	cfg.Servers[0].MaxConn = 50
	cfg.Servers[0].MinConn = 10
	b := mustBackend(t, cfg)
	s := b.Server("A")
	for _, c := range []struct{ load, want int }{{0, 10}, {20, 10}, {40, 20}, {99, 49}, {100, 50}, {150, 50}} {
		b.counters.Current.Store(int64(c.load))
		if got := b.dynMaxConn(s); got != c.want {
			t.Errorf("backend load %d: dynamic maxconn %d, want %d", c.load, got, c.want)
		}
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	be, err := NewBackend(BackendConfig{Servers: servers(5, 3, 1)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, _ := be.Acquire(ctx, noAvoid, nil)
		be.Release(s)
	}
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// A hash pick that lands on a vetoed server falls back to round robin over
// the others.
func TestBackendVetoedHashFallsBack(t *testing.T) {
	b := mustBackend(t, BackendConfig{Balance: "source", Servers: servers(1, 1, 1)})
	req := noAvoid
	req.Hash, req.HasHash = 7, true
	s, err := b.Acquire(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Release(s)
	for range 6 {
		got, err := b.Acquire(context.Background(), req, vetoSet{s.Name: true})
		if err != nil {
			t.Fatal(err)
		}
		if got == s {
			t.Fatalf("vetoed %s picked", s.Name)
		}
		b.Release(got)
	}
}

func TestBackendAcquireServer(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 1)}
	cfg.Servers[0].MaxConn = 1
	cfg.Servers[0].MaxQueue = 1
	b := mustBackend(t, cfg)
	a := b.Server("A")
	if err := b.AcquireServer(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.AcquireServer(context.Background(), a) }()
	waitFor(t, func() bool { return a.Queued() == 1 })
	if err := b.AcquireServer(context.Background(), a); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("past maxqueue: got %v, want ErrQueueFull", err)
	}
	// Load-balanced requests skip A while it is full.
	if s, _ := b.Acquire(context.Background(), noAvoid, nil); s.Name != "B" {
		t.Fatalf("picked %s while A is full", s.Name)
	} else {
		b.Release(s)
	}
	b.Release(a)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if a.Served() != 1 || a.Counters().Total.Load() != 0 {
		t.Fatalf("A serves %d, lbtot %d; want 1 and 0 (not load-balanced)", a.Served(), a.Counters().Total.Load())
	}
	// A waiter on a server going to maintenance is told to redispatch.
	go func() { errc <- b.AcquireServer(context.Background(), a) }()
	waitFor(t, func() bool { return a.Queued() == 1 })
	if err := b.SetAdminState("A", AdminMaint); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrNoServer) {
		t.Fatalf("got %v, want ErrNoServer", err)
	}
	b.Release(a)
}

// Admin flags as HAProxy 2.6's "show servers state" reports them after the
// same commands.
func TestAdminFlagsMatchHAProxy(t *testing.T) {
	b := mustBackend(t, BackendConfig{Servers: []ServerConfig{
		{Name: "s1", Dial: "a:1", Disabled: true}, {Name: "s2", Dial: "b:1"},
	}})
	steps := []struct {
		server string
		set    AdminState
		flags  uint32
	}{
		{"s1", -1, 0x05},
		{"s1", AdminReady, 0x04},
		{"s2", AdminMaint, 0x01},
		{"s2", AdminDrain, 0x08},
		{"s2", AdminMaint, 0x01},
		{"s2", AdminReady, 0x00},
		{"s1", AdminDrain, 0x0c},
	}
	for _, st := range steps {
		if st.set >= 0 {
			if err := b.SetAdminState(st.server, st.set); err != nil {
				t.Fatal(err)
			}
		}
		if got := b.Server(st.server).AdminFlags(); got != st.flags {
			t.Errorf("%s after %v: flags %#x, want %#x", st.server, st.set, got, st.flags)
		}
	}
}

// random draws again when its draw is vetoed, instead of queueing.
func TestBackendVetoedRandomDrawsAgain(t *testing.T) {
	b := mustBackend(t, BackendConfig{Balance: "random", QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 1, 1)})
	veto := vetoSet{"A": true, "B": true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 50 {
		s, err := b.Acquire(ctx, noAvoid, veto)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "C" {
			t.Fatalf("picked vetoed %s", s.Name)
		}
		b.Release(s)
	}
}

// A hash pick waiting for its full server goes back to the load balancer
// when that server enters maintenance, and waits for its new server within
// the time left.
func TestBackendQueuedRequestRedistributed(t *testing.T) {
	cfg := BackendConfig{Balance: "uri", QueueTimeout: caddy.Duration(time.Minute), Servers: servers(1, 1)}
	cfg.Servers[0].MaxConn = 1
	cfg.Servers[1].MaxConn = 1
	b := mustBackend(t, cfg)
	req := noAvoid
	req.Hash, req.HasHash = 12345, true
	first, err := b.Acquire(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var other *Server
	for _, s := range b.Servers() {
		if s != first {
			other = s
		}
	}
	held, err := b.Acquire(context.Background(), sched.Request{Avoid: sched.NoServer}, nil)
	if err != nil || held != other {
		t.Fatalf("second pick %v, %v; want %s", held, err, other.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx, req, nil)
		errc <- err
	}()
	waitFor(t, func() bool { return first.Queued() == 1 })
	if err := b.SetAdminState(first.Name, AdminMaint); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return first.Queued() == 0 && other.Queued() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if other.Queued() != 0 {
		t.Fatal("abandoned request still queued")
	}
	b.Release(first)
	b.Release(held)
}
