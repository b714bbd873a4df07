package sched

// tree is an ordered set of nodes keyed by (key, insertion order), like
// HAProxy's ebtrees with duplicates: equal keys come out first-in, first-out.
// It is a treap over a node array shared by several trees (a node belongs to
// at most one tree at a time), so moving a node between trees allocates
// nothing and every operation is O(log n) expected.
type tree struct {
	root  int32
	nodes []treeNode
	// seq is shared by all trees over the same nodes, so insertion order is
	// total even when a tree is swapped with another.
	seq *uint64
}

type treeNode struct {
	key                 uint32
	seq                 uint64
	left, right, parent int32
	prio                uint32
	owner               *tree // tree holding the node, nil when detached
}

const nilNode = -1

// newNodes makes n detached nodes with fixed pseudo-random priorities.
func newNodes(n int) []treeNode {
	nodes := make([]treeNode, n)
	for i := range nodes {
		nodes[i] = treeNode{left: nilNode, right: nilNode, parent: nilNode, prio: treePriority(uint32(i))}
	}
	return nodes
}

// treePriority is murmur3's finalizer over a Weyl sequence: unrelated to
// FullHash, which makes the ring's keys, so the treap stays balanced.
func treePriority(i uint32) uint32 {
	h := i*0x9e3779b1 + 0x7f4a7c15
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func newTree(nodes []treeNode, seq *uint64) tree {
	return tree{root: nilNode, nodes: nodes, seq: seq}
}

// less orders node a before node b.
func (t *tree) less(a, b int32) bool {
	na, nb := &t.nodes[a], &t.nodes[b]
	if na.key != nb.key {
		return na.key < nb.key
	}
	return na.seq < nb.seq
}

// contains reports whether node x is in this tree.
func (t *tree) contains(x int32) bool { return t.nodes[x].owner == t }

// insert adds detached node x with the given key after every node of an
// equal key.
func (t *tree) insert(x int32, key uint32) {
	n := &t.nodes[x]
	*t.seq++
	n.key, n.seq = key, *t.seq
	n.left, n.right, n.parent = nilNode, nilNode, nilNode
	n.owner = t
	if t.root == nilNode {
		t.root = x
		return
	}
	cur := t.root
	for {
		if t.less(x, cur) {
			if t.nodes[cur].left == nilNode {
				t.nodes[cur].left = x
				break
			}
			cur = t.nodes[cur].left
		} else {
			if t.nodes[cur].right == nilNode {
				t.nodes[cur].right = x
				break
			}
			cur = t.nodes[cur].right
		}
	}
	n.parent = cur
	for n.parent != nilNode && n.prio < t.nodes[n.parent].prio {
		t.rotateUp(x)
	}
}

// rotateUp moves x above its parent, keeping the order.
func (t *tree) rotateUp(x int32) {
	nodes := t.nodes
	p := nodes[x].parent
	g := nodes[p].parent
	if nodes[p].left == x {
		b := nodes[x].right
		nodes[p].left = b
		if b != nilNode {
			nodes[b].parent = p
		}
		nodes[x].right = p
	} else {
		b := nodes[x].left
		nodes[p].right = b
		if b != nilNode {
			nodes[b].parent = p
		}
		nodes[x].left = p
	}
	nodes[p].parent = x
	nodes[x].parent = g
	switch {
	case g == nilNode:
		t.root = x
	case nodes[g].left == p:
		nodes[g].left = x
	default:
		nodes[g].right = x
	}
}

// remove detaches x; it does nothing if x is not in this tree.
func (t *tree) remove(x int32) {
	if !t.contains(x) {
		return
	}
	nodes := t.nodes
	for {
		l, r := nodes[x].left, nodes[x].right
		if l == nilNode && r == nilNode {
			break
		}
		c := l
		if c == nilNode || (r != nilNode && nodes[r].prio < nodes[l].prio) {
			c = r
		}
		t.rotateUp(c)
	}
	p := nodes[x].parent
	switch {
	case p == nilNode:
		t.root = nilNode
	case nodes[p].left == x:
		nodes[p].left = nilNode
	default:
		nodes[p].right = nilNode
	}
	nodes[x].parent = nilNode
	nodes[x].owner = nil
}

// first returns the smallest node, or nilNode.
func (t *tree) first() int32 {
	x := t.root
	if x == nilNode {
		return nilNode
	}
	for t.nodes[x].left != nilNode {
		x = t.nodes[x].left
	}
	return x
}

// next returns the node after x, or nilNode.
func (t *tree) next(x int32) int32 {
	nodes := t.nodes
	if r := nodes[x].right; r != nilNode {
		for nodes[r].left != nilNode {
			r = nodes[r].left
		}
		return r
	}
	for {
		p := nodes[x].parent
		if p == nilNode || nodes[p].left == x {
			return p
		}
		x = p
	}
}
