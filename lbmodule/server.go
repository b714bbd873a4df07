package lbmodule

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// AdminState is a server's administrative state, as set by the admin API or
// by "disabled" in the configuration.
type AdminState int

// Administrative states, as HAProxy's "set server <b>/<s> state".
const (
	// AdminReady is normal operation.
	AdminReady AdminState = iota
	// AdminDrain keeps the server up and checked but takes it out of load
	// balancing; persistent requests still reach it.
	AdminDrain
	// AdminMaint stops all traffic to the server.
	AdminMaint
)

// String returns the state as HAProxy writes it: READY, DRAIN or MAINT.
func (a AdminState) String() string {
	switch a {
	case AdminReady:
		return "READY"
	case AdminDrain:
		return "DRAIN"
	case AdminMaint:
		return "MAINT"
	}
	return fmt.Sprintf("AdminState(%d)", int(a))
}

// ParseAdminState reads "ready", "drain" or "maint" in any case.
func ParseAdminState(s string) (AdminState, error) {
	switch strings.ToLower(s) {
	case "ready":
		return AdminReady, nil
	case "drain":
		return AdminDrain, nil
	case "maint":
		return AdminMaint, nil
	}
	return 0, fmt.Errorf("unknown admin state %q (want ready, drain or maint)", s)
}

// Admin flags, with HAProxy's bit values so the stats page can show them
// as HAProxy does. Maintenance is FlagForcedMaint; FlagConfigMaint only
// records that the configuration said "disabled" (which sets both), so a
// runtime "ready" leaves 0x04, as in HAProxy's "show servers state".
const (
	// FlagForcedMaint is maintenance, set at run time or by "disabled".
	FlagForcedMaint uint32 = 0x01
	// FlagConfigMaint marks a server "disabled" in the configuration.
	FlagConfigMaint uint32 = 0x04
	// FlagForcedDrain is drain set at run time.
	FlagForcedDrain uint32 = 0x08

	maintFlags = FlagForcedMaint
	drainFlags = FlagForcedDrain
)

// Counters are a server's traffic counters. Every field is updated
// atomically, so readers (stats, admin API) need no lock.
type Counters struct {
	// Current is the number of requests (HTTP) or connections (TCP) being
	// served now (HAProxy's scur).
	Current atomic.Int64
	// Max is the highest Current seen (smax).
	Max atomic.Int64
	// Total is the number of times the load balancer chose the server
	// (lbtot): not counting requests handed over from the backend queue,
	// nor a retry that chose the server it was leaving.
	Total atomic.Int64
	// Sessions is the number of requests or connections sent to the
	// server, by the load balancer or otherwise (stot).
	Sessions atomic.Int64
	// QueueCurrent is the number of requests waiting in the server's queue
	// (qcur); QueueMax the highest QueueCurrent seen (qmax).
	QueueCurrent atomic.Int64
	QueueMax     atomic.Int64
	// BytesIn and BytesOut count the bytes received from clients and
	// sent to them (bin, bout).
	BytesIn  atomic.Int64
	BytesOut atomic.Int64

	// Traffic holds the rest of HAProxy's per-object counters.
	Traffic
}

// take counts one more request being served.
func (c *Counters) take() {
	cur := c.Current.Add(1)
	c.Sessions.Add(1)
	storeMax(&c.Max, cur)
}

func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

// serverState is the part of a server that outlives a configuration: it is
// shared, by server name, between the backends built from successive
// configurations, so admin state, health and counters survive a reload.
type serverState struct {
	// admin holds the Flag* bits.
	admin atomic.Uint32
	// down is the operational state: false is UP. Health checks set it.
	down atomic.Bool
	// stopping is HAProxy's NOLB: up, but out of load balancing, as set
	// by an HTTP check with disable-on-404; persistence still applies.
	stopping atomic.Bool
	// weight is the current user weight (0..256).
	weight atomic.Int32
	// configWeight is the weight the configuration gave when weight was
	// last taken from it; a reload keeps a runtime weight only if the
	// configured weight did not change, as HAProxy's server-state file.
	configWeight atomic.Int32
	// configDisabled is "disabled" as the configuration last said it.
	configDisabled atomic.Bool
	// warmup is the slow start in progress, if any.
	warmup warmup
	// maxConn is a maxconn set at run time (by an agent-check answer),
	// plus one; 0 keeps the configured one.
	maxConn atomic.Int64
	// agentDown records that an agent-check answer took the server down
	// (the stats page's "DOWN (agent)").
	agentDown atomic.Bool
	// forcedHealth is the health counter of a server without checks, as
	// an operator forced it, plus one; 0 is HAProxy's initial value.
	forcedHealth atomic.Int32
	// lastChange is when the admin or operational state last changed,
	// in Unix nanoseconds (the stats page's lastchg).
	lastChange atomic.Int64

	counters Counters
}

// Server is one server of a backend. Its configuration is fixed; its
// runtime state (admin and operational state, weight, counters) is read
// through methods and changed through the Backend.
type Server struct {
	// Name is the server's name in its backend.
	Name string
	// Dial is the network address.
	Dial string
	// ID is the numeric id: the configured one or the position from 1.
	ID int
	// Backup marks a backup server.
	Backup bool
	// Cookie is the persistence cookie value.
	Cookie string
	// MaxConn, MaxQueue and MinConn are as in ServerConfig; 0 means unset.
	MaxConn, MaxQueue, MinConn int
	// ConfigWeight is the weight from the configuration.
	ConfigWeight int
	// SlowStart is the slow start period in whole seconds; 0 for none.
	SlowStart int64

	index int
	state *serverState
	// queue holds the requests waiting for this server; guarded by the
	// backend's mutex.
	queue waitQueue
}

// Index is the server's position in its backend's server list.
func (s *Server) Index() int { return s.index }

// AdminState reports the administrative state; MAINT wins over DRAIN.
func (s *Server) AdminState() AdminState {
	f := s.state.admin.Load()
	switch {
	case f&maintFlags != 0:
		return AdminMaint
	case f&drainFlags != 0:
		return AdminDrain
	}
	return AdminReady
}

// AdminFlags returns the raw admin flags (the Flag* constants).
func (s *Server) AdminFlags() uint32 { return s.state.admin.Load() }

// Up reports the operational state: true unless health checks marked the
// server down. A server in maintenance may still be Up; see Usable.
func (s *Server) Up() bool { return !s.state.down.Load() }

// Stopping reports HAProxy's NOLB state: the server is up but takes no
// load-balanced traffic, only persistent requests ("http-check
// disable-on-404" saw a 404).
func (s *Server) Stopping() bool { return s.state.stopping.Load() }

// MaxConnNow is the server's current maxconn: the configured one, or the
// one an agent-check answer set. 0 is unlimited.
func (s *Server) MaxConnNow() int {
	if v := s.state.maxConn.Load(); v > 0 {
		return int(v - 1)
	}
	return s.MaxConn
}

// DownByAgent reports that the server is down because its agent-check
// answered down, fail or stopped (the stats page's "DOWN (agent)").
func (s *Server) DownByAgent() bool { return !s.Up() && s.state.agentDown.Load() }

// Weight returns the current user weight.
func (s *Server) Weight() int { return int(s.state.weight.Load()) }

// Usable reports whether the load balancer may choose the server: up, not
// stopping (NOLB), not in maintenance or drain, and with a weight above
// zero.
func (s *Server) Usable() bool {
	return !s.state.down.Load() && !s.state.stopping.Load() && s.state.admin.Load()&(maintFlags|drainFlags) == 0 && s.state.weight.Load() > 0
}

// LastChange is when the server's admin or operational state last
// changed, or when it was first configured.
func (s *Server) LastChange() time.Time { return time.Unix(0, s.state.lastChange.Load()) }

// Counters returns the server's counters.
func (s *Server) Counters() *Counters { return &s.state.counters }

// Served is the number of requests or connections being served.
func (s *Server) Served() int { return int(s.state.counters.Current.Load()) }

// Queued is the number of requests waiting in this server's queue.
func (s *Server) Queued() int { return int(s.state.counters.QueueCurrent.Load()) }

// newServer builds a server from its configuration at position index,
// reusing prev's runtime state when the server existed before a reload.
func newServer(sc ServerConfig, index int, prev *serverState) *Server {
	w := 1
	if sc.Weight != nil {
		w = *sc.Weight
	}
	id := sc.ID
	if id == 0 {
		id = index + 1
	}
	st := prev
	if st == nil {
		st = new(serverState)
		st.lastChange.Store(time.Now().UnixNano())
		st.weight.Store(int32(w))
		st.configWeight.Store(int32(w))
		if sc.Disabled {
			st.admin.Store(FlagConfigMaint | FlagForcedMaint)
			st.configDisabled.Store(true)
		}
	} else {
		if int(st.configWeight.Load()) != w {
			// The configuration changed the weight: it wins over a
			// runtime one.
			st.weight.Store(int32(w))
			st.configWeight.Store(int32(w))
		}
		if st.configDisabled.Load() != sc.Disabled {
			// "disabled" was added or removed: the configuration wins;
			// otherwise the runtime admin state carries over.
			st.configDisabled.Store(sc.Disabled)
			setAdminFlags(st, boolFlags(sc.Disabled, FlagConfigMaint|FlagForcedMaint), FlagConfigMaint|FlagForcedMaint)
		}
	}
	return &Server{
		Name:         sc.Name,
		Dial:         sc.Dial,
		ID:           id,
		Backup:       sc.Backup,
		Cookie:       sc.Cookie,
		MaxConn:      sc.MaxConn,
		MaxQueue:     sc.MaxQueue,
		MinConn:      sc.MinConn,
		ConfigWeight: w,
		SlowStart:    slowStartSeconds(time.Duration(sc.SlowStart)),
		index:        index,
		state:        st,
	}
}

// setAdminFlags sets the bits of set and clears those of clear, atomically.
func setAdminFlags(st *serverState, set, clear uint32) {
	for {
		old := st.admin.Load()
		if st.admin.CompareAndSwap(old, old&^clear|set) {
			if old != old&^clear|set {
				st.lastChange.Store(time.Now().UnixNano())
			}
			return
		}
	}
}

// Health counter of a server without checks, with HAProxy's default rise
// and fall: it starts at rise and an operator's "health up" or "health
// down" moves it to the top or to 0, as in HAProxy's server-state file.
const (
	defaultRise = 2
	defaultFall = 3
)

// UncheckedHealth is the health counter HAProxy keeps for a server without
// checks (see ForceHealth).
func (s *Server) UncheckedHealth() int {
	if v := s.state.forcedHealth.Load(); v > 0 {
		return int(v - 1)
	}
	return defaultRise
}

func boolFlags(on bool, f uint32) uint32 {
	if on {
		return f
	}
	return 0
}
