package sched

// minHeap is an indexed binary heap ordered by (key, insertion order): the
// same first-in, first-out order on equal keys as HAProxy's ebtrees, for
// users that only need the smallest node (FWRR). Several heaps share one
// node array, a node being in at most one of them, so moving a node between
// heaps allocates nothing.
type minHeap struct {
	ids   []int32
	nodes []heapNode
	seq   *uint64
}

type heapNode struct {
	key   uint32
	seq   uint64
	pos   int32
	owner *minHeap // heap holding the node, nil when detached
}

func newHeap(nodes []heapNode, seq *uint64) minHeap {
	return minHeap{ids: make([]int32, 0, len(nodes)), nodes: nodes, seq: seq}
}

func (h *minHeap) less(a, b int32) bool {
	na, nb := &h.nodes[a], &h.nodes[b]
	if na.key != nb.key {
		return na.key < nb.key
	}
	return na.seq < nb.seq
}

// first returns the smallest node, or nilNode.
func (h *minHeap) first() int32 {
	if len(h.ids) == 0 {
		return nilNode
	}
	return h.ids[0]
}

func (h *minHeap) contains(x int32) bool { return h.nodes[x].owner == h }

// insert adds detached node x with the given key after every node of an
// equal key.
func (h *minHeap) insert(x int32, key uint32) {
	*h.seq++
	n := &h.nodes[x]
	n.key, n.seq, n.owner = key, *h.seq, h
	n.pos = int32(len(h.ids))
	h.ids = append(h.ids, x)
	h.up(int(n.pos))
}

// remove detaches x if it is in this heap.
func (h *minHeap) remove(x int32) {
	if !h.contains(x) {
		return
	}
	i := int(h.nodes[x].pos)
	last := len(h.ids) - 1
	if i != last {
		h.swap(i, last)
	}
	h.ids = h.ids[:last]
	h.nodes[x].owner = nil
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h *minHeap) swap(i, j int) {
	h.ids[i], h.ids[j] = h.ids[j], h.ids[i]
	h.nodes[h.ids[i]].pos = int32(i)
	h.nodes[h.ids[j]].pos = int32(j)
}

func (h *minHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.ids[i], h.ids[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts i down and reports whether it moved.
func (h *minHeap) down(i int) bool {
	start := i
	n := len(h.ids)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.less(h.ids[r], h.ids[c]) {
			c = r
		}
		if !h.less(h.ids[c], h.ids[i]) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}
