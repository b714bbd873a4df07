package lbmodule

import (
	"sync"
	"sync/atomic"
	"time"
)

// Traffic are the counters HAProxy keeps per frontend, backend and server
// besides sessions, queues and bytes. The stats page shows them; each
// kind of object fills the ones HAProxy fills for it.
type Traffic struct {
	// DeniedRequests and DeniedResponses count requests and responses
	// refused by rules (dreq, dresp).
	DeniedRequests  atomic.Int64
	DeniedResponses atomic.Int64
	// RequestErrors counts bad or aborted requests (ereq);
	// ConnectErrors failed connections to a server (econ);
	// ResponseErrors bad or missing responses (eresp).
	RequestErrors  atomic.Int64
	ConnectErrors  atomic.Int64
	ResponseErrors atomic.Int64
	// Retries counts connection retries (wretr); Redispatches retries
	// that moved to another server (wredis).
	Retries      atomic.Int64
	Redispatches atomic.Int64
	// Requests counts HTTP requests (req_tot).
	Requests atomic.Int64
	// Responses counts HTTP responses by status class: 1xx to 5xx, then
	// the others (hrsp_1xx … hrsp_5xx, hrsp_other).
	Responses [6]atomic.Int64
	// ClientAborts and ServerAborts count transfers the client or the
	// server cut short (cli_abrt, srv_abrt).
	ClientAborts atomic.Int64
	ServerAborts atomic.Int64
	// NewConnections and ReusedConnections count the connections opened
	// to servers and those reused from the pool (connect, reuse).
	NewConnections    atomic.Int64
	ReusedConnections atomic.Int64
	// LastSession is when the last session started, in Unix nanoseconds;
	// 0 for never (lastsess).
	LastSession atomic.Int64
	// SessionRate counts sessions per second (rate, rate_max);
	// RequestRate HTTP requests per second (req_rate, req_rate_max).
	SessionRate RateCounter
	RequestRate RateCounter
	// QueueTime, ConnectTime, ResponseTime and TotalTime are running
	// averages in milliseconds (qtime, ctime, rtime, ttime and their
	// maxima).
	QueueTime, ConnectTime, ResponseTime, TotalTime TimeAverage
}

// CountResponse counts one HTTP response status.
func (t *Traffic) CountResponse(status int) {
	t.Responses[responseClass(status)].Add(1)
}

// responseClass is the index of status in Traffic.Responses.
func responseClass(status int) int {
	if class := status/100 - 1; class >= 0 && class <= 4 {
		return class
	}
	return 5
}

// StartSession counts the start of a session at now: the time of the
// last session and the session rate.
func (t *Traffic) StartSession(now time.Time) {
	t.LastSession.Store(now.UnixNano())
	t.SessionRate.Add(now)
}

// RateCounter counts events per second as HAProxy's frequency counters
// do: the current one-second period's count plus the previous period's,
// weighted by the part of it still inside the last second. Max is the
// highest count of one period.
//
// Every request adds to one, so it takes no lock: the current period and
// its count share one atomic word, which an event of the current period
// increments and the first event of a later period swaps.
type RateCounter struct {
	// state is the current period, in whole seconds since the epoch, in
	// the high 32 bits and its count in the low 32.
	state atomic.Uint64
	// prev is the count of the period before the current one; max the
	// highest count of a finished period.
	prev atomic.Int64
	max  atomic.Int64
}

// Add counts one event at now.
func (r *RateCounter) Add(now time.Time) {
	p := uint64(now.Unix())
	for {
		old := r.state.Load()
		if p <= old>>32 {
			// The current period, or an event that raced with a
			// newer one's rotation: it counts in the newest.
			r.state.Add(1)
			return
		}
		if r.state.CompareAndSwap(old, p<<32|1) {
			cur := int64(uint32(old))
			if p == old>>32+1 {
				r.prev.Store(cur)
			} else {
				r.prev.Store(0)
			}
			storeMax(&r.max, cur)
			return
		}
	}
}

// Rate returns the events of the last second at now, and the highest
// count of one period.
func (r *RateCounter) Rate(now time.Time) (rate, maxRate int64) {
	st := r.state.Load()
	period, cur, prev := int64(st>>32), int64(uint32(st)), r.prev.Load()
	maxRate = max(r.max.Load(), cur)
	switch p := now.Unix(); {
	case p == period+1:
		prev, cur = cur, 0
	case p > period+1:
		prev, cur = 0, 0
	}
	remaining := int64(time.Second) - int64(now.Nanosecond())
	return cur + (prev*remaining+int64(time.Second)-1)/int64(time.Second), maxRate
}

// timeSamples is how many recent samples HAProxy's time averages span.
const timeSamples = 512

// TimeAverage is HAProxy's sliding average of durations, in
// milliseconds, over the last 512 samples, with the highest sample: a sum
// that forgets 1/512 of itself per sample, divided by the number of
// samples up to 512 (so the first averages are nearly exact, as haproxy
// shows them).
//
// Every request adds to several, so they take no lock: the sum changes by
// compare-and-swap, and a reader may see a sample counted a moment before
// its value is in the sum, as HAProxy's own readers may.
type TimeAverage struct {
	sum   atomic.Int64
	count atomic.Int64
	max   atomic.Int64
}

// Add records one sample.
func (a *TimeAverage) Add(d time.Duration) {
	ms := d.Milliseconds()
	for {
		old := a.sum.Load()
		if a.sum.CompareAndSwap(old, old+ms-(old+timeSamples-1)/timeSamples) {
			break
		}
	}
	a.count.Add(1)
	storeMax(&a.max, ms)
}

// Average returns the average and the highest sample in milliseconds,
// 0 and 0 before the first sample.
func (a *TimeAverage) Average() (avg, maxMillis int64) {
	n := min(a.count.Load(), timeSamples)
	if n == 0 {
		return 0, 0
	}
	return (a.sum.Load() + n - 1) / n, a.max.Load()
}

// outageTracker records when a backend last went up or down, how often it
// went down and for how long in total (the stats page's lastchg, chkdown
// and downtime of a BACKEND row).
type outageTracker struct {
	mu       sync.Mutex
	up       bool
	since    time.Time
	downs    int64
	downtime time.Duration
}

func (o *outageTracker) init(up bool) {
	o.mu.Lock()
	o.up, o.since = up, time.Now()
	o.mu.Unlock()
}

func (o *outageTracker) set(up bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if up == o.up {
		return
	}
	now := time.Now()
	if up {
		o.downtime += now.Sub(o.since)
	} else {
		o.downs++
	}
	o.up, o.since = up, now
}

// Outages reports when the backend's state last changed, how many times
// it lost its last usable server, and its total time without one.
func (b *Backend) Outages() (lastChange time.Time, downs int64, downtime time.Duration) {
	o := &b.outages
	o.mu.Lock()
	defer o.mu.Unlock()
	downtime = o.downtime
	if !o.up {
		downtime += time.Since(o.since)
	}
	return o.since, o.downs, downtime
}

// Open counts one more session being served: Current, Max, Sessions and
// the session rate. Counters kept outside a backend (a frontend's) use
// it; Close undoes Current.
func (c *Counters) Open() {
	c.take()
	c.StartSession(time.Now())
}

// Close counts the end of a session that Open counted.
func (c *Counters) Close() { c.Current.Add(-1) }
