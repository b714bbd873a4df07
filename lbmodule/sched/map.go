package sched

// Map is HAProxy's static map (lb_map.c): "balance static-rr", and the
// hash-based algorithms with "hash-type map-based" (the default). The map
// has one slot per unit of weight, with weights divided by their GCD, and
// spreads each server's slots evenly. static-rr walks it in order; hashing
// takes slot hash % size and walks it only when the key is missing.
//
// Weights are read as user weights (slow start does not apply) and the map
// is rebuilt from scratch on every change, as in HAProxy.
type Map struct {
	st     lbState
	hashed bool
	table  []int32
	rrIdx  int
	wscore []int
}

// NewStaticRR builds "balance static-rr".
func NewStaticRR(servers []Server, pool Pool, allBackups bool) *Map {
	return newMap(servers, pool, allBackups, false)
}

// NewMapHash builds a map-based hashing algorithm: Pick uses Request.Hash
// when HasHash is set, and the map's round robin otherwise.
func NewMapHash(servers []Server, pool Pool, allBackups bool) *Map {
	return newMap(servers, pool, allBackups, true)
}

func newMap(servers []Server, pool Pool, allBackups, hashed bool) *Map {
	m := &Map{
		st:     newLBState(servers, pool, allBackups, true),
		hashed: hashed,
		wscore: make([]int, len(servers)),
	}
	m.rebuild()
	return m
}

// rebuild fills the map. Slot by slot, every usable server of the group in
// use adds its weight to its score; the first server with the largest
// score/size quotient takes the slot and pays the map size back. When the
// first backup serves alone the map has its size, yet every usable backup
// still competes for the slots, as in HAProxy.
func (m *Map) rebuild() {
	tot, used := m.st.totals()
	if used == 0 {
		tot = 0
	}
	if cap(m.table) < tot {
		m.table = make([]int32, tot)
	}
	m.table = m.table[:tot]
	backup := m.st.actCount == 0
	for i := range m.wscore {
		m.wscore[i] = 0
	}
	for o := 0; o < tot; o++ {
		best, bestV := NoServer, 0
		for i := range m.st.servers {
			if m.st.isBackup(i) != backup || !m.st.up[i] {
				continue
			}
			if tot == 1 {
				best = i
				break
			}
			m.wscore[i] += m.st.eweight[i]
			v := (m.wscore[i] + tot) / tot
			if best == NoServer || v > bestV {
				best, bestV = i, v
			}
		}
		m.table[o] = int32(best)
		if best != NoServer {
			m.wscore[best] -= tot
		}
	}
}

// Pick returns the server for the request's hash, or the next one in the
// map's round robin.
func (m *Map) Pick(req Request) int {
	if len(m.table) == 0 {
		return NoServer
	}
	if m.hashed {
		if req.SingleZero {
			if _, used := m.st.totals(); used == 1 {
				return int(m.table[0])
			}
		}
		if req.HasHash {
			return int(m.table[req.Hash%uint32(len(m.table))])
		}
	}
	return m.pickRR(req.Avoid)
}

// pickRR walks the map from the round-robin index, skipping full servers
// and the avoided one unless nothing else is left.
func (m *Map) pickRR(avoid int) int {
	tot := len(m.table)
	if m.rrIdx < 0 || m.rrIdx >= tot {
		m.rrIdx = 0
	}
	idx := m.rrIdx
	avoided, avoidedIdx := NoServer, 0
	for {
		srv := int(m.table[idx])
		idx++
		if !m.st.pool.Full(srv) {
			avoided, avoidedIdx = srv, idx
			if srv != avoid {
				m.rrIdx = idx
				return srv
			}
		}
		if idx == tot {
			idx = 0
		}
		if idx == m.rrIdx {
			break
		}
	}
	if avoided != NoServer {
		m.rrIdx = avoidedIdx
	}
	return avoided
}

// Update rebuilds the map if server i's usability or weight changed.
func (m *Map) Update(i int) {
	up, ew, diff := m.st.changed(i)
	if !diff {
		return
	}
	m.st.commit(i, up, ew)
	m.rebuild()
}

// LoadChanged does nothing: the map does not look at load.
func (m *Map) LoadChanged(int) {}
