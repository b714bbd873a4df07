package sched

import (
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
