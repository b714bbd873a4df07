package sched

import (
	"strings"
	"testing"
)

func TestStaticRRMaps(t *testing.T) {
	tests := []struct {
		weights []int
		cycle   string
	}{
		{[]int{1, 1, 1}, "ABC"},
		{[]int{3, 1}, "AAAB"},
		{[]int{2, 1}, "AAB"},
		{[]int{1, 2}, "ABB"},
		{[]int{3, 2}, "AABAB"},
		{[]int{5, 3, 1}, "AABABABAC"},
		{[]int{1, 1, 2}, "ACBC"},
		{[]int{2, 4, 6}, "ACBCBC"},
	}
	for _, tt := range tests {
		m := NewStaticRR(testServers(len(tt.weights), 0), newTestPool(tt.weights...), false)
		if got, want := picks(m, 2*len(tt.cycle)), strings.Repeat(tt.cycle, 2); got != want {
			t.Errorf("weights %v: got %s, want %s", tt.weights, got, want)
		}
	}
}

func TestMapHashSlot(t *testing.T) {
	m := NewMapHash(testServers(3, 0), newTestPool(1, 1, 1), false)
	// sdbm("/index.html") = 858007926, % 3 = 0: the first server.
	if got := m.Pick(Request{Hash: SDBM([]byte("/index.html")), HasHash: true, Avoid: NoServer}); got != 0 {
		t.Errorf("got server %d, want 0", got)
	}
}

func TestStaticRRSkipsFullAndAvoided(t *testing.T) {
	pool := newTestPool(1, 1, 1)
	m := NewStaticRR(testServers(3, 0), pool, false)
	pool.full[1] = true
	if got := picks(m, 4); got != "ACAC" {
		t.Errorf("with B full: got %s, want ACAC", got)
	}
	pool.full[1] = false
	// The index is back at A; avoiding A moves on to B.
	if got := m.Pick(Request{Avoid: 0}); got != 1 {
		t.Errorf("avoiding A: got %d, want 1", got)
	}
	pool.full[0], pool.full[2] = true, true
	if got := m.Pick(Request{Avoid: 1}); got != 1 {
		t.Errorf("only the avoided server left: got %d, want 1", got)
	}
}
