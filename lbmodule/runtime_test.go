package lbmodule

import (
	"errors"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// Disabled health checks leave the server as they last saw it, even when
// it fails; enabled again, they take it down.
func TestHealthChecksDisabledAtRunTime(t *testing.T) {
	o := newHCOrigin(t)
	b, _ := attachChecked(t, BackendConfig{
		Backend:      "rt-disable-health",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers:      []ServerConfig{{Name: "s1", Dial: o.dial, Check: fastCheck(1, 1)}},
	})
	hcWait(t, "first checks", func() bool { return o.hits.Load() > 1 })
	if err := b.SetHealthChecks("s1", false); err != nil {
		t.Fatal(err)
	}
	if on, configured := b.HealthChecksEnabled("s1"); on || !configured {
		t.Fatalf("HealthChecksEnabled = %v, %v after disabling", on, configured)
	}
	o.healthy.Store(false)
	// A check already running may still land.
	time.Sleep(50 * time.Millisecond)
	hits := o.hits.Load()
	time.Sleep(150 * time.Millisecond)
	if got := o.hits.Load(); got != hits {
		t.Errorf("%d checks ran while disabled", got-hits)
	}
	if !b.Server("s1").Up() {
		t.Fatal("a failing server went down while its checks were disabled")
	}
	if st, _ := b.HealthStatus("s1"); !st.Disabled {
		t.Error("HealthStatus does not report the checks disabled")
	}
	if err := b.SetHealthChecks("s1", true); err != nil {
		t.Fatal(err)
	}
	hcWait(t, "the failing server down once checks run again", func() bool { return !b.Server("s1").Up() })
}

// Forcing the health of a checked server moves its health counter as
// HAProxy does: down to 0, up and stopping to the top; the next check
// goes on from there.
func TestForceHealthOfCheckedServer(t *testing.T) {
	o := newHCOrigin(t)
	b, _ := attachChecked(t, BackendConfig{
		Backend:      "rt-force-health",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers: []ServerConfig{
			{Name: "s1", Dial: o.dial, Check: &checks.ServerConfig{Inter: checks.Duration(time.Hour), Rise: 2, Fall: 3}},
			{Name: "s2", Dial: o.dial},
		},
	})
	hcWait(t, "the first check", func() bool { st, _ := b.HealthStatus("s1"); return st.Last.Code == checks.L7OK })
	steps := []struct {
		h              Health
		up, stopping   bool
		health, picked string
	}{
		{HealthDown, false, false, "DOWN", "s2"},
		{HealthStopping, true, true, "NOLB", "s2"},
		{HealthUp, true, false, "UP", ""},
	}
	for _, st := range steps {
		if err := b.ForceHealth("s1", st.h); err != nil {
			t.Fatal(err)
		}
		s := b.Server("s1")
		status, _ := b.HealthStatus("s1")
		if s.Up() != st.up || s.Stopping() != st.stopping || status.Label() != st.health {
			t.Errorf("health %v: up %v stopping %v label %q, want %v %v %q", st.h, s.Up(), s.Stopping(), status.Label(), st.up, st.stopping, st.health)
		}
		if st.picked != "" {
			for range 4 {
				if got := pickName(t, b); got != st.picked {
					t.Errorf("health %v: picked %s, want %s", st.h, got, st.picked)
				}
			}
		}
	}
	if err := b.ForceHealth("nope", HealthUp); err == nil {
		t.Error("forcing the health of an unknown server succeeded")
	}
}

// Servers without checks or agents refuse to have them enabled, but
// accept having them disabled, as HAProxy; an unchecked server's health
// counter follows forced states and maintenance.
func TestRuntimeChecksOfUncheckedServer(t *testing.T) {
	b, err := NewBackend(BackendConfig{Servers: []ServerConfig{{Name: "s1", Dial: "127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetHealthChecks("s1", true); !errors.Is(err, ErrNoHealthCheck) {
		t.Errorf("enable health: %v", err)
	}
	if err := b.SetAgentCheck("s1", true); !errors.Is(err, ErrNoAgentCheck) {
		t.Errorf("enable agent: %v", err)
	}
	if b.SetHealthChecks("s1", false) != nil || b.SetAgentCheck("s1", false) != nil {
		t.Error("disabling absent checks failed")
	}
	s := b.Server("s1")
	for _, st := range []struct {
		do     func() error
		health int
		up     bool
	}{
		{func() error { return nil }, 2, true},
		{func() error { return b.ForceHealth("s1", HealthDown) }, 0, false},
		{func() error { return b.ForceHealth("s1", HealthUp) }, 4, true},
		{func() error { return b.SetAdminState("s1", AdminMaint) }, 0, true},
		{func() error { return b.SetAdminState("s1", AdminReady) }, 0, true},
		{func() error { return b.ForceHealth("s1", HealthStopping) }, 4, true},
	} {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if s.UncheckedHealth() != st.health || s.Up() != st.up {
			t.Errorf("health %d up %v, want %d %v", s.UncheckedHealth(), s.Up(), st.health, st.up)
		}
	}
}
