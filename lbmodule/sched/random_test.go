package sched

import (
	"math"
	"testing"
)

func TestRandomFollowsTheRing(t *testing.T) {
	pool := newTestPool(1, 3, 0, 4)
	r := NewRandom(testServers(4, 0), pool, false, 1, 12345)
	// Each server's share of the hash space, measured on a fine grid.
	share := make([]float64, 4)
	const grid = 1 << 20
	for i := 0; i < grid; i++ {
		share[r.ring.lookup(uint32(i)<<12, NoServer)] += 1.0 / grid
	}
	counts := make([]int, 4)
	const n = 80000
	for i := 0; i < n; i++ {
		counts[r.Pick(Request{Avoid: NoServer})]++
	}
	for i, w := range []float64{1, 3, 0, 4} {
		if want := n * share[i]; math.Abs(float64(counts[i])-want) > 0.02*n {
			t.Errorf("server %d: %d picks, want about %.0f", i, counts[i], want)
		}
		// The ring gives each server roughly its weight's share.
		if math.Abs(share[i]-w/8) > 0.35*w/8+1e-9 {
			t.Errorf("server %d: ring share %.3f, weight share %.3f", i, share[i], w/8)
		}
	}
}

func TestRandomPrefersLessLoaded(t *testing.T) {
	pool := newTestPool(1, 1, 1)
	pool.load[0] = 10
	r := NewRandom(testServers(3, 0), pool, false, 2, 99)
	const n = 30000
	busy := 0
	for i := 0; i < n; i++ {
		if r.Pick(Request{Avoid: NoServer}) == 0 {
			busy++
		}
	}
	// The busy server wins only when both draws land on it: 1/9.
	if want := n / 9; math.Abs(float64(busy-want)) > 0.2*float64(want) {
		t.Errorf("busy server picked %d times, want about %d", busy, want)
	}
}

func TestRandomFullYieldsNoServer(t *testing.T) {
	pool := newTestPool(1)
	r := NewRandom(testServers(1, 0), pool, false, 2, 1)
	pool.full[0] = true
	if got := r.Pick(Request{Avoid: NoServer}); got != NoServer {
		t.Errorf("full server picked: %d", got)
	}
	pool.full[0] = false
	if got := r.Pick(Request{Avoid: NoServer}); got != 0 {
		t.Errorf("got %d, want 0", got)
	}
}
