package sched

// First is HAProxy's "balance first" (lb_fas.c): the usable server with the
// lowest id that still has a free connection slot takes the request, so
// servers fill up one after the other. Weights only matter as 0 or not.
type First struct {
	st    lbState
	nodes []treeNode
	seq   uint64
	act   tree
	bck   tree
}

// NewFirst builds "balance first". Servers need a maxconn for the next one
// to ever be used.
func NewFirst(servers []Server, pool Pool, allBackups bool) *First {
	f := &First{
		st:    newLBState(servers, pool, allBackups, false),
		nodes: newNodes(len(servers)),
	}
	f.act = newTree(f.nodes, &f.seq)
	f.bck = newTree(f.nodes, &f.seq)
	for i := range servers {
		if f.st.up[i] {
			f.ring(i).insert(int32(i), uint32(servers[i].ID))
		}
	}
	return f
}

func (f *First) ring(i int) *tree {
	if f.st.isBackup(i) {
		return &f.bck
	}
	return &f.act
}

// Pick returns the lowest-id server that is not full, avoiding req.Avoid
// unless it is the only one left.
func (f *First) Pick(req Request) int {
	var r *tree
	switch {
	case f.st.actCount > 0:
		r = &f.act
	case f.st.fbck != NoServer:
		return f.st.fbck
	case f.st.bckCount > 0:
		r = &f.bck
	default:
		return NoServer
	}
	avoided := NoServer
	for n := r.first(); n != nilNode; n = r.next(n) {
		s := int(n)
		if f.st.pool.Full(s) {
			continue
		}
		if s != req.Avoid {
			return s
		}
		avoided = s
	}
	return avoided
}

// Update applies a change of server i's usability or weight.
func (f *First) Update(i int) {
	up, ew, diff := f.st.changed(i)
	if !diff {
		return
	}
	r := f.ring(i)
	r.remove(int32(i))
	if up {
		r.insert(int32(i), uint32(f.st.servers[i].ID))
	}
	f.st.commit(i, up, ew)
}

// LoadChanged does nothing: First reads Full at each pick.
func (f *First) LoadChanged(int) {}
