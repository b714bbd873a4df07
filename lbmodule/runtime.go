package lbmodule

import (
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Runtime operations on servers beyond admin state and weight: the
// operational state forced by an operator, and checks turned off and on.
// The admin API and HAProxy's runtime API (stats socket) call them.

// Errors of the runtime operations on checks.
var (
	// ErrNoHealthCheck means the server has no "check".
	ErrNoHealthCheck = errors.New("health checks are not configured on this server")
	// ErrNoAgentCheck means the server has no "agent-check".
	ErrNoAgentCheck = errors.New("agent checks are not configured on this server")
)

// Health is an operational state an operator forces, as HAProxy's "set
// server <b>/<s> health up|stopping|down".
type Health int

// Forced operational states.
const (
	// HealthUp makes the server UP with its health counter at the top.
	HealthUp Health = iota
	// HealthStopping makes it NOLB: up, out of load balancing, still
	// reached by persistent requests.
	HealthStopping
	// HealthDown makes it DOWN with its health counter at 0.
	HealthDown
)

// ParseHealth reads "up", "stopping" or "down" in any case.
func ParseHealth(s string) (Health, error) {
	switch strings.ToLower(s) {
	case "up":
		return HealthUp, nil
	case "stopping":
		return HealthStopping, nil
	case "down":
		return HealthDown, nil
	}
	return 0, fmt.Errorf("unknown health %q (want up, stopping or down)", s)
}

// String returns the state as the runtime API spells it.
func (h Health) String() string {
	switch h {
	case HealthUp:
		return "up"
	case HealthStopping:
		return "stopping"
	case HealthDown:
		return "down"
	}
	return fmt.Sprintf("Health(%d)", int(h))
}

// ForceHealth sets a server's operational state as an operator does. Its
// health counter follows (0 for down, the top otherwise), so a checked
// server's next checks go on from there; an unchecked server keeps the
// state until changed again.
func (b *Backend) ForceHealth(server string, h Health) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	if h != HealthUp && h != HealthStopping && h != HealthDown {
		return fmt.Errorf("unknown health %v", h)
	}
	reason := checks.Result{Code: checks.Checked, Info: "changed from CLI"}
	c := checkerOfServer(b, server)
	if c == nil {
		if h == HealthDown {
			s.state.forcedHealth.Store(0 + 1)
		} else {
			s.state.forcedHealth.Store(defaultRise + defaultFall - 1 + 1)
		}
		b.setCheckState(s, h != HealthDown, h == HealthStopping)
		return nil
	}
	var ev checks.Event
	if h == HealthStopping {
		ev = c.ForceStopping(reason)
	} else {
		ev = c.Force(h == HealthUp, reason)
	}
	if ev.Transition == checks.NoChange && s.Up() == (h != HealthDown) && s.Stopping() == (h == HealthStopping) {
		return nil
	}
	b.setCheckState(s, h != HealthDown, h == HealthStopping)
	caddy.Log().Named("haproxy.health").Info("server health changed from the runtime API",
		zap.String("backend", b.name), zap.String("server", server), zap.Stringer("health", h))
	return nil
}

// ForceAgentHealth sets a server's operational state as an agent's "up"
// or "down" answer would, as HAProxy's "set server <b>/<s> agent up|down":
// the health check's counter is left alone. A server without
// "agent-check" gets ErrNoAgentCheck.
func (b *Backend) ForceAgentHealth(server string, up bool) error {
	s, err := b.lookup(server)
	if err != nil {
		return err
	}
	if agentOfServer(b, server) == nil {
		return ErrNoAgentCheck
	}
	b.setCheckState(s, up, false)
	s.state.agentDown.Store(!up)
	return nil
}

// SetHealthChecks turns a server's health checks off or on, as HAProxy's
// "disable health" and "enable health": while off, no check runs and the
// operational state stays as it is. Enabling checks of a server without
// "check" is ErrNoHealthCheck; disabling them is a no-op.
func (b *Backend) SetHealthChecks(server string, on bool) error {
	if _, err := b.lookup(server); err != nil {
		return err
	}
	healthChecks.mu.Lock()
	var found bool
	for _, e := range healthChecks.byKey[healthKey{b.name, server}] {
		e.checker.SetEnabled(on)
		found = true
	}
	healthChecks.mu.Unlock()
	if !found && on {
		return ErrNoHealthCheck
	}
	return nil
}

// HealthChecksEnabled reports whether the server's health checks run
// (enabled) and whether it has any (configured).
func (b *Backend) HealthChecksEnabled(server string) (enabled, configured bool) {
	c := checkerOfServer(b, server)
	if c == nil {
		return false, false
	}
	return c.Enabled(), true
}

// SetAgentCheck turns a server's agent queries off or on, as HAProxy's
// "disable agent" and "enable agent"; what earlier answers set stays.
// Enabling the agent of a server without "agent-check" is
// ErrNoAgentCheck; disabling it is a no-op.
func (b *Backend) SetAgentCheck(server string, on bool) error {
	if _, err := b.lookup(server); err != nil {
		return err
	}
	e := agentOfServer(b, server)
	if e == nil {
		if on {
			return ErrNoAgentCheck
		}
		return nil
	}
	e.agent.SetEnabled(on)
	return nil
}

// AgentCheckEnabled reports whether the server's agent is queried
// (enabled) and whether it has one (configured).
func (b *Backend) AgentCheckEnabled(server string) (enabled, configured bool) {
	e := agentOfServer(b, server)
	if e == nil {
		return false, false
	}
	return e.agent.Enabled(), true
}

// agentOfServer returns b's agent querier for the named server, or nil.
func agentOfServer(b *Backend, server string) *agentEntry {
	agents.mu.Lock()
	defer agents.mu.Unlock()
	for _, e := range agents.byBackend[b] {
		if e.server == server {
			return e
		}
	}
	return nil
}
