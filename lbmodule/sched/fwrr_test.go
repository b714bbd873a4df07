package sched

import (
	"math/rand"
	"strings"
	"testing"
)

func TestRoundRobinSequences(t *testing.T) {
	tests := []struct {
		weights []int
		cycle   string
	}{
		{[]int{1, 1, 1}, "ABC"},
		{[]int{3, 1}, "AAAB"},
		{[]int{5, 3, 1}, "AABACBAAB"},
		{[]int{1, 1, 2}, "CACB"},
		{[]int{2, 1, 4, 1, 1}, "CACBCACDE"},
		{[]int{2, 1}, "AAB"},
		{[]int{1, 2}, "BBA"},
		{[]int{4, 1, 1}, "AABAAC"},
		{[]int{10, 1}, "AAAAAAAAAAB"},
	}
	for _, tt := range tests {
		pool := newTestPool(tt.weights...)
		rr := NewRoundRobin(testServers(len(tt.weights), 0), pool, false)
		got := picks(rr, 3*len(tt.cycle))
		if want := strings.Repeat(tt.cycle, 3); got != want {
			t.Errorf("weights %v: got %s, want %s", tt.weights, got, want)
		}
	}
}

// TestRoundRobinShares checks that after each window of sum(weights)
// picks every server has had its weight's share, within one pick.
func TestRoundRobinShares(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 200; round++ {
		n := 2 + rng.Intn(12)
		w := make([]int, n)
		total := 0
		for i := range w {
			w[i] = 1 + rng.Intn(30)
			total += w[i]
		}
		rr := NewRoundRobin(testServers(n, 0), newTestPool(w...), false)
		counts := make([]int, n)
		for window := 1; window <= 5; window++ {
			for k := 0; k < total; k++ {
				counts[rr.Pick(Request{Avoid: NoServer})]++
			}
			for i := range w {
				if d := counts[i] - window*w[i]; d < -1 || d > 1 {
					t.Fatalf("weights %v after %d windows: counts %v", w, window, counts)
				}
			}
		}
	}
}

// TestRoundRobinDownAndBack checks that a server leaving takes no traffic
// and gets its share again once back.
func TestRoundRobinDownAndBack(t *testing.T) {
	pool := newTestPool(2, 1, 1)
	rr := NewRoundRobin(testServers(3, 0), pool, false)
	picks(rr, 5)
	pool.down[0] = true
	rr.Update(0)
	if got := picks(rr, 8); strings.Contains(got, "A") {
		t.Errorf("down server picked: %s", got)
	}
	pool.down[0] = false
	rr.Update(0)
	picks(rr, 8) // re-integration
	got := picks(rr, 400)
	if a := strings.Count(got, "A"); a < 190 || a > 210 {
		t.Errorf("A got %d of 400 picks after coming back, want about 200", a)
	}
	pool.down[1], pool.down[2] = true, true
	rr.Update(1)
	rr.Update(2)
	if got := picks(rr, 4); got != "AAAA" {
		t.Errorf("only A left: got %s", got)
	}
	pool.down[0] = true
	rr.Update(0)
	if got := picks(rr, 2); got != "--" {
		t.Errorf("no server left: got %s", got)
	}
}
