package lbmodule

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Health checks run one checker per checked server, shared by every live
// Backend whose configuration checks that server the same way. A reload
// that leaves a server's check settings alone keeps its checker, so its
// health counter and counters go on untouched; a server whose settings
// changed gets a new checker that continues from the old one's state when
// it still checks the same address.

// healthKey names a server across configurations.
type healthKey struct{ backend, server string }

// healthEntry is one running checker and the backends that use it.
type healthEntry struct {
	key         healthKey
	fingerprint string
	target      string
	checker     *checks.Checker
	// logger is the newest attaching configuration's logger.
	logger atomic.Pointer[zap.Logger]
	// holders are the backends using the checker, oldest first; guarded
	// by healthChecks.mu. current is the newest, read by the checker's
	// goroutine.
	holders []*Backend
	current atomic.Pointer[Backend]
}

// lastHealth is the final status of a stopped checker, for a checker of
// the same server and address started later (a reload whose old and new
// configurations are attached and detached in either order).
type lastHealth struct {
	target string
	status checks.Status
}

var healthChecks = struct {
	mu        sync.Mutex
	byKey     map[healthKey][]*healthEntry
	byBackend map[*Backend][]*healthEntry
	last      map[healthKey]lastHealth
}{
	byKey:     make(map[healthKey][]*healthEntry),
	byBackend: make(map[*Backend][]*healthEntry),
	last:      make(map[healthKey]lastHealth),
}

// StartHealthChecks starts the health checks of b's servers that have a
// check setting, or joins checkers already running for them with the
// same settings. Servers without checks are marked up. It does nothing
// if b's checks already run. Registry backends get their checks through
// AttachBackend; a backend from NewBackend needs this call and a matching
// StopHealthChecks.
func StartHealthChecks(b *Backend) error { return attachHealth(b, nil) }

// StopHealthChecks stops the checks that only b uses.
func StopHealthChecks(b *Backend) { detachHealth(b, true) }

// validateHealth checks the health check settings of cfg, so that a bad
// setting fails at validation rather than when checks start.
func validateHealth(cfg *BackendConfig) error {
	if cfg.HealthChecks != nil {
		if err := cfg.HealthChecks.Validate(); err != nil {
			return fmt.Errorf("backend %q: health_checks: %v", cfg.Backend, err)
		}
	}
	for _, sc := range cfg.Servers {
		if sc.Check == nil {
			continue
		}
		if err := checks.Validate(sc.Dial, *sc.Check, cfg.HealthChecks); err != nil {
			return fmt.Errorf("backend %q: server %q: check: %v", cfg.Backend, sc.Name, err)
		}
	}
	return validateAgents(cfg)
}

// attachHealth is StartHealthChecks with the logger for transition
// messages; nil means Caddy's default logger.
func attachHealth(b *Backend, logger *zap.Logger) error {
	if logger == nil {
		logger = caddy.Log().Named("haproxy.health")
	}
	type opState struct {
		name         string
		up, stopping bool
	}
	var syncs []opState
	var started []*checks.Checker

	healthChecks.mu.Lock()
	if _, ok := healthChecks.byBackend[b]; ok {
		healthChecks.mu.Unlock()
		return nil
	}
	var mine []*healthEntry
	var firstErr error
	checked := 0
	minInter := time.Duration(0)
	for _, sc := range b.config.Servers {
		if sc.Check != nil {
			checked++
			if in := checkInter(sc.Check); minInter == 0 || in < minInter {
				minInter = in
			}
		}
	}
	pos := 0
	for _, s := range b.servers {
		sc := b.config.Servers[s.index]
		if sc.Check == nil {
			if !s.Up() || s.Stopping() {
				syncs = append(syncs, opState{s.Name, true, false})
			}
			continue
		}
		key := healthKey{b.name, s.Name}
		fp := healthFingerprint(b.config.HealthChecks, sc)
		var e *healthEntry
		for _, old := range healthChecks.byKey[key] {
			if old.fingerprint == fp {
				e = old
				break
			}
		}
		if e == nil {
			var err error
			e, err = newHealthEntry(b, s, sc, fp, logger, minInter*time.Duration(pos)/time.Duration(checked))
			if err != nil {
				firstErr = err
				break
			}
			healthChecks.byKey[key] = append(healthChecks.byKey[key], e)
			started = append(started, e.checker)
			if st := e.checker.Status(); st.Up != s.Up() || st.Stopping != s.Stopping() {
				syncs = append(syncs, opState{s.Name, st.Up, st.Stopping})
			}
		}
		pos++
		e.holders = append(e.holders, b)
		e.current.Store(b)
		e.logger.Store(logger)
		mine = append(mine, e)
	}
	healthChecks.byBackend[b] = mine
	healthChecks.mu.Unlock()

	if firstErr != nil {
		detachHealth(b, true)
		return firstErr
	}
	for _, st := range syncs {
		b.setCheckState(b.Server(st.name), st.up, st.stopping)
	}
	for _, c := range started {
		c.Start()
	}
	if err := startAgents(b, logger); err != nil {
		detachHealth(b, true)
		return err
	}
	return nil
}

func newHealthEntry(b *Backend, s *Server, sc ServerConfig, fp string, logger *zap.Logger, delay time.Duration) (*healthEntry, error) {
	key := healthKey{b.name, s.Name}
	e := &healthEntry{key: key, fingerprint: fp, target: checkTarget(sc)}
	e.logger.Store(logger)
	opts := checks.Options{
		Backend:    b.name,
		Server:     s.Name,
		Backup:     s.Backup,
		Dial:       sc.Dial,
		Check:      *sc.Check,
		Config:     b.config.HealthChecks,
		FirstDelay: delay,
		OnEvent:    e.onEvent,
		Paused:     e.paused,
	}
	opts.Check.StartDown = opts.Check.StartDown || sc.Disabled
	// Continue from the newest checker of the same server and address.
	entries := healthChecks.byKey[key]
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].target == e.target {
			st := entries[i].checker.Status()
			opts.Initial = &st
			break
		}
	}
	if opts.Initial == nil {
		if last, ok := healthChecks.last[key]; ok && last.target == e.target {
			st := last.status
			opts.Initial = &st
		}
	}
	c, err := checks.New(opts)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %v", b.name, err)
	}
	e.checker = c
	return e, nil
}

// detachHealth stops the checkers that only b used. With force false it
// does nothing while b is still live in its registry slot (other handlers
// hold it).
func detachHealth(b *Backend, force bool) {
	if !force && b.slot != nil && b.slot.hasLive(b) {
		return
	}
	stopAgents(b)
	var stop []*healthEntry
	var resync []*healthEntry
	healthChecks.mu.Lock()
	for _, e := range healthChecks.byBackend[b] {
		e.holders = slices.DeleteFunc(e.holders, func(h *Backend) bool { return h == b })
		if len(e.holders) > 0 {
			e.current.Store(e.holders[len(e.holders)-1])
			continue
		}
		e.current.Store(nil)
		healthChecks.byKey[e.key] = slices.DeleteFunc(healthChecks.byKey[e.key], func(o *healthEntry) bool { return o == e })
		if rest := healthChecks.byKey[e.key]; len(rest) > 0 {
			resync = append(resync, rest[len(rest)-1])
		} else {
			delete(healthChecks.byKey, e.key)
		}
		stop = append(stop, e)
	}
	delete(healthChecks.byBackend, b)
	healthChecks.mu.Unlock()

	for _, e := range stop {
		e.checker.Stop()
		healthChecks.mu.Lock()
		healthChecks.last[e.key] = lastHealth{target: e.target, status: e.checker.Status()}
		healthChecks.mu.Unlock()
	}
	// A configuration rolled back: the older checker's view applies again.
	for _, e := range resync {
		if nb := e.applyTo(); nb != nil {
			if s := nb.Server(e.key.server); s != nil {
				if st := e.checker.Status(); st.Up != s.Up() || st.Stopping != s.Stopping() {
					nb.setCheckState(s, st.Up, st.Stopping)
				}
			}
		}
	}
}

// HealthStatus returns the check status of the named server as this
// backend sees it, and false when the server is not checked.
func (b *Backend) HealthStatus(server string) (checks.Status, bool) {
	healthChecks.mu.Lock()
	var c *checks.Checker
	for _, e := range healthChecks.byBackend[b] {
		if e.key.server == server {
			c = e.checker
			break
		}
	}
	healthChecks.mu.Unlock()
	if c == nil {
		return checks.Status{}, false
	}
	return c.Status(), true
}

// hasLive reports whether b is still a live backend of the slot.
func (s *backendSlot) hasLive(b *Backend) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.refs[b]
	return ok
}

// paused reports whether the server is in maintenance, which pauses its
// checks as in HAProxy.
func (e *healthEntry) paused() bool {
	b := e.current.Load()
	if b == nil {
		return true
	}
	s := b.Server(e.key.server)
	return s == nil || s.AdminState() == AdminMaint
}

// onEvent applies a check's outcome to the newest backend that uses the
// checker, and logs it in HAProxy's words.
func (e *healthEntry) onEvent(ev checks.Event) {
	b := e.applyTo()
	if b == nil {
		// A newer configuration checks this server its own way.
		return
	}
	s := b.Server(e.key.server)
	if s == nil {
		return
	}
	if ev.Resumed {
		if !s.Up() || s.Stopping() {
			b.setCheckState(s, true, false)
		}
		return
	}
	logger := e.logger.Load()
	fields := []zap.Field{zap.String("backend", ev.Backend), zap.String("server", ev.Server)}
	if ev.LogHealthChecks && ev.Moved {
		logger.Info(ev.CheckMessage(s.Weight() == 0), fields...)
	}
	if ev.Transition == checks.NoChange {
		return
	}
	applyTransition(b, s, ev, logger)
}

// applyTransition applies a change of operational state that a check or
// an agent-check answer decided, and logs it in HAProxy's words.
func applyTransition(b *Backend, s *Server, ev checks.Event, logger *zap.Logger) {
	fields := []zap.Field{zap.String("backend", ev.Backend), zap.String("server", ev.Server)}
	queued := s.Queued()
	beQueued := b.Counters().QueueCurrent.Load()
	b.setCheckState(s, ev.Transition != checks.WentDown, ev.State.Stopping)

	var c checks.Counts
	for _, o := range b.Servers() {
		if !o.Usable() {
			continue
		}
		if o.Backup {
			c.Backup++
		} else {
			c.Active++
		}
	}
	c.Sessions = s.Served()
	c.Queued = s.Queued()
	if ev.Transition == checks.WentDown {
		c.Requeued = max(queued-c.Queued, 0)
	} else {
		c.Requeued = int(max(beQueued-b.Counters().QueueCurrent.Load(), 0))
	}
	msg := ev.TransitionMessage(c)
	if ev.Transition == checks.WentUp {
		logger.Info(msg, fields...)
	} else {
		logger.Warn(msg, fields...)
	}
	if ev.Transition != checks.WentUp && c.Active == 0 && c.Backup == 0 {
		logger.Error(checks.NoServerMessage(ev.Backend), zap.String("backend", ev.Backend))
	}
}

// setCheckState applies the checks' view of a server: up or down, and
// stopping (NOLB) while up. A down server is never stopping.
func (b *Backend) setCheckState(s *Server, up, stopping bool) {
	stopping = stopping && up
	if up {
		s.state.agentDown.Store(false)
	}
	// Stopping goes first when entering NOLB and last when leaving it,
	// so the server is never briefly in load balancing by mistake.
	if stopping {
		_ = b.SetStopping(s.Name, true)
		_ = b.SetOperational(s.Name, up)
		return
	}
	_ = b.SetOperational(s.Name, up)
	_ = b.SetStopping(s.Name, false)
}

// healthAdminChanged tells the server's checkers that its admin state
// changed: maintenance pauses them, and leaving it restarts the server UP
// with health = rise and checks it at once, as in HAProxy.
func healthAdminChanged(b *Backend, server string) {
	s := b.Server(server)
	if s == nil {
		return
	}
	maint := s.AdminState() == AdminMaint
	healthChecks.mu.Lock()
	defer healthChecks.mu.Unlock()
	for _, e := range healthChecks.byKey[healthKey{b.name, server}] {
		e.checker.SetPaused(maint)
	}
}

// applyTo returns the backend whose view the checker's results update:
// the current backend of its name if that backend uses this checker,
// else nil.
func (e *healthEntry) applyTo() *Backend {
	b := e.current.Load()
	if b == nil || b.slot == nil {
		return b
	}
	cur := b.slot.current()
	if cur == b {
		return b
	}
	// An older configuration became current again (it was attached anew).
	healthChecks.mu.Lock()
	defer healthChecks.mu.Unlock()
	if slices.Contains(e.holders, cur) {
		return cur
	}
	return nil
}

// checkInter is a server's effective check interval.
func checkInter(sc *checks.ServerConfig) time.Duration {
	if sc.Inter > 0 {
		return time.Duration(sc.Inter)
	}
	return checks.DefaultInter
}

// healthFingerprint identifies everything that shapes a server's checks;
// equal fingerprints share a checker across configurations.
func healthFingerprint(hc *checks.Config, sc ServerConfig) string {
	b, _ := json.Marshal(struct {
		Dial   string
		Backup bool
		Check  *checks.ServerConfig
		Config *checks.Config
	}{sc.Dial, sc.Backup, sc.Check, hc})
	return string(b)
}

// checkTarget is the address a server's checks go to.
func checkTarget(sc ServerConfig) string {
	return fmt.Sprintf("%s|%s|%d", sc.Dial, sc.Check.Addr, sc.Check.Port)
}
