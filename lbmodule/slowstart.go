package lbmodule

import (
	"sync"
	"time"
)

// Slow start ("slowstart <time>" on a server): after the server comes back
// into service — DOWN to UP, NOLB to UP, or out of maintenance, never at
// start-up — its effective weight grows from 1/16 of its weight to the
// whole of it over the slow start period, and its dynamic maxconn grows
// with it. HAProxy works in whole seconds: the period is rounded up to a
// second, the elapsed time is counted from the second of the transition,
// and the weight is recomputed every second.

// warmup is the slow start of one server, part of its shared runtime
// state. since is the Unix second of the transition that started it; 0
// when the server is not warming up.
type warmup struct {
	mu    sync.Mutex
	since int64
	timer *time.Timer
	// gen tells a slow start's recomputations from those of one it
	// replaced.
	gen uint64
}

// slowStartSeconds is the slow start period as HAProxy stores it: in
// seconds, rounded up.
func slowStartSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// warmupStep is how often the weight is recomputed. HAProxy asks for
// max(1000, slowstart/20) milliseconds with slowstart in seconds, so in
// practice every second.
func warmupStep(seconds int64) time.Duration {
	return time.Duration(max(1000, seconds/20)) * time.Millisecond
}

// clock returns the backend's time source.
func (b *Backend) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

// startWarmup starts s's slow start now, if it has one, replacing a slow
// start in progress, and keeps its weight up to date until the end.
func (b *Backend) startWarmup(s *Server) {
	if s.SlowStart <= 0 {
		return
	}
	w := &s.state.warmup
	w.mu.Lock()
	defer w.mu.Unlock()
	w.since = b.clock().Unix()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.gen++
	gen, name := w.gen, s.Name
	var tick func()
	tick = func() {
		// warming ends the slow start once over, even when no live
		// backend holds the server any more.
		over := !b.warming(s)
		b.changed(name)
		if over {
			return
		}
		w.mu.Lock()
		if w.since != 0 && w.gen == gen {
			w.timer = time.AfterFunc(warmupStep(s.SlowStart), tick)
		}
		w.mu.Unlock()
	}
	w.timer = time.AfterFunc(warmupStep(s.SlowStart), tick)
}

// stopWarmup ends s's slow start, as when it goes down or into
// maintenance.
func stopWarmup(s *Server) {
	w := &s.state.warmup
	w.mu.Lock()
	defer w.mu.Unlock()
	w.since = 0
	w.gen++
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// warmupElapsed returns the whole seconds s has spent in slow start and
// true, or false when it is not in slow start (or it is over, which it
// then records).
func (b *Backend) warmupElapsed(s *Server) (int64, bool) {
	if s.SlowStart <= 0 {
		return 0, false
	}
	w := &s.state.warmup
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.since == 0 {
		return 0, false
	}
	elapsed := b.clock().Unix() - w.since
	if elapsed < 0 || elapsed >= s.SlowStart {
		w.since = 0
		return 0, false
	}
	return elapsed, true
}

// warming reports whether s is in slow start (HAProxy's STARTING state).
func (b *Backend) warming(s *Server) bool {
	_, ok := b.warmupElapsed(s)
	return ok
}

// effectiveWeight is s's weight for the dynamic algorithms, in sixteenths
// (HAProxy's eweight): its user weight times 16, or during slow start
// times (16 × elapsed + period) / period, at least 1.
func (b *Backend) effectiveWeight(s *Server) int {
	w := s.Weight()
	if elapsed, ok := b.warmupElapsed(s); ok && !b.static {
		return w * int((16*elapsed+s.SlowStart)/s.SlowStart)
	}
	return w * 16
}

// warmupMaxConn scales a connection limit during slow start by the share
// of the period elapsed, keeping at least 1.
func (b *Backend) warmupMaxConn(s *Server, limit int) int {
	elapsed, ok := b.warmupElapsed(s)
	if !ok {
		return limit
	}
	ratio := int(100 * elapsed / s.SlowStart)
	return max(1, limit*ratio/100)
}

// Throttle returns how far s is through its slow start, as the stats
// page's throttle column (the effective weight as a percentage of the
// full one), and false when s is not in slow start.
func (b *Backend) Throttle(s *Server) (percent int, starting bool) {
	if !b.warming(s) || s.Weight() == 0 {
		return 0, false
	}
	return (100*b.effectiveWeight(s) + 15) / (16 * s.Weight()), true
}

// VisibleWeight is s's weight as the stats page shows it: its effective
// weight (slow start applied) in user units, rounded up.
func (b *Backend) VisibleWeight(s *Server) int {
	return (b.effectiveWeight(s) + 15) / 16
}
