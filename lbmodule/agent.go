package lbmodule

import (
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Agent checks ("agent-check") run one querier per server with an agent,
// per backend: unlike health checks they keep no counter of their own, so
// a reload simply starts the new configuration's queriers and stops the
// old ones. What an answer sets (health, admin state, weight, maxconn)
// lives in the servers' shared runtime state.

// agentEntry is one server's running agent querier.
type agentEntry struct {
	server string
	agent  *checks.Agent

	mu sync.Mutex
	// last is the status of the last query, as the stats page's
	// agent_status and last_agt show it.
	last checks.Result
}

var agents = struct {
	mu        sync.Mutex
	byBackend map[*Backend][]*agentEntry
}{byBackend: make(map[*Backend][]*agentEntry)}

// validateAgents checks the agent settings of cfg's servers.
func validateAgents(cfg *BackendConfig) error {
	for _, sc := range cfg.Servers {
		if sc.AgentCheck == nil {
			continue
		}
		if _, err := checks.NewAgent(checks.AgentOptions{Backend: cfg.Backend, Server: sc.Name, Dial: sc.Dial, Config: *sc.AgentCheck}); err != nil {
			return fmt.Errorf("backend %q: %v", cfg.Backend, err)
		}
	}
	return nil
}

// startAgents starts the agent queriers of b's servers, once.
func startAgents(b *Backend, logger *zap.Logger) error {
	agents.mu.Lock()
	defer agents.mu.Unlock()
	if _, ok := agents.byBackend[b]; ok {
		return nil
	}
	var mine []*agentEntry
	for _, s := range b.servers {
		sc := b.config.Servers[s.index]
		if sc.AgentCheck == nil {
			continue
		}
		e := &agentEntry{server: s.Name, last: checks.Result{Code: checks.Initializing}}
		a, err := checks.NewAgent(checks.AgentOptions{
			Backend: b.name,
			Server:  s.Name,
			Dial:    sc.Dial,
			Config:  *sc.AgentCheck,
			OnResult: func(r checks.AgentResult) {
				b.applyAgent(e, r, logger)
			},
		})
		if err != nil {
			for _, o := range mine {
				o.agent.Stop()
			}
			return fmt.Errorf("backend %q: %v", b.name, err)
		}
		e.agent = a
		mine = append(mine, e)
	}
	agents.byBackend[b] = mine
	for _, e := range mine {
		e.agent.Start()
	}
	return nil
}

// stopAgents stops b's agent queriers.
func stopAgents(b *Backend) {
	agents.mu.Lock()
	mine := agents.byBackend[b]
	delete(agents.byBackend, b)
	agents.mu.Unlock()
	for _, e := range mine {
		e.agent.Stop()
	}
}

// AgentStatus returns the status of the last agent-check query of the
// named server, and false when it has no agent-check.
func (b *Backend) AgentStatus(server string) (checks.Result, bool) {
	e := agentOfServer(b, server)
	if e == nil {
		return checks.Result{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last, true
}

// applyAgent applies one agent answer as HAProxy 2.6 does: the admin
// state first, then the weight and maxconn, and the health last. A query
// that got no complete line changes nothing but the agent's status.
func (b *Backend) applyAgent(e *agentEntry, r checks.AgentResult, logger *zap.Logger) {
	if b.slot != nil && b.slot.current() != b {
		// A newer configuration's querier speaks for the server.
		return
	}
	s := b.Server(e.server)
	if !r.OK {
		e.mu.Lock()
		if r.Failure.Code == checks.Checked {
			// An incomplete line keeps the last status, with a note.
			e.last.Info = r.Failure.Info
		} else {
			e.last = r.Failure
		}
		e.mu.Unlock()
		return
	}
	reply := r.Reply
	switch reply.Admin {
	case "ready":
		_ = b.SetAdminState(s.Name, AdminReady)
	case "drain":
		_ = b.SetAdminState(s.Name, AdminDrain)
	case "maint":
		_ = b.SetAdminState(s.Name, AdminMaint)
	}
	var warning string
	if reply.Weight != "" {
		w, err := checks.ParseWeight(reply.Weight, s.ConfigWeight)
		if err == nil && b.static && w != 0 && w != s.ConfigWeight {
			err = fmt.Errorf("Backend is using a static LB algorithm and only accepts weights '0%%' and '100%%'.\n")
		}
		if err == nil {
			err = b.SetWeight(s.Name, w)
		}
		if err != nil {
			warning = err.Error()
		}
	}
	if reply.HasMaxConn {
		n, err := checks.ParseMaxConn(reply.MaxConn)
		if err == nil {
			err = b.SetMaxConn(s.Name, n)
		}
		if err != nil && warning == "" {
			warning = err.Error()
		}
	}

	if reply.Health == "" {
		status := checks.Result{Code: checks.Checked, Duration: r.Duration}
		switch {
		case reply.Unknown != "":
			status.Info = "agent reports an error : " + reply.Unknown
		case warning != "":
			status.Info = "agent warns : " + warning
		}
		e.setLast(status)
		return
	}
	up := reply.Health == "up"
	msg := reply.Description
	if msg == "" || up {
		switch {
		case reply.Unknown != "":
			msg = reply.Unknown
		case warning != "":
			msg = warning
		}
	}
	status := checks.Result{Code: checks.L7STS, Info: "via agent : " + reply.Health, Duration: r.Duration}
	if up {
		status.Code = checks.L7OK
	}
	if msg != "" {
		status.Info += " (" + msg + ")"
	}
	e.setLast(status)

	var ev checks.Event
	if c := checkerOfServer(b, s.Name); c != nil {
		// The answer sets the health check's counter, as in HAProxy.
		ev = c.Force(up, status)
	} else {
		ev = checks.Event{Backend: b.name, Server: s.Name, Backup: s.Backup, Result: status,
			State: checks.State{Up: up}}
		switch {
		case up && !s.Up():
			ev.Transition = checks.WentUp
		case !up && s.Up():
			ev.Transition = checks.WentDown
		}
	}
	if ev.Transition == checks.NoChange {
		return
	}
	applyTransition(b, s, ev, logger)
	if !up {
		s.state.agentDown.Store(true)
	}
}

func (e *agentEntry) setLast(r checks.Result) {
	e.mu.Lock()
	e.last = r
	e.mu.Unlock()
}

// checkerOfServer returns the health checker b uses for the named server,
// or nil.
func checkerOfServer(b *Backend, server string) *checks.Checker {
	healthChecks.mu.Lock()
	defer healthChecks.mu.Unlock()
	for _, e := range healthChecks.byBackend[b] {
		if e.key.server == server {
			return e.checker
		}
	}
	return nil
}
