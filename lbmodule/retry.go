package lbmodule

import (
	"context"
	"time"
)

// HAProxy's rules for retrying a request or connection whose connection to
// its server failed, shared by the HTTP policy and the TCP handler.

// RedispatchNow applies "option redispatch" to retry number n (from 1),
// which leaves server prev: without redispatch a retry stays on prev;
// with it, it moves when prev went down or into maintenance, on the
// retries the redispatch interval names, or at once when the algorithm
// does not hash and several active servers are up.
func (b *Backend) RedispatchNow(n int, prev *Server) bool {
	if !b.config.Redispatch {
		return false
	}
	if !prev.Up() || prev.AdminState() == AdminMaint || b.RedispatchRetry(n) {
		return true
	}
	// HAProxy counts random as a round-robin kind: only the hashing
	// algorithms keep a retry on its server.
	return !b.hashed && b.usableActives() > 1
}

// RedispatchRetry reports whether retry number n is one the redispatch
// interval names: every P-th retry for a positive P, and for a negative -N
// the retries that are multiples of retries+1-N (by default -1: the last).
func (b *Backend) RedispatchRetry(n int) bool {
	interval := b.config.RedispatchInterval
	if interval == 0 {
		interval = -1
	}
	if interval > 0 {
		return n%interval == 0
	}
	m := b.Retries() + 1 + interval
	return m > 0 && n%m == 0
}

// Retries is the backend's "retries" count: how many times a failed
// connection is tried again (HAProxy's default is 3).
func (b *Backend) Retries() int {
	if b.config.Retries != nil {
		return *b.config.Retries
	}
	return 3
}

// RetryTurnaround waits the backend's retry turn-around, the pause before
// a retry connects to the same server again, and reports false when ctx
// ended meanwhile.
func (b *Backend) RetryTurnaround(ctx context.Context) bool {
	d := time.Duration(b.config.RetryTurnaround)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// CountRetry counts a retry that left server prev for server next: on the
// same server it is a retry (wretr), on another one a redispatch (wredis),
// each counted on the backend and on prev. The failed attempt itself is no
// connection error (econ): as HAProxy 2.6's show stat, in HTTP and TCP
// mode alike, econ counts only a connection that failed for good.
//
// reacquired tells that the retry went through the load balancer again
// (Acquire), which counted a session on next and on the backend. As in
// HAProxy, every attempt is a session of its server (stot), but the
// backend counts the request or connection once.
func (b *Backend) CountRetry(prev, next *Server, reacquired bool) {
	if reacquired {
		b.counters.Sessions.Add(-1)
	} else {
		next.state.counters.Sessions.Add(1)
	}
	if next == prev {
		b.counters.Retries.Add(1)
		prev.state.counters.Retries.Add(1)
		return
	}
	b.counters.Redispatches.Add(1)
	prev.state.counters.Redispatches.Add(1)
}

// CountConnectError counts a connection that failed on server s after its
// retries (econ), on s and on the backend. As in HAProxy 2.6, failed
// attempts that a retry makes up for are not counted.
func (b *Backend) CountConnectError(s *Server) {
	b.counters.ConnectErrors.Add(1)
	s.state.counters.ConnectErrors.Add(1)
}
