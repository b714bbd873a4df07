package sched

// Random is HAProxy's "balance random(draws)": each draw looks a random
// number up on the consistent-hash ring (so weights count), and of two
// different servers the one with fewer requests per unit of weight is kept
// ("power of two choices" with the default 2 draws). A full winner yields
// NoServer so the request waits in the backend queue.
//
// The numbers come from a xorshift32 generator; HAProxy's own generator
// differs, so only the distribution, not the sequence, matches.
type Random struct {
	ring  *ConsistentHash
	draws int
	x     uint32
}

// NewRandom builds "balance random(draws)"; draws < 1 means 2. seed must
// not be 0 (0 picks a fixed seed).
func NewRandom(servers []Server, pool Pool, allBackups bool, draws int, seed uint32) *Random {
	if draws < 1 {
		draws = 2
	}
	if seed == 0 {
		seed = 2463534242
	}
	return &Random{ring: NewConsistentHash(servers, pool, allBackups), draws: draws, x: seed}
}

// next32 is Marsaglia's xorshift32.
func (r *Random) next32() uint32 {
	x := r.x
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	r.x = x
	return x
}

// Pick draws servers and keeps the least loaded relative to its weight.
func (r *Random) Pick(req Request) int {
	st := &r.ring.st
	curr := NoServer
	for d := r.draws; d > 0; d-- {
		prev := curr
		curr = r.ring.lookup(r.next32(), req.Avoid)
		if curr == NoServer {
			break
		}
		if prev != NoServer && prev != curr &&
			st.pool.Load(curr)*st.eweight[prev] > st.pool.Load(prev)*st.eweight[curr] {
			curr = prev
		}
	}
	if curr != NoServer && st.pool.Full(curr) {
		return NoServer
	}
	return curr
}

// Update applies a change of server i's usability or weight.
func (r *Random) Update(i int) { r.ring.Update(i) }

// LoadChanged records server i's load, for hash-balance-factor.
func (r *Random) LoadChanged(i int) { r.ring.LoadChanged(i) }
