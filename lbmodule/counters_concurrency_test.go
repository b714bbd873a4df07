package lbmodule

import (
	"sync"
	"testing"
	"time"
)

// Events added concurrently, some in a period and some in the next, are
// all counted once across the rotation: the previous and the current
// period together hold every one of them, and the maximum is the busiest
// finished period or more.
func TestRateCounterConcurrentRotation(t *testing.T) {
	const workers, perWorker = 8, 2000
	t0 := time.Unix(1_700_000_000, 0)
	t1 := t0.Add(time.Second)
	var r RateCounter
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWorker {
				// Half the workers move on to the next second halfway.
				if i%2 == 1 && j >= perWorker/2 {
					r.Add(t1)
				} else {
					r.Add(t0)
				}
			}
		}()
	}
	wg.Wait()
	// At the very start of t1's period the previous one weighs fully.
	rate, maxRate := r.Rate(t1)
	if rate != workers*perWorker {
		t.Errorf("rate %d at the rotation, want every one of the %d events", rate, workers*perWorker)
	}
	if maxRate < workers*perWorker/2 {
		t.Errorf("max %d, want at least the %d events of one period", maxRate, workers*perWorker/2)
	}
	if rate, _ := r.Rate(t1.Add(2 * time.Second)); rate != 0 {
		t.Errorf("rate %d two seconds later, want 0", rate)
	}
}

// Samples added concurrently are each applied once: the sum, the count
// and the maximum are those of the same samples added one after the
// other. Fewer than 512 equal samples keep the sum far from its steady
// state, where a lost update would show.
func TestTimeAverageConcurrentAdds(t *testing.T) {
	const workers, perWorker = 8, 40
	var concurrent, sequential TimeAverage
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				concurrent.Add(700 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for range workers * perWorker {
		sequential.Add(700 * time.Millisecond)
	}
	gotAvg, gotMax := concurrent.Average()
	wantAvg, wantMax := sequential.Average()
	if gotAvg != wantAvg || gotMax != wantMax || concurrent.sum.Load() != sequential.sum.Load() {
		t.Errorf("concurrent: average %d max %d sum %d; sequential: average %d max %d sum %d",
			gotAvg, gotMax, concurrent.sum.Load(), wantAvg, wantMax, sequential.sum.Load())
	}
	if n := concurrent.count.Load(); n != workers*perWorker {
		t.Errorf("%d samples counted, want %d", n, workers*perWorker)
	}
}

// A busy frontend's counting takes no lock: adding to a rate counter from
// every core allocates nothing and finishes.
func BenchmarkRateCounterParallel(b *testing.B) {
	var r RateCounter
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Add(time.Now())
		}
	})
}
