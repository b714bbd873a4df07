package sched

// LeastConn is HAProxy 2.6's "balance leastconn" (lb_fwlc.c): the server
// with the fewest requests in flight per unit of weight wins. Servers sit in
// a tree keyed by (load+1)×4096/eweight, 0 when idle, and a server is moved
// to the end of its key's group whenever its key changes, so equally loaded
// servers take turns.
type LeastConn struct {
	st    lbState
	sat   Saturator
	nodes []treeNode
	seq   uint64
	act   tree
	bck   tree
}

// NewLeastConn builds "balance leastconn". Call LoadChanged whenever a
// server's Load changes.
func NewLeastConn(servers []Server, pool Pool, allBackups bool) *LeastConn {
	l := &LeastConn{
		st:    newLBState(servers, pool, allBackups, false),
		nodes: newNodes(len(servers)),
	}
	l.sat, _ = pool.(Saturator)
	l.act = newTree(l.nodes, &l.seq)
	l.bck = newTree(l.nodes, &l.seq)
	for i := range servers {
		if l.st.up[i] {
			l.ring(i).insert(int32(i), l.key(i, l.st.eweight[i]))
		}
	}
	return l
}

func (l *LeastConn) ring(i int) *tree {
	if l.st.isBackup(i) {
		return &l.bck
	}
	return &l.act
}

// key orders servers by load per weight; every idle server has key 0.
func (l *LeastConn) key(i, eweight int) uint32 {
	inflight := l.st.pool.Load(i)
	if inflight <= 0 {
		return 0
	}
	if eweight <= 0 {
		eweight = 1
	}
	return uint32(inflight+1) * maxEweight / uint32(eweight)
}

func (l *LeastConn) saturated(i int) bool {
	if l.sat != nil {
		return l.sat.Saturated(i)
	}
	return l.st.pool.Full(i)
}

// Pick returns the least loaded server that is not saturated, avoiding
// req.Avoid unless it is the only one left.
func (l *LeastConn) Pick(req Request) int {
	var r *tree
	switch {
	case l.st.actCount > 0:
		r = &l.act
	case l.st.fbck != NoServer:
		return l.st.fbck
	case l.st.bckCount > 0:
		r = &l.bck
	default:
		return NoServer
	}
	avoided := NoServer
	for n := r.first(); n != nilNode; n = r.next(n) {
		s := int(n)
		if l.saturated(s) {
			continue
		}
		if s != req.Avoid {
			return s
		}
		avoided = s
	}
	return avoided
}

// LoadChanged moves server i to its new place when its key changed.
func (l *LeastConn) LoadChanged(i int) {
	r := l.ring(i)
	s := int32(i)
	if !r.contains(s) {
		return
	}
	k := l.key(i, l.st.eweight[i])
	if l.nodes[s].key == k {
		return
	}
	r.remove(s)
	r.insert(s, k)
}

// Update applies a change of server i's usability or weight.
func (l *LeastConn) Update(i int) {
	up, ew, diff := l.st.changed(i)
	if !diff {
		return
	}
	r := l.ring(i)
	r.remove(int32(i))
	if up {
		r.insert(int32(i), l.key(i, ew))
	}
	l.st.commit(i, up, ew)
}
