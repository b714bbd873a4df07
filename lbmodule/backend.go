package lbmodule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// Errors returned by Backend.Acquire. Each ends in a 503 for HTTP and a
// closed connection for TCP, as in HAProxy.
var (
	// ErrNoServer means no server may take the request.
	ErrNoServer = errors.New("no server available")
	// ErrQueueFull means the chosen server's queue reached its maxqueue.
	ErrQueueFull = errors.New("server queue full")
	// ErrQueueTimeout means the request waited longer than the queue
	// timeout for a free server.
	ErrQueueTimeout = errors.New("queue timeout")
)

// Vetoer lets the caller of Acquire rule servers out of one pick, for
// reasons the backend does not know (Caddy's passive health checks). A
// vetoed server counts as full, so algorithms pass over it; a hash pick
// that lands on it falls back to the algorithm's round robin, as for a
// request without a key.
type Vetoer interface {
	Vetoed(s *Server) bool
}

// Backend is the runtime form of a BackendConfig: its servers with their
// state and counters, its load-balancing algorithm, and its queue. The HTTP
// selection policy, the TCP handler, the stats page and the admin API all
// work on the same Backend.
//
// A Backend is built for one configuration. Backends built for successive
// configurations of the same name share their servers' runtime state (see
// the registry), so a reload keeps admin state, health and counters.
type Backend struct {
	name    string
	config  BackendConfig
	servers []*Server
	byName  map[string]*Server
	static  bool
	// hashed is set for the algorithms that hash a key, whose retries
	// stay on their server.
	hashed       bool
	queueTimeout time.Duration
	// counters are shared by the backends of one name in the registry,
	// so that a reload keeps them, as it keeps the servers'.
	counters *Counters
	// outages tracks the times no server could take traffic.
	outages outageTracker
	// slot links the backend to the other live backends of its name;
	// nil for a backend outside the registry.
	slot *backendSlot
	// now is the clock of slow start; nil means time.Now. Tests set it.
	now func() time.Time

	mu   sync.Mutex
	algo sched.Algorithm
	// veto is the caller's Vetoer during one Pick.
	veto  Vetoer
	queue waitQueue
	// waiting counts every waiter, in the backend queue and the servers'.
	waiting int
	seq     uint64
	// lbUsable and lbWeight are the usability and weight of each server
	// as last told to algo, so that algo.Update runs on real changes only.
	lbUsable []bool
	lbWeight []int
	// lbEweight is each server's effective weight (eweight, slow start
	// applied) as last told to algo.
	lbEweight []int
}

// NewBackend builds a backend outside the registry, with fresh state.
// Handlers use the registry (AttachBackend) instead, so that state is shared
// and survives reloads.
func NewBackend(cfg BackendConfig) (*Backend, error) {
	return buildBackend(cfg, nil)
}

// buildBackend builds a backend for cfg; inherit, when not nil, returns the
// runtime state of a server of the same name in an earlier backend.
func buildBackend(cfg BackendConfig, inherit func(name string) *serverState) (*Backend, error) {
	if err := validateBackendConfig(&cfg); err != nil {
		return nil, err
	}
	b := &Backend{
		name:         cfg.Backend,
		config:       cfg,
		servers:      make([]*Server, len(cfg.Servers)),
		byName:       make(map[string]*Server, len(cfg.Servers)),
		static:       isStatic(cfg),
		counters:     new(Counters),
		queueTimeout: time.Duration(cfg.QueueTimeout),
		lbUsable:     make([]bool, len(cfg.Servers)),
		lbWeight:     make([]int, len(cfg.Servers)),
		lbEweight:    make([]int, len(cfg.Servers)),
	}
	scheds := make([]sched.Server, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		var prev *serverState
		if inherit != nil {
			prev = inherit(sc.Name)
		}
		s := newServer(sc, i, prev)
		b.servers[i] = s
		b.byName[s.Name] = s
		scheds[i] = sched.Server{ID: s.ID, Backup: s.Backup}
		b.lbUsable[i] = s.Usable()
		b.lbWeight[i] = s.Weight()
		b.lbEweight[i] = b.effectiveWeight(s)
	}
	key, err := KeyFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %v", cfg.Backend, err)
	}
	b.hashed = key != nil
	algo, err := newAlgorithm(cfg, scheds, (*backendPool)(b))
	if err != nil {
		return nil, fmt.Errorf("backend %q: %v", cfg.Backend, err)
	}
	b.algo = algo
	b.outages.init(slices.Contains(b.lbUsable, true))
	return b, nil
}

func validateBackendConfig(cfg *BackendConfig) error {
	seen := make(map[string]bool, len(cfg.Servers))
	ids := make(map[int]string, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		where := fmt.Sprintf("backend %q: server %d", cfg.Backend, i)
		if sc.Name == "" {
			return fmt.Errorf("%s: missing name", where)
		}
		where = fmt.Sprintf("backend %q: server %q", cfg.Backend, sc.Name)
		if seen[sc.Name] {
			return fmt.Errorf("%s: duplicate server name", where)
		}
		seen[sc.Name] = true
		if sc.Dial == "" {
			return fmt.Errorf("%s: missing dial address", where)
		}
		if sc.Weight != nil && (*sc.Weight < 0 || *sc.Weight > 256) {
			return fmt.Errorf("%s: weight %d out of range 0..256", where, *sc.Weight)
		}
		if sc.SendProxy != "" && sc.SendProxy != "v1" && sc.SendProxy != "v2" {
			return fmt.Errorf("%s: send_proxy %q: want v1 or v2", where, sc.SendProxy)
		}
		if _, err := source.Addr(sc.Source); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if sc.UseSrc != "" && sc.UseSrc != "client" && sc.UseSrc != "clientip" {
			if _, err := source.Addr(sc.UseSrc); err != nil {
				return fmt.Errorf("%s: usesrc: want client, clientip or an address: %v", where, err)
			}
		}
		if sc.MaxConn < 0 || sc.MaxQueue < 0 || sc.MinConn < 0 {
			return fmt.Errorf("%s: maxconn, maxqueue and minconn must not be negative", where)
		}
		id := sc.ID
		if id == 0 {
			id = i + 1
		}
		if other, dup := ids[id]; dup {
			return fmt.Errorf("%s: id %d already used by server %q", where, id, other)
		}
		ids[id] = sc.Name
	}
	if cfg.QueueTimeout < 0 {
		return fmt.Errorf("backend %q: negative queue_timeout", cfg.Backend)
	}
	return validateHealth(cfg)
}

// Name returns the backend's name.
func (b *Backend) Name() string { return b.name }

// ID returns the backend's numeric id (BackendConfig.ProxyID); 0 when unknown.
func (b *Backend) ID() int { return b.config.ProxyID }

// StaticWeights reports whether the backend's algorithm is static
// (static-rr, map-based hashing): its servers' weights can only be 0 or the
// configured one at run time.
func (b *Backend) StaticWeights() bool { return b.static }

// Config returns the configuration the backend was built from.
func (b *Backend) Config() BackendConfig { return b.config }

// Servers returns the servers in declaration order. The slice must not be
// modified.
func (b *Backend) Servers() []*Server { return b.servers }

// Server returns the server with the given name, or nil.
func (b *Backend) Server(name string) *Server { return b.byName[name] }

// Counters returns the backend's counters: requests in flight (Current),
// load-balanced picks (Total) and the backend queue (QueueCurrent).
func (b *Backend) Counters() *Counters { return b.counters }

// QueueTimeout is how long a request may wait for a free server.
func (b *Backend) QueueTimeout() time.Duration { return b.queueTimeout }

// Acquire chooses a server for a new request or connection with the
// backend's algorithm and counts the request on it; the caller must call
// Release once the request or connection ends. When the servers are full
// (maxconn), it waits in HAProxy's queues until a slot frees, the queue
// timeout passes (ErrQueueTimeout) or ctx is done (ctx.Err()). veto may be
// nil.
//
// The common path, a server with room, allocates nothing.
func (b *Backend) Acquire(ctx context.Context, req sched.Request, veto Vetoer) (*Server, error) {
	b.mu.Lock()
	s, w, err := b.pickLocked(req, veto)
	b.mu.Unlock()
	if w == nil {
		return s, err
	}
	return b.wait(ctx, w, req, veto)
}

// pickLocked runs the algorithm; it returns the server with its slot taken,
// or a waiter queued for one, or an error.
func (b *Backend) pickLocked(req sched.Request, veto Vetoer) (*Server, *waiter, error) {
	b.veto = veto
	i := b.algo.Pick(req)
	if i != sched.NoServer && veto != nil && req.HasHash && veto.Vetoed(b.servers[i]) {
		// The key's server is out for the caller: fall back to the
		// algorithm's round robin, as for a request without a key.
		req.HasHash = false
		i = b.algo.Pick(req)
	}
	if i == sched.NoServer && veto != nil {
		// random gives up when its draw is full, and a vetoed server
		// counts as full: draw again, then take the least loaded server
		// with room, rather than queue while servers are free.
		for tries := 1; i == sched.NoServer && tries < len(b.servers); tries++ {
			i = b.algo.Pick(req)
		}
		if i == sched.NoServer {
			i = b.roomiestLocked(veto)
		}
	}
	b.veto = nil
	if i == sched.NoServer {
		if !b.anyCandidateLocked(veto) {
			return nil, nil, ErrNoServer
		}
		// Every server that could serve is full: wait for any of them.
		return nil, b.enqueueLocked(nil), nil
	}
	s := b.servers[i]
	if veto != nil && veto.Vetoed(s) {
		return nil, nil, ErrNoServer
	}
	if i != req.Avoid {
		// As HAProxy's lbtot: a retry that lands on the server it
		// leaves is not counted again.
		b.counters.Total.Add(1)
		s.state.counters.Total.Add(1)
	}
	if b.fullLocked(s) {
		// Hash-based picks keep their server even when it is full, and
		// wait for it, within its maxqueue.
		if s.MaxQueue > 0 && s.queue.n >= s.MaxQueue {
			return nil, nil, ErrQueueFull
		}
		return nil, b.enqueueLocked(s), nil
	}
	b.takeLocked(s)
	return s, nil, nil
}

// AcquireServer counts a request or connection on server s, chosen by the
// caller rather than the algorithm (cookie persistence, use-server). A full
// server makes it wait in s's queue, within s's maxqueue (ErrQueueFull) and
// the queue timeout; a server that leaves the pool while the request waits
// gives ErrNoServer, after which the caller may load-balance the request
// (option redispatch). It does not check that s is usable: persistence
// decides that.
func (b *Backend) AcquireServer(ctx context.Context, s *Server) error {
	b.mu.Lock()
	if !b.fullLocked(s) {
		b.takeLocked(s)
		b.mu.Unlock()
		return nil
	}
	if s.MaxQueue > 0 && s.queue.n >= s.MaxQueue {
		b.mu.Unlock()
		return ErrQueueFull
	}
	w := b.enqueueLocked(s)
	b.mu.Unlock()
	var timeout <-chan time.Time
	if b.queueTimeout > 0 {
		t := time.NewTimer(b.queueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case got := <-w.done:
		if got == nil {
			return ErrNoServer
		}
	case <-timeout:
		if got := b.abandon(w); got == nil {
			return ErrQueueTimeout
		}
	case <-ctx.Done():
		if got := b.abandon(w); got == nil {
			return ctx.Err()
		}
	}
	return nil
}

// wait blocks until w is granted a server, the queue timeout passes or ctx
// is done. A waiter whose server left the pool goes through the load
// balancer again, keeping its deadline.
func (b *Backend) wait(ctx context.Context, w *waiter, req sched.Request, veto Vetoer) (*Server, error) {
	var timeout <-chan time.Time
	if b.queueTimeout > 0 {
		t := time.NewTimer(b.queueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		var s *Server
		select {
		case s = <-w.done:
		case <-timeout:
			// A grant that raced with the timeout still counts.
			if s = b.abandon(w); s == nil {
				return nil, ErrQueueTimeout
			}
		case <-ctx.Done():
			if s = b.abandon(w); s == nil {
				return nil, ctx.Err()
			}
		}
		if s != nil {
			return s, nil
		}
		b.mu.Lock()
		s, next, err := b.pickLocked(req, veto)
		b.mu.Unlock()
		if next == nil {
			return s, err
		}
		w = next
	}
}

// abandon takes w out of its queue, for a caller that gives up. If a
// grant raced with the give-up, it returns the granted server, which the
// caller keeps; a redispatch that raced with it returns nil, like a
// give-up.
func (b *Backend) abandon(w *waiter) *Server {
	b.mu.Lock()
	if w.queue != nil {
		b.dequeueLocked(w)
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return <-w.done
}

// Release ends a request or connection that Acquire counted on s, and
// hands the freed slot to the oldest request waiting for it.
func (b *Backend) Release(s *Server) {
	b.mu.Lock()
	s.state.counters.Current.Add(-1)
	b.counters.Current.Add(-1)
	b.algo.LoadChanged(s.index)
	b.dispatchLocked(s)
	b.mu.Unlock()
	if b.slot != nil {
		b.slot.serverFreed(b, s.Name)
	}
}

func (b *Backend) takeLocked(s *Server) {
	s.state.counters.take()
	b.counters.take()
	now := time.Now()
	s.state.counters.StartSession(now)
	b.counters.StartSession(now)
	b.algo.LoadChanged(s.index)
}

// enqueueLocked queues a waiter on s, or on the backend when s is nil.
func (b *Backend) enqueueLocked(s *Server) *waiter {
	b.seq++
	w := &waiter{seq: b.seq, server: s, done: make(chan *Server, 1)}
	b.waiting++
	if s != nil {
		s.queue.push(w)
		storeMax(&s.state.counters.QueueMax, s.state.counters.QueueCurrent.Add(1))
		b.algo.LoadChanged(s.index)
	} else {
		b.queue.push(w)
		storeMax(&b.counters.QueueMax, b.counters.QueueCurrent.Add(1))
	}
	return w
}

func (b *Backend) dequeueLocked(w *waiter) {
	w.queue.remove(w)
	b.waiting--
	if s := w.server; s != nil {
		s.state.counters.QueueCurrent.Add(-1)
		b.algo.LoadChanged(s.index)
	} else {
		b.counters.QueueCurrent.Add(-1)
	}
}

// dispatchLocked gives s's free slots to the oldest waiters that may use
// s: those in its own queue, and those in the backend queue if s currently
// takes load-balanced traffic.
func (b *Backend) dispatchLocked(s *Server) {
	if b.waiting == 0 {
		return
	}
	takesBackendQueue := b.inGroupLocked(s)
	for s.MaxConnNow() == 0 || s.Served() < b.dynMaxConn(s) {
		w := s.queue.head
		if takesBackendQueue {
			// Requests from the backend queue get s without the load
			// balancer: HAProxy's lbtot does not count them.
			if bw := b.queue.head; bw != nil && (w == nil || bw.seq < w.seq) {
				w = bw
			}
		}
		if w == nil {
			return
		}
		b.dequeueLocked(w)
		b.takeLocked(s)
		w.done <- s
	}
}

// dispatchAllLocked offers every server's free slots to the queues, and
// sends backend-queued requests back to the load balancer when no server
// can take them any more.
func (b *Backend) dispatchAllLocked() {
	if b.waiting == 0 {
		return
	}
	for _, s := range b.servers {
		b.dispatchLocked(s)
	}
	if b.queue.n > 0 && !b.anyCandidateLocked(nil) {
		for b.queue.head != nil {
			w := b.queue.head
			b.dequeueLocked(w)
			w.done <- nil
		}
	}
}

// redistributeLocked sends the requests queued on s back to the load
// balancer.
func (b *Backend) redistributeLocked(s *Server) {
	for s.queue.head != nil {
		w := s.queue.head
		b.dequeueLocked(w)
		w.done <- nil
	}
}

// fullLocked reports whether s has reached its connection limit or has
// requests waiting for it.
func (b *Backend) fullLocked(s *Server) bool {
	return s.MaxConnNow() > 0 && (s.queue.n > 0 || s.Served() >= b.dynMaxConn(s))
}

// dynMaxConn is s's current connection limit: maxconn, or with minconn,
// a limit between minconn and maxconn that grows with the backend's load
// up to fullconn; during slow start, scaled by the share of it elapsed.
func (b *Backend) dynMaxConn(s *Server) int {
	maxConn := s.MaxConnNow()
	if s.MinConn == 0 || s.MinConn >= maxConn || b.config.FullConn <= 0 {
		return b.warmupMaxConn(s, maxConn)
	}
	load := int(b.counters.Current.Load()) + b.waiting
	if load >= b.config.FullConn {
		return b.warmupMaxConn(s, maxConn)
	}
	return b.warmupMaxConn(s, max(s.MinConn, load*maxConn/b.config.FullConn, 1))
}

// inGroupLocked reports whether s is in the group that load balancing
// currently uses: the usable active servers, or when there are none, the
// first usable backup (all usable backups with allbackups).
func (b *Backend) inGroupLocked(s *Server) bool {
	if !b.lbUsable[s.index] {
		return false
	}
	if !s.Backup {
		return true
	}
	for _, o := range b.servers {
		if !o.Backup && b.lbUsable[o.index] {
			return false
		}
	}
	if b.config.AllBackups {
		return true
	}
	for _, o := range b.servers {
		if o.Backup && b.lbUsable[o.index] {
			return o == s
		}
	}
	return false
}

// roomiestLocked returns the server of the group in use, not vetoed and
// not full, with the lowest load for its weight, or sched.NoServer.
func (b *Backend) roomiestLocked(veto Vetoer) int {
	best, bestLoad, bestWeight := sched.NoServer, 0, 1
	for _, s := range b.servers {
		if !b.inGroupLocked(s) || b.fullLocked(s) || veto.Vetoed(s) {
			continue
		}
		load, w := s.Served()+s.queue.n, b.lbWeight[s.index]
		if best == sched.NoServer || load*bestWeight < bestLoad*w {
			best, bestLoad, bestWeight = s.index, load, w
		}
	}
	return best
}

// UsableCounts returns how many active and backup servers take
// load-balanced traffic (HAProxy's "act" and "bck" stats). The backend is
// up while their sum is above zero.
func (b *Backend) UsableCounts() (active, backup int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.servers {
		switch {
		case !b.lbUsable[s.index]:
		case s.Backup:
			backup++
		default:
			active++
		}
	}
	return active, backup
}

// usableActives counts the active servers taking load-balanced traffic
// (HAProxy's srv_act).
func (b *Backend) usableActives() int {
	active, _ := b.UsableCounts()
	return active
}

// anyCandidateLocked reports whether some server could take load-balanced
// traffic, full or not.
func (b *Backend) anyCandidateLocked(veto Vetoer) bool {
	for _, s := range b.servers {
		if b.lbUsable[s.index] && (veto == nil || !veto.Vetoed(s)) {
			return true
		}
	}
	return false
}

// SetAdminState sets a server's admin state, as HAProxy's "set server
// <backend>/<server> state ready|drain|maint": ready also ends a
// maintenance that "disabled" started; drain and maint replace each other.
func (b *Backend) SetAdminState(server string, st AdminState) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	wasMaint, wasAdmin := s.AdminState() == AdminMaint, s.AdminState()
	switch st {
	case AdminReady:
		setAdminFlags(s.state, 0, FlagForcedMaint|FlagForcedDrain)
	case AdminDrain:
		setAdminFlags(s.state, FlagForcedDrain, FlagForcedMaint)
	case AdminMaint:
		setAdminFlags(s.state, FlagForcedMaint, FlagForcedDrain)
	default:
		return fmt.Errorf("unknown admin state %v", st)
	}
	// Leaving maintenance starts a slow start, as a recovery does.
	switch maint := s.AdminState() == AdminMaint; {
	case maint && !wasMaint:
		stopWarmup(s)
		// HAProxy zeroes the health counter of a server entering
		// maintenance (checks then restart it from rise).
		s.state.forcedHealth.Store(0 + 1)
	case !maint && wasMaint && s.Up():
		b.startWarmup(s)
	}
	if s.AdminState() != wasAdmin {
		s.state.lastChange.Store(time.Now().UnixNano())
	}
	b.changed(server)
	// Maintenance pauses the server's health checks; leaving it checks
	// the server at once.
	healthAdminChanged(b, server)
	return nil
}

// SetWeight sets a server's user weight (0..256), as HAProxy's "set weight".
// Map-based algorithms (static-rr, map-based hashing) accept only 0 and the
// configured weight.
func (b *Backend) SetWeight(server string, weight int) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	if weight < 0 || weight > 256 {
		return fmt.Errorf("weight %d out of range 0..256", weight)
	}
	if b.static && weight != 0 && weight != s.ConfigWeight {
		return fmt.Errorf("backend %q uses a static algorithm: weight must be 0 or %d (its configured weight)", b.name, s.ConfigWeight)
	}
	s.state.weight.Store(int32(weight))
	b.changed(server)
	return nil
}

// SetOperational sets a server's operational state: up, or down as after
// failed health checks.
func (b *Backend) SetOperational(server string, up bool) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	wasDown := s.state.down.Swap(!up)
	if wasDown == up {
		s.state.lastChange.Store(time.Now().UnixNano())
	}
	switch {
	case !up:
		stopWarmup(s)
	case wasDown:
		b.startWarmup(s)
	}
	b.changed(server)
	return nil
}

// SetStopping puts a server in or out of HAProxy's NOLB state, as an HTTP
// check with disable-on-404 does: a stopping server that is up takes no
// load-balanced traffic but still serves persistent requests.
func (b *Backend) SetStopping(server string, stopping bool) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	if s.state.stopping.Swap(stopping) != stopping {
		s.state.lastChange.Store(time.Now().UnixNano())
		if !stopping && s.Up() {
			// Back in load balancing: a slow start, as from DOWN.
			b.startWarmup(s)
		}
		b.changed(server)
	}
	return nil
}

// SetMaxConn sets a server's maxconn at run time (0: unlimited), as an
// agent-check "maxconn:" answer or HAProxy's "set maxconn server" does.
// Requests waiting for the server get the slots a higher limit frees.
func (b *Backend) SetMaxConn(server string, maxConn int) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	if maxConn < 0 {
		return fmt.Errorf("negative maxconn %d", maxConn)
	}
	s.state.maxConn.Store(int64(maxConn) + 1)
	b.changed(server)
	return nil
}

func (b *Backend) lookup(server string) (*Server, error) {
	s := b.byName[server]
	if s == nil {
		return nil, fmt.Errorf("backend %q has no server %q", b.name, server)
	}
	return s, nil
}

// changed tells every live backend sharing the server's state.
func (b *Backend) changed(server string) {
	if b.slot != nil {
		b.slot.serverChanged(server)
		return
	}
	b.serverChanged(server)
}

// serverChanged brings the algorithm and the queues up to date after the
// state or weight of the named server changed.
func (b *Backend) serverChanged(server string) {
	s := b.byName[server]
	if s == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	usable, weight, eweight := s.Usable(), s.Weight(), b.effectiveWeight(s)
	if usable != b.lbUsable[s.index] || weight != b.lbWeight[s.index] || eweight != b.lbEweight[s.index] {
		b.lbUsable[s.index], b.lbWeight[s.index], b.lbEweight[s.index] = usable, weight, eweight
		b.algo.Update(s.index)
		b.outages.set(slices.Contains(b.lbUsable, true))
	}
	// Requests queued on a server in maintenance, or on a down one when
	// redispatch is allowed, go back to the load balancer.
	if s.AdminState() == AdminMaint || (!s.Up() && b.config.Redispatch) {
		b.redistributeLocked(s)
	}
	b.dispatchAllLocked()
}

// freed offers a slot freed on the named server by another backend of the
// same name (during a reload) to this backend's queues.
func (b *Backend) freed(server string) {
	s := b.byName[server]
	if s == nil {
		return
	}
	b.mu.Lock()
	b.dispatchLocked(s)
	b.mu.Unlock()
}

// backendPool is the sched.Pool view of a Backend; the algorithm calls it
// with the backend's mutex held.
type backendPool Backend

var (
	_ sched.Pool              = (*backendPool)(nil)
	_ sched.Saturator         = (*backendPool)(nil)
	_ sched.EffectiveWeighter = (*backendPool)(nil)
)

func (p *backendPool) Usable(i int) bool         { return p.lbUsable[i] }
func (p *backendPool) Weight(i int) int          { return p.lbWeight[i] }
func (p *backendPool) EffectiveWeight(i int) int { return p.lbEweight[i] }

func (p *backendPool) Full(i int) bool {
	b := (*Backend)(p)
	s := b.servers[i]
	return b.fullLocked(s) || (b.veto != nil && b.veto.Vetoed(s))
}

// Saturated tells leastconn when a server can take no more requests, even
// queued: served and queued reach its limit plus its maxqueue.
func (p *backendPool) Saturated(i int) bool {
	b := (*Backend)(p)
	s := b.servers[i]
	if s.MaxConnNow() > 0 && s.Served()+s.queue.n >= b.dynMaxConn(s)+s.MaxQueue {
		return true
	}
	return b.veto != nil && b.veto.Vetoed(s)
}

func (p *backendPool) Load(i int) int {
	s := p.servers[i]
	return s.Served() + s.queue.n
}
