package lbmodule

import (
	"reflect"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// backends holds one *backendSlot per backend name. It is a UsagePool, as
// Caddy's reverse_proxy keeps its hosts: each handler that names a backend
// holds a reference, and a reload provisions the new handlers before it
// cleans up the old ones, so a backend in use by both configurations never
// leaves the pool.
var backends = caddy.NewUsagePool()

// backendSlot gathers the live Backends of one name. Usually there is one;
// during a reload the old configuration's Backend lives beside the new
// one until the old handlers are cleaned up. Backends of a slot share the
// runtime state of servers with the same name.
type backendSlot struct {
	name string

	mu sync.RWMutex
	// gens are the live backends, oldest first; refs counts the handlers
	// using each.
	gens []*Backend
	refs map[*Backend]int
	// live mirrors len(gens) for the lock-free check in serverFreed.
	live atomic.Int32
	// counters are the backend's counters, shared by its generations.
	counters *Counters
}

// Destruct implements caddy.Destructor; nothing outlives the last user.
func (s *backendSlot) Destruct() error { return nil }

// OpenBackend is what a handler (the HTTP selection policy, the TCP
// handler) calls in Provision: it attaches the backend for cfg from the
// registry — or builds a private one when cfg.Backend is empty — and
// starts its servers' health checks or joins those already running,
// logging check transitions to logger (nil: Caddy's default logger). The
// handler calls CloseBackend in Cleanup.
func OpenBackend(cfg BackendConfig, logger *zap.Logger) (*Backend, error) {
	var b *Backend
	var err error
	if cfg.Backend == "" {
		b, err = NewBackend(cfg)
	} else {
		b, err = AttachBackend(cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := attachHealth(b, logger); err != nil {
		CloseBackend(b)
		return nil, err
	}
	return b, nil
}

// CloseBackend undoes OpenBackend. A backend's health checks stop when
// the last handler using it closes it.
func CloseBackend(b *Backend) {
	if b == nil {
		return
	}
	if b.slot != nil {
		DetachBackend(b)
	}
	detachHealth(b, b.slot == nil)
}

// AttachBackend returns the Backend for cfg, registered under cfg.Backend,
// and takes a reference on it; every call must be paired with
// DetachBackend. Handlers whose configuration is identical share one
// Backend. A configuration that differs from the current one (a reload)
// gets a new Backend whose servers keep the runtime state — admin state,
// operational state, runtime weight, counters — of the servers of the same
// name; new servers start fresh and removed ones go with the old Backend.
func AttachBackend(cfg BackendConfig) (*Backend, error) {
	v, _, err := backends.LoadOrNew(cfg.Backend, func() (caddy.Destructor, error) {
		return &backendSlot{name: cfg.Backend, refs: make(map[*Backend]int)}, nil
	})
	if err != nil {
		return nil, err
	}
	slot := v.(*backendSlot)
	b, err := slot.attach(cfg)
	if err != nil {
		_, _ = backends.Delete(cfg.Backend)
		return nil, err
	}
	return b, nil
}

// DetachBackend drops a reference taken by AttachBackend. The last
// reference to a backend of an old configuration removes it.
func DetachBackend(b *Backend) {
	if b == nil || b.slot == nil {
		return
	}
	b.slot.detach(b)
	_, _ = backends.Delete(b.name)
}

// LookupBackend returns the current backend of the given name: the one
// built from the newest configuration.
func LookupBackend(name string) (*Backend, bool) {
	var found *Backend
	backends.Range(func(key, value any) bool {
		if key.(string) == name {
			found = value.(*backendSlot).current()
			return false
		}
		return true
	})
	return found, found != nil
}

// Backends returns the current backend of every name, sorted by name.
func Backends() []*Backend {
	var list []*Backend
	backends.Range(func(_, value any) bool {
		if b := value.(*backendSlot).current(); b != nil {
			list = append(list, b)
		}
		return true
	})
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list
}

func (s *backendSlot) current() *Backend {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.gens) == 0 {
		return nil
	}
	return s.gens[len(s.gens)-1]
}

func (s *backendSlot) attach(cfg BackendConfig) (*Backend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.gens) - 1; i >= 0; i-- {
		if g := s.gens[i]; reflect.DeepEqual(g.config, cfg) {
			s.refs[g]++
			// Sharing an older backend makes it the current one again.
			s.gens = append(append(s.gens[:i:i], s.gens[i+1:]...), g)
			return g, nil
		}
	}
	b, err := buildBackend(cfg, s.inheritLocked)
	if err != nil {
		return nil, err
	}
	if len(s.gens) > 0 {
		b.counters = s.gens[len(s.gens)-1].counters
	} else if s.counters != nil {
		b.counters = s.counters
	}
	s.counters = b.counters
	b.slot = s
	s.gens = append(s.gens, b)
	s.refs[b] = 1
	s.live.Store(int32(len(s.gens)))
	return b, nil
}

// inheritLocked finds the newest runtime state of a server name.
func (s *backendSlot) inheritLocked(name string) *serverState {
	for i := len(s.gens) - 1; i >= 0; i-- {
		if srv := s.gens[i].byName[name]; srv != nil {
			return srv.state
		}
	}
	return nil
}

func (s *backendSlot) detach(b *Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.refs[b]
	if !ok {
		return
	}
	if n > 1 {
		s.refs[b] = n - 1
		return
	}
	delete(s.refs, b)
	for i, g := range s.gens {
		if g == b {
			s.gens = append(s.gens[:i:i], s.gens[i+1:]...)
			break
		}
	}
	s.live.Store(int32(len(s.gens)))
}

// serverChanged updates every live backend after the shared state of the
// named server changed.
func (s *backendSlot) serverChanged(server string) {
	s.mu.RLock()
	gens := append([]*Backend(nil), s.gens...)
	s.mu.RUnlock()
	for _, g := range gens {
		g.serverChanged(server)
	}
}

// serverFreed offers a slot freed by one backend to the other live
// backends' queues, since they share the server's connection count.
func (s *backendSlot) serverFreed(from *Backend, server string) {
	if s.live.Load() < 2 {
		return
	}
	s.mu.RLock()
	gens := append([]*Backend(nil), s.gens...)
	s.mu.RUnlock()
	for _, g := range gens {
		if g != from {
			g.freed(server)
		}
	}
}
