package sched

// RoundRobin is HAProxy's "balance roundrobin": a fast weighted round robin
// whose weights may change at run time (FWRR). It produces the same
// sequence as HAProxy 2.6 for the same weights, state changes and retries.
//
// Each group (actives, backups) keeps three ordered trees: curr holds the
// servers still due in the current window, keyed by their next position;
// init holds servers waiting to enter it, heaviest first; next holds those
// that already spent their share of the window.
type RoundRobin struct {
	st    lbState
	nodes []heapNode
	seq   uint64
	act   fwrrGroup
	bck   fwrrGroup

	npos, lpos, rweight []uint32
	// full holds servers set aside during a pick, reused to avoid allocating.
	full []int32
}

type fwrrGroup struct {
	curr, t0, t1 minHeap
	init, next   *minHeap
	currPos      int32
	currWeight   int32
	nextWeight   int32
}

// NewRoundRobin builds "balance roundrobin" over servers in declaration
// order; allBackups is "option allbackups".
func NewRoundRobin(servers []Server, pool Pool, allBackups bool) *RoundRobin {
	n := len(servers)
	r := &RoundRobin{
		st:      newLBState(servers, pool, allBackups, false),
		nodes:   make([]heapNode, n),
		npos:    make([]uint32, n),
		lpos:    make([]uint32, n),
		rweight: make([]uint32, n),
		full:    make([]int32, 0, n),
	}
	for _, g := range [2]*fwrrGroup{&r.act, &r.bck} {
		g.curr = newHeap(r.nodes, &r.seq)
		g.t0 = newHeap(r.nodes, &r.seq)
		g.t1 = newHeap(r.nodes, &r.seq)
		g.init, g.next = &g.t0, &g.t1
	}
	r.act.currPos, r.act.currWeight, r.act.nextWeight = int32(r.st.totAct), int32(r.st.totAct), int32(r.st.totAct)
	r.bck.currPos, r.bck.currWeight, r.bck.nextWeight = int32(r.st.totBck), int32(r.st.totBck), int32(r.st.totBck)
	for i := range servers {
		if r.st.up[i] {
			r.group(i).init.insert(int32(i), byWeightKey(r.st.eweight[i]))
		}
	}
	return r
}

func (r *RoundRobin) group(i int) *fwrrGroup {
	if r.st.isBackup(i) {
		return &r.bck
	}
	return &r.act
}

// byWeightKey orders the init and next trees: heaviest first.
func byWeightKey(eweight int) uint32 { return uint32(maxEweight - eweight) }

// Pick returns the next server in the weighted sequence, skipping full
// servers and the avoided one (unless it is the only choice).
func (r *RoundRobin) Pick(req Request) int {
	var g *fwrrGroup
	switch {
	case r.st.actCount > 0:
		g = &r.act
	case r.st.fbck != NoServer:
		return r.st.fbck
	case r.st.bckCount > 0:
		g = &r.bck
	default:
		return NoServer
	}

	switched := false
	avoided := int32(NoServer)
	full := r.full[:0]
	srv := int32(NoServer)
	for {
		// An empty window may be caused by weights that just changed.
		if g.currWeight == 0 {
			g.currPos, g.currWeight = g.nextWeight, g.nextWeight
		}
		for {
			srv = r.fromGroup(g)
			if srv != NoServer {
				break
			}
			if switched {
				if avoided != NoServer {
					srv = avoided
					r.queue(g, int(srv), r.st.eweight[srv])
				}
				goto requeue
			}
			switched = true
			r.switchTrees(g)
		}

		r.updatePosition(g, srv)
		r.dequeue(srv)
		g.currPos++
		if !r.st.pool.Full(int(srv)) {
			if int(srv) != req.Avoid || avoided != NoServer {
				r.queue(g, int(srv), r.st.eweight[srv])
				break
			}
			avoided = srv
		}
		// Full or avoided: set it aside and put it back after the pick.
		full = append(full, srv)
	}

requeue:
	// Set-aside servers go back as if they had been served, or by weight
	// into init if the window was restarted, since their place is lost.
	for k := len(full) - 1; k >= 0; k-- {
		s := full[k]
		if s == srv {
			continue
		}
		if switched {
			g.init.insert(s, byWeightKey(r.st.eweight[s]))
		} else {
			r.queue(g, int(s), r.st.eweight[s])
		}
	}
	r.full = full[:0]
	return int(srv)
}

// fromGroup returns the server due next: the head of curr if its position
// has come, else the heaviest server waiting in init, else the head of
// curr anyway.
func (r *RoundRobin) fromGroup(g *fwrrGroup) int32 {
	s1 := g.curr.first()
	if s1 != nilNode && r.st.eweight[s1] > 0 && r.npos[s1] <= uint32(g.currPos) {
		return s1
	}
	if s2 := g.init.first(); s2 != nilNode && r.st.eweight[s2] > 0 {
		r.npos[s2], r.rweight[s2] = 0, 0
		return s2
	}
	return s1
}

// updatePosition advances server s by one step of its weight, carrying the
// remainder so the positions stay exact over a window.
func (r *RoundRobin) updatePosition(g *fwrrGroup, s int32) {
	ew := uint32(r.st.eweight[s])
	if ew == 0 {
		return
	}
	if r.npos[s] == 0 {
		r.npos[s] = uint32(g.currPos)
	}
	r.lpos[s] = r.npos[s]
	r.npos[s] += uint32(g.nextWeight) / ew
	r.rweight[s] += uint32(g.nextWeight) % ew
	if r.rweight[s] >= ew {
		r.rweight[s] -= ew
		r.npos[s]++
	}
}

// queue puts server i back by its position: into curr if it is still due
// in this window, else into next.
func (r *RoundRobin) queue(g *fwrrGroup, i int, eweight int) {
	s := int32(i)
	np := r.npos[i]
	if eweight <= 0 || np >= uint32(2*g.currWeight) || np >= uint32(g.currWeight+g.nextWeight) {
		r.npos[i] = np - uint32(g.currWeight)
		g.next.insert(s, byWeightKey(eweight))
		return
	}
	key := 256*np + uint32(maxEweight+int(r.rweight[i])-eweight)/weightScale
	g.curr.insert(s, key)
}

// dequeue takes server s out of whichever tree holds it.
func (r *RoundRobin) dequeue(s int32) {
	if h := r.nodes[s].owner; h != nil {
		h.remove(s)
	}
}

// switchTrees starts a new window: next becomes init.
func (r *RoundRobin) switchTrees(g *fwrrGroup) {
	g.init, g.next = g.next, g.init
	g.currWeight = g.nextWeight
	g.currPos = g.currWeight
}

// Update applies a change of server i's usability or weight.
func (r *RoundRobin) Update(i int) {
	up, ew, diff := r.st.changed(i)
	if !diff {
		return
	}
	wasUp := r.st.up[i]
	g := r.group(i)
	s := int32(i)
	switch {
	case !wasUp && !up:
	case wasUp && !up:
		g.nextWeight -= int32(r.st.eweight[i])
		r.dequeue(s)
	case !wasUp && up:
		g.nextWeight += int32(ew)
		// A returning server is placed a fair distance ahead, so it does
		// not take a burst of requests at once.
		r.npos[i] = uint32(g.currPos) + uint32(g.nextWeight+g.currWeight-g.currPos)/uint32(ew)
		r.queue(g, i, ew)
	default:
		g.nextWeight += int32(ew - r.st.eweight[i])
		switch {
		case g.init.contains(s):
			g.init.remove(s)
			g.init.insert(s, byWeightKey(ew))
		default:
			if g.next.contains(s) {
				r.npos[i] += uint32(g.currWeight)
			}
			prevNext := r.npos[i]
			step := uint32(g.nextWeight) / uint32(ew)
			r.npos[i] = r.lpos[i] + step
			r.rweight[i] = 0
			if r.npos[i] > prevNext {
				r.npos[i] = prevNext
			}
			if r.npos[i] < uint32(g.currPos+2) {
				r.npos[i] = uint32(g.currPos) + step
			}
			r.dequeue(s)
			r.queue(g, i, ew)
		}
	}
	r.st.commit(i, up, ew)
}

// LoadChanged does nothing: round robin does not look at load.
func (r *RoundRobin) LoadChanged(int) {}
