package sched

import (
	"math/rand"
	"sort"
	"testing"
)

// refEntry is the reference model: a list sorted by (key, insertion).
type refEntry struct {
	id  int32
	key uint32
	seq int
}

func sortedRef(ref map[int32]refEntry) []refEntry {
	out := make([]refEntry, 0, len(ref))
	for _, e := range ref {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].key != out[j].key {
			return out[i].key < out[j].key
		}
		return out[i].seq < out[j].seq
	})
	return out
}

func TestTreeMatchesSortedList(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n = 200
	var seq uint64
	tr := newTree(newNodes(n), &seq)
	ref := map[int32]refEntry{}
	for step := 0; step < 20000; step++ {
		x := int32(rng.Intn(n))
		if _, in := ref[x]; in {
			tr.remove(x)
			delete(ref, x)
		} else {
			k := uint32(rng.Intn(20)) // many equal keys
			tr.insert(x, k)
			ref[x] = refEntry{x, k, step}
		}
		if step%97 != 0 {
			continue
		}
		want := sortedRef(ref)
		var got []int32
		for p := tr.first(); p != nilNode; p = tr.next(p) {
			got = append(got, p)
		}
		if len(got) != len(want) {
			t.Fatalf("step %d: %d nodes, want %d", step, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i].id {
				t.Fatalf("step %d: position %d holds %d, want %d", step, i, got[i], want[i].id)
			}
		}
	}
}

func TestHeapMatchesSortedList(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	const n = 100
	var seq uint64
	nodes := make([]heapNode, n)
	a, b := newHeap(nodes, &seq), newHeap(nodes, &seq)
	refs := map[*minHeap]map[int32]refEntry{&a: {}, &b: {}}
	for step := 0; step < 20000; step++ {
		x := int32(rng.Intn(n))
		if h := nodes[x].owner; h != nil {
			h.remove(x)
			delete(refs[h], x)
		} else {
			h := &a
			if rng.Intn(2) == 0 {
				h = &b
			}
			k := uint32(rng.Intn(10))
			h.insert(x, k)
			refs[h][x] = refEntry{x, k, step}
		}
		for h, ref := range refs {
			want := sortedRef(ref)
			got := h.first()
			if len(want) == 0 {
				if got != nilNode {
					t.Fatalf("step %d: empty heap returned %d", step, got)
				}
				continue
			}
			if got != want[0].id {
				t.Fatalf("step %d: first is %d, want %d", step, got, want[0].id)
			}
		}
	}
}
