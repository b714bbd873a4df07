// Package sched holds HAProxy's load-balancing algorithms as pure Go, with no
// Caddy import, so they can be tested and benchmarked alone. One file per
// algorithm, as HAProxy splits them into lb_*.c.
//
// An algorithm is built over a fixed list of servers (declaration order) and
// reads their changing state through a Pool. The caller tells it when a
// server's state or weight changed (Update), and asks it for a server
// (Pick). Indexes are positions in the server list.
//
// Typical use, with the caller's lock held around each call:
//
//	alg, err := sched.New(cfg, servers, pool)  // any "balance" algorithm
//	key, err := sched.NewKey(cfg)              // nil unless it hashes
//	req := sched.Request{Avoid: sched.NoServer}
//	if key != nil {
//		req = key.Request(&in)                 // in: the request's data
//	}
//	i := alg.Pick(req)                         // then Load(i)++, LoadChanged(i)
//	...                                        // when it ends: Load(i)--, LoadChanged(i)
//	alg.Update(i)                              // after i's state or weight changed
//
// Request.Avoid must be NoServer when no server is to be avoided: its zero
// value is the first server.
package sched

// Server is what an algorithm knows of a server that does not change at run time.
type Server struct {
	// ID is the numeric id (HAProxy's puid): explicit "id" or the position
	// from 1. Used by "first" and by consistent hashing.
	ID int
	// Backup servers are used only when no active server is usable.
	Backup bool
}

// Pool gives an algorithm the current state of each server. Implementations
// must be safe to call from Pick while holding whatever lock the caller uses
// around Pick and Update.
type Pool interface {
	// Usable reports whether server i may receive load-balanced traffic:
	// UP or in slow start, not in maintenance or drain.
	Usable(i int) bool
	// Weight returns server i's current user weight (0..256), already
	// scaled by slow start where that applies. Weight 0 takes no traffic.
	Weight(i int) int
	// Full reports whether server i has reached its connection limit (or
	// has requests waiting in its queue).
	Full(i int) bool
	// Load returns the requests server i is serving plus those queued on it.
	Load(i int) int
}

// NoServer is returned by Pick when no server can take the request; the
// caller then queues the request or answers 503.
const NoServer = -1

// Request is what a pick may depend on.
type Request struct {
	// Hash is the key hash for hash-based algorithms; HasHash is false when
	// the key is missing (HAProxy then falls back to round robin).
	Hash    uint32
	HasHash bool
	// SingleZero says that HAProxy does not look at this key when a
	// single server is usable, and uses hash 0 instead, even if the key
	// is missing: true for source, uri, hdr and hash, false for
	// url_param. Key.Request sets it.
	SingleZero bool
	// Avoid is a server to avoid (the one a retry is leaving), or NoServer.
	// It is still chosen when it is the only candidate.
	Avoid int
}

// Algorithm picks servers. Implementations are not safe for concurrent use:
// the caller serialises Pick and Update.
type Algorithm interface {
	// Pick returns the index of the chosen server, or NoServer.
	Pick(req Request) int
	// Update tells the algorithm that server i changed usability or weight.
	Update(i int)
	// LoadChanged tells the algorithm that server i's Load changed: a
	// request started or ended on it, or its queue grew or shrank. Only
	// leastconn orders servers by load; the others ignore it.
	LoadChanged(i int)
}

// EffectiveWeighter may be implemented by a Pool to give dynamic algorithms
// (roundrobin, leastconn, first, consistent hashing, random) HAProxy's
// effective weight directly: the user weight times 16, scaled by slow start
// (so 1..4096 while usable). Without it they use Weight(i)*16. Map-based
// algorithms always use Weight, since HAProxy ignores slow start for them.
type EffectiveWeighter interface {
	EffectiveWeight(i int) int
}

// Saturator may be implemented by a Pool for leastconn, which skips a server
// only when served+queued >= dynamic maxconn + maxqueue (so it may queue on
// a busy server when maxqueue is set). Without it leastconn uses Full.
type Saturator interface {
	Saturated(i int) bool
}

// Interface guards
var (
	_ Algorithm = (*RoundRobin)(nil)
	_ Algorithm = (*Map)(nil)
	_ Algorithm = (*ConsistentHash)(nil)
	_ Algorithm = (*LeastConn)(nil)
	_ Algorithm = (*First)(nil)
	_ Algorithm = (*Random)(nil)
)
