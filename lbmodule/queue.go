package lbmodule

// waiter is a request waiting for a server slot, in a backend's queue (any
// server) or a server's queue (that server only). Queues are FIFO; seq
// orders waiters across the two kinds of queue so that a freed slot goes to
// the oldest request that may use it, as HAProxy's pendconns.
type waiter struct {
	seq        uint64
	prev, next *waiter
	queue      *waitQueue
	// server is the server whose queue holds the waiter, nil for the
	// backend queue.
	server *Server
	// done receives exactly one grant: the server the request may use, or
	// nil when it must go through the load balancer again (its server left
	// the pool).
	done chan *Server
}

// waitQueue is an intrusive FIFO list of waiters; the backend's mutex
// guards it.
type waitQueue struct {
	head, tail *waiter
	n          int
}

func (q *waitQueue) push(w *waiter) {
	w.queue = q
	w.prev, w.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

func (q *waitQueue) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.queue = nil, nil, nil
	q.n--
}
