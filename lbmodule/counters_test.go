package lbmodule

import (
	"testing"
	"time"
)

// The rate is the current second's count plus the share of the previous
// second's still inside the last second; the max is the busiest second.
func TestRateCounter(t *testing.T) {
	var r RateCounter
	base := time.Unix(1000, 0)
	for range 10 {
		r.Add(base.Add(100 * time.Millisecond))
	}
	for range 4 {
		r.Add(base.Add(1100 * time.Millisecond))
	}
	for _, tc := range []struct {
		at        time.Duration
		rate, max int64
	}{
		{1100 * time.Millisecond, 4 + 9, 10}, // 90% of the previous second remains
		{1500 * time.Millisecond, 4 + 5, 10},
		{1999 * time.Millisecond, 4 + 1, 10}, // a share of an event counts whole
		{2500 * time.Millisecond, 2, 10},     // the previous second is now 4
		{3200 * time.Millisecond, 0, 10},
	} {
		rate, mx := r.Rate(base.Add(tc.at))
		if rate != tc.rate || mx != tc.max {
			t.Errorf("at %v: rate %d max %d, want %d %d", tc.at, rate, mx, tc.rate, tc.max)
		}
	}
}

// The average is HAProxy's sliding sum over 512 samples: nearly exact
// for the first samples (155, 186 and 274 ms average 205 in haproxy 2.6),
// and a long run of one value pulls it to within a few percent of it.
func TestTimeAverage(t *testing.T) {
	var a TimeAverage
	if avg, mx := a.Average(); avg != 0 || mx != 0 {
		t.Fatalf("empty: %d %d", avg, mx)
	}
	a.Add(10 * time.Millisecond)
	if avg, mx := a.Average(); avg != 10 || mx != 10 {
		t.Fatalf("one sample: %d %d", avg, mx)
	}
	var b TimeAverage
	for _, ms := range []time.Duration{155, 186, 274} {
		b.Add(ms * time.Millisecond)
	}
	if avg, mx := b.Average(); avg != 205 || mx != 274 {
		t.Errorf("155, 186, 274 ms: average %d max %d, haproxy shows 205 and 274", avg, mx)
	}
	for range 2000 {
		a.Add(100 * time.Millisecond)
	}
	a.Add(300 * time.Millisecond)
	if avg, mx := a.Average(); avg < 97 || avg > 101 || mx != 300 {
		t.Errorf("after 2002 samples: avg %d max %d", avg, mx)
	}
}
