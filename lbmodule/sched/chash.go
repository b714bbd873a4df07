package sched

// ConsistentHash is HAProxy's consistent hashing ring (lb_chash.c), used by
// the hash-based algorithms with "hash-type consistent" and by random.
//
// Server i owns eweight points (user weight × 16), point j at
// FullHash(id×4096 + j), so every load balancer with the same server ids
// builds the same ring. A key goes to the nearer of the points around its
// hash (the one before on a tie); a missing key walks the ring point by
// point, which gives a weighted round robin.
type ConsistentHash struct {
	st    lbState
	nodes []treeNode
	owner []int32   // point → server
	pts   [][]int32 // server → its points, in order of j
	now   []int     // points of each server currently on the ring
	seq   uint64
	act   tree
	bck   tree
	// last is the point the round-robin walk stopped at, or nilNode. It
	// may belong to the other group's ring, as in HAProxy.
	last int32
	// balanceFactor is hash-balance-factor: a server may take at most
	// this percentage of the average load (0: no limit).
	balanceFactor int
	loads         []int // each server's Load as last reported
	served        int   // their sum
	// Sorted copies of the rings for hash lookups: a binary search over
	// an array beats walking the tree. Rebuilt after a change.
	actSnap, bckSnap ringSnapshot
}

// ringSnapshot is a ring's points in key order, with a bucket index.
type ringSnapshot struct {
	keys []uint32
	srv  []int32
	// index[b] is the first position whose key's top bits are >= b, so a
	// lookup searches one bucket: ring keys are uniform (FullHash).
	index []int32
	shift uint
	stale bool
}

// indexBits is the bucket count's log2 for n points: about one point per
// bucket, at most a million buckets.
func indexBits(n int) uint {
	bits := uint(1)
	for 1<<bits < n && bits < 20 {
		bits++
	}
	return bits
}

func indexSize(n int) int { return 1<<indexBits(n) + 1 }

// rebuildIndex sizes the buckets to about one point each.
func (s *ringSnapshot) rebuildIndex() {
	bits := indexBits(len(s.keys))
	s.shift = 32 - bits
	nb := 1 << bits
	if cap(s.index) < nb+1 {
		s.index = make([]int32, nb+1)
	}
	s.index = s.index[:nb+1]
	p := 0
	for b := 0; b <= nb; b++ {
		for p < len(s.keys) && uint64(s.keys[p]) < uint64(b)<<s.shift {
			p++
		}
		s.index[b] = int32(p)
	}
}

// search returns the first position whose key is >= h, or len(keys).
func (s *ringSnapshot) search(h uint32) int {
	b := h >> s.shift
	lo, hi := int(s.index[b]), int(s.index[b+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.keys[m] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// NewConsistentHash builds a consistent hashing ring over servers.
func NewConsistentHash(servers []Server, pool Pool, allBackups bool) *ConsistentHash {
	c := &ConsistentHash{
		st:    newLBState(servers, pool, allBackups, false),
		pts:   make([][]int32, len(servers)),
		now:   make([]int, len(servers)),
		loads: make([]int, len(servers)),
		last:  nilNode,
	}
	total := 0
	for i := range servers {
		total += max(pool.Weight(i), 0) * weightScale
	}
	c.nodes = newNodes(total)
	c.owner = make([]int32, 0, total)
	c.act = newTree(c.nodes, &c.seq)
	c.bck = newTree(c.nodes, &c.seq)
	for _, snap := range [2]*ringSnapshot{&c.actSnap, &c.bckSnap} {
		snap.keys = make([]uint32, 0, total)
		snap.srv = make([]int32, 0, total)
		snap.index = make([]int32, 0, indexSize(total))
		snap.stale = true
	}
	for i := range servers {
		c.addPoints(i, max(pool.Weight(i), 0)*weightScale)
		if c.st.up[i] {
			c.setPoints(i, c.st.eweight[i])
		}
	}
	return c
}

func (c *ConsistentHash) ring(i int) *tree {
	if c.st.isBackup(i) {
		return &c.bck
	}
	return &c.act
}

// pointKey is the ring position of server i's point j.
func (c *ConsistentHash) pointKey(i, j int) uint32 {
	return FullHash(uint32(c.st.servers[i].ID)*maxEweight + uint32(j))
}

// addPoints gives server i points up to n in total, growing the node array.
func (c *ConsistentHash) addPoints(i, n int) {
	have := len(c.pts[i])
	if n <= have {
		return
	}
	if len(c.owner)+n-have > len(c.nodes) {
		grown := newNodes(len(c.owner) + n - have)
		copy(grown, c.nodes)
		c.nodes = grown
		c.act.nodes, c.bck.nodes = grown, grown
	}
	for j := have; j < n; j++ {
		p := int32(len(c.owner))
		c.owner = append(c.owner, int32(i))
		c.nodes[p].key = c.pointKey(i, j)
		c.pts[i] = append(c.pts[i], p)
	}
}

// removePoint takes point p off its ring, moving the walk's position to
// the following point first.
func (c *ConsistentHash) removePoint(r *tree, p int32) {
	if c.last == p {
		c.last = r.next(p)
		if c.last == nilNode {
			c.last = r.first()
		}
		if c.last == p {
			c.last = nilNode
		}
	}
	r.remove(p)
}

// snapshot returns r's sorted copy, rebuilding it if the ring changed.
func (c *ConsistentHash) snapshot(r *tree) *ringSnapshot {
	s := &c.actSnap
	if r == &c.bck {
		s = &c.bckSnap
	}
	if s.stale {
		s.keys, s.srv = s.keys[:0], s.srv[:0]
		for p := r.first(); p != nilNode; p = r.next(p) {
			s.keys = append(s.keys, c.nodes[p].key)
			s.srv = append(s.srv, c.owner[p])
		}
		s.rebuildIndex()
		s.stale = false
	}
	return s
}

// setPoints puts exactly n of server i's points on its ring.
func (c *ConsistentHash) setPoints(i, n int) {
	r := c.ring(i)
	if c.st.isBackup(i) {
		c.bckSnap.stale = true
	} else {
		c.actSnap.stale = true
	}
	for c.now[i] > n {
		c.now[i]--
		c.removePoint(r, c.pts[i][c.now[i]])
	}
	if len(c.pts[i]) < n {
		// HAProxy drops all the points before growing their array.
		for c.now[i] > 0 {
			c.now[i]--
			c.removePoint(r, c.pts[i][c.now[i]])
		}
		c.addPoints(i, n)
	}
	for c.now[i] < n {
		p := c.pts[i][c.now[i]]
		r.insert(p, c.nodes[p].key)
		c.now[i]++
	}
}

// root returns the ring in use, or the server to use directly.
func (c *ConsistentHash) root() (*tree, int) {
	switch {
	case c.st.actCount > 0:
		return &c.act, NoServer
	case c.st.fbck != NoServer:
		return nil, c.st.fbck
	case c.st.bckCount > 0:
		return &c.bck, NoServer
	}
	return nil, NoServer
}

// Pick returns the server nearest to the request's hash, or the next one
// on the ring when the request has no hash.
func (c *ConsistentHash) Pick(req Request) int {
	if req.SingleZero {
		if _, used := c.st.totals(); used == 1 {
			return c.lookup(0, req.Avoid)
		}
	}
	if !req.HasHash {
		return c.pickRR(req.Avoid)
	}
	return c.lookup(req.Hash, req.Avoid)
}

// lookup finds the point nearest to h (the one before on a tie) and walks
// forward past the avoided server.
func (c *ConsistentHash) lookup(h uint32, avoid int) int {
	r, direct := c.root()
	if r == nil {
		return direct
	}
	snap := c.snapshot(r)
	n := len(snap.keys)
	if n == 0 {
		return NoServer
	}
	next := snap.search(h)
	if next == n {
		next = 0
	}
	prev := next - 1
	if prev < 0 {
		prev = n - 1
	}
	if h-snap.keys[prev] <= snap.keys[next]-h {
		next = prev
	}
	srv := int(snap.srv[next])
	for loops := 0; srv == avoid || (c.balanceFactor > 0 && !c.eligible(srv)); {
		if next++; next == n {
			next = 0
			if loops++; loops > 1 {
				break
			}
		}
		srv = int(snap.srv[next])
	}
	return srv
}

// pickRR continues the walk along the ring from the last point, skipping
// full servers and the avoided one.
func (c *ConsistentHash) pickRR(avoid int) int {
	r, direct := c.root()
	if r == nil {
		return direct
	}
	avoided, avoidedNode := NoServer, int32(nilNode)
	stop, node := c.last, c.last
	for {
		if node != nilNode {
			// The walk follows the ring the last point is on, which is
			// the other group's for a while after the groups switched.
			node = r.next(node)
		}
		if node == nilNode {
			node = r.first()
		}
		c.last = node
		if node == nilNode {
			return NoServer
		}
		if stop == nilNode {
			stop = node
		}
		s := int(c.owner[node])
		if !c.st.pool.Full(s) {
			if s != avoid {
				return s
			}
			avoided, avoidedNode = s, node
		}
		if node == stop {
			break
		}
	}
	c.last = avoidedNode
	return avoided
}

// Update applies a change of server i's usability or weight: its points
// leave or join the ring, or their number follows the new weight.
func (c *ConsistentHash) Update(i int) {
	up, ew, diff := c.st.changed(i)
	if !diff {
		return
	}
	switch {
	case c.st.up[i] && !up:
		c.setPoints(i, 0)
	case up:
		c.setPoints(i, ew)
	}
	c.st.commit(i, up, ew)
}

// SetBalanceFactor sets hash-balance-factor: with f > 0 (HAProxy wants
// f > 100), a server whose load exceeds f% of its weighted share of the
// requests in flight is passed over for the next one on the ring. It needs
// LoadChanged calls.
func (c *ConsistentHash) SetBalanceFactor(f int) { c.balanceFactor = f }

// eligible reports whether server s is under its share of the load when
// hash-balance-factor is set. The slots for the requests in flight plus
// this one are shared out by weight, the remainder by cumulative weight.
func (c *ConsistentHash) eligible(s int) bool {
	tot, _ := c.st.totals()
	if tot <= 0 {
		return true
	}
	totSlots := uint32(((c.served+1)*c.balanceFactor + 99) / 100)
	perWeight := totSlots / uint32(tot)
	rem := totSlots % uint32(tot)
	ew, cum := uint32(c.st.eweight[s]), uint32(c.st.cumWeight[s])
	slots := ew * perWeight
	slots += (cum+ew)*rem/uint32(tot) - cum*rem/uint32(tot)
	if slots == 0 {
		slots = 1
	}
	return uint32(c.loads[s]) < slots
}

// LoadChanged records server i's load, for hash-balance-factor.
func (c *ConsistentHash) LoadChanged(i int) {
	l := c.st.pool.Load(i)
	c.served += l - c.loads[i]
	c.loads[i] = l
}
