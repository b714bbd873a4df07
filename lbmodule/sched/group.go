package sched

// weightScale is HAProxy's BE_WEIGHT_SCALE: dynamic algorithms work on
// eweight = user weight × 16, so slow start can ramp in 16 steps.
const weightScale = 16

// maxEweight is HAProxy's SRV_EWGHT_MAX (256 × 16).
const maxEweight = 256 * weightScale

// lbState is the committed load-balancing view of the servers, like
// HAProxy's cur_state/cur_eweight: it changes only when Update is called, so
// an algorithm can compare it with the Pool's current values to see what
// changed. It also keeps the per-group counts and the first usable backup.
type lbState struct {
	servers    []Server
	pool       Pool
	effective  EffectiveWeighter // nil when the pool has none
	allBackups bool
	// mapWeights makes eweights map-based: ceil(weight / gcd).
	mapWeights bool
	gcd        int

	up      []bool // usable as last committed
	eweight []int  // effective weight as last committed

	actCount, bckCount int   // usable servers per group
	totAct, totBck     int   // sum of their eweights
	cumWeight          []int // eweight of the usable servers before i in its group
	fbck               int   // first usable backup when !allBackups, or NoServer
}

func newLBState(servers []Server, pool Pool, allBackups, mapWeights bool) lbState {
	st := lbState{
		servers:    servers,
		pool:       pool,
		allBackups: allBackups,
		mapWeights: mapWeights,
		gcd:        1,
		up:         make([]bool, len(servers)),
		eweight:    make([]int, len(servers)),
		cumWeight:  make([]int, len(servers)),
		fbck:       NoServer,
	}
	if ew, ok := pool.(EffectiveWeighter); ok && !mapWeights {
		st.effective = ew
	}
	if mapWeights {
		st.gcd = weightGCD(pool, len(servers))
	}
	for i := range servers {
		st.up[i], st.eweight[i] = st.next(i)
	}
	st.recount()
	return st
}

// weightGCD is the greatest common divisor of the non-zero weights, as
// HAProxy computes it once at start to shrink static maps.
func weightGCD(pool Pool, n int) int {
	g := 0
	for i := 0; i < n; i++ {
		w := pool.Weight(i)
		if w <= 0 {
			continue
		}
		for w != 0 {
			g, w = w, g%w
		}
	}
	if g == 0 {
		return 1
	}
	return g
}

// next returns server i's usability and effective weight as the pool
// reports them now.
func (st *lbState) next(i int) (bool, int) {
	var ew int
	switch {
	case st.mapWeights:
		w := st.pool.Weight(i)
		ew = (w + st.gcd - 1) / st.gcd
	case st.effective != nil:
		ew = st.effective.EffectiveWeight(i)
	default:
		ew = st.pool.Weight(i) * weightScale
	}
	if ew < 0 {
		ew = 0
	}
	return ew > 0 && st.pool.Usable(i), ew
}

// changed reports server i's new state and whether it differs from the
// committed one.
func (st *lbState) changed(i int) (up bool, ew int, diff bool) {
	up, ew = st.next(i)
	return up, ew, up != st.up[i] || ew != st.eweight[i]
}

// commit records server i's new state and recounts the groups.
func (st *lbState) commit(i int, up bool, ew int) {
	st.up[i], st.eweight[i] = up, ew
	st.recount()
}

// recount recomputes the group counts and the first usable backup.
func (st *lbState) recount() {
	st.actCount, st.bckCount, st.totAct, st.totBck = 0, 0, 0, 0
	st.fbck = NoServer
	for i, s := range st.servers {
		if !st.up[i] {
			continue
		}
		if s.Backup {
			if st.bckCount == 0 && !st.allBackups {
				st.fbck = i
			}
			st.bckCount++
			st.cumWeight[i] = st.totBck
			st.totBck += st.eweight[i]
		} else {
			st.actCount++
			st.cumWeight[i] = st.totAct
			st.totAct += st.eweight[i]
		}
	}
}

// totals returns HAProxy's tot_weight and tot_used: the weight and count
// of the servers in use (only the first backup's when it serves alone).
func (st *lbState) totals() (weight, used int) {
	switch {
	case st.actCount > 0:
		return st.totAct, st.actCount
	case st.fbck != NoServer:
		return st.eweight[st.fbck], 1
	}
	return st.totBck, st.bckCount
}

// isBackup reports whether server i belongs to the backup group.
func (st *lbState) isBackup(i int) bool { return st.servers[i].Backup }
