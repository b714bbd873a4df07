package lbmodule

import (
	"context"
	"strings"
	"testing"
)

func mustAttach(t *testing.T, cfg BackendConfig) *Backend {
	t.Helper()
	b, err := AttachBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegistrySharesIdenticalBackends(t *testing.T) {
	cfg := BackendConfig{Backend: "shared", Servers: servers(1, 1)}
	b1 := mustAttach(t, cfg)
	b2 := mustAttach(t, BackendConfig{Backend: "shared", Servers: servers(1, 1)})
	if b1 != b2 {
		t.Fatal("two handlers with the same backend config got different backends")
	}
	// Both handlers draw from one rotation.
	if got := picks(t, b1, 1) + picks(t, b2, 1) + picks(t, b1, 1); got != "ABA" {
		t.Fatalf("shared rotation gave %s, want ABA", got)
	}
	DetachBackend(b1)
	if cur, ok := LookupBackend("shared"); !ok || cur != b2 {
		t.Fatal("backend gone while a handler still uses it")
	}
	DetachBackend(b2)
	if _, ok := LookupBackend("shared"); ok {
		t.Fatal("backend still registered after its last handler left")
	}
}

// A reload provisions the new configuration before cleaning up the old
// one; servers that still exist keep their runtime state.
func TestRegistryReloadCarriesState(t *testing.T) {
	old := mustAttach(t, BackendConfig{Backend: "reload", Servers: []ServerConfig{
		{Name: "A", Dial: "a:1", Weight: weight(2)},
		{Name: "B", Dial: "b:1"},
		{Name: "C", Dial: "c:1"},
		{Name: "E", Dial: "e:1", Weight: weight(4)},
	}})
	for _, step := range []error{
		old.SetAdminState("B", AdminMaint),
		old.SetWeight("A", 7),
		old.SetOperational("C", false),
		old.SetWeight("E", 9),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	picks(t, old, 5)
	inflight, err := old.Acquire(context.Background(), noAvoid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inflight.Name != "A" && inflight.Name != "E" {
		t.Fatalf("picked %s, a server that is down or in maintenance", inflight.Name)
	}
	totalBefore := old.Server(inflight.Name).Counters().Total.Load()

	// New config: C removed, D added, E's configured weight changed,
	// A's address changed.
	cur := mustAttach(t, BackendConfig{Backend: "reload", Servers: []ServerConfig{
		{Name: "D", Dial: "d:1"},
		{Name: "A", Dial: "a:2", Weight: weight(2)},
		{Name: "B", Dial: "b:1"},
		{Name: "E", Dial: "e:1", Weight: weight(5)},
	}})
	if cur == old {
		t.Fatal("changed config reused the old backend")
	}
	if lb, _ := LookupBackend("reload"); lb != cur {
		t.Fatal("lookup does not return the newest backend")
	}
	if cur.Server("C") != nil {
		t.Error("removed server C still in the new backend")
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"B admin state", cur.Server("B").AdminState(), AdminMaint},
		{"A runtime weight", cur.Server("A").Weight(), 7},
		{"A dial", cur.Server("A").Dial, "a:2"},
		{"E weight (config changed)", cur.Server("E").Weight(), 5},
		{"D admin state", cur.Server("D").AdminState(), AdminReady},
		{"D up", cur.Server("D").Up(), true},
		{"D weight", cur.Server("D").Weight(), 1},
		{"D lbtot", cur.Server("D").Counters().Total.Load(), int64(0)},
		{inflight.Name + " lbtot", cur.Server(inflight.Name).Counters().Total.Load(), totalBefore},
		{inflight.Name + " in flight", cur.Server(inflight.Name).Served(), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}

	// During the overlap a state change reaches both backends.
	if err := cur.SetAdminState("A", AdminDrain); err != nil {
		t.Fatal(err)
	}
	if got := picks(t, old, 4); strings.ContainsAny(got, "ABC") {
		t.Errorf("old backend picked %s after A was drained through the new one", got)
	}

	// The old configuration's request ends after the reload: the shared
	// count drops.
	DetachBackend(old)
	old.Release(inflight)
	if n := cur.Server(inflight.Name).Served(); n != 0 {
		t.Errorf("%s still serves %d after the old request ended", inflight.Name, n)
	}
	if got := picks(t, cur, 6); strings.ContainsAny(got, "ABC") {
		t.Errorf("new backend picked %s; A drains, B is in maintenance", got)
	}

	// A later reload that changes nothing else keeps the state too.
	if err := cur.SetAdminState("A", AdminReady); err != nil {
		t.Fatal(err)
	}
	DetachBackend(cur)
	if _, ok := LookupBackend("reload"); ok {
		t.Fatal("backend survived its last handler")
	}
	fresh := mustAttach(t, BackendConfig{Backend: "reload", Servers: servers(1, 1)})
	defer DetachBackend(fresh)
	if fresh.Server("B").AdminState() != AdminReady {
		t.Error("state survived the backend's removal")
	}
}

// Adding or removing "disabled" in the configuration wins; otherwise the
// runtime admin state carries over, including a "ready" given to a server
// the configuration still disables.
func TestRegistryConfigDisabled(t *testing.T) {
	old := mustAttach(t, BackendConfig{Backend: "disabled", Servers: []ServerConfig{
		{Name: "A", Dial: "a:1", Disabled: true},
		{Name: "B", Dial: "b:1"},
		{Name: "C", Dial: "c:1"},
		{Name: "D", Dial: "d:1", Disabled: true},
	}})
	if err := old.SetAdminState("C", AdminMaint); err != nil {
		t.Fatal(err)
	}
	if err := old.SetAdminState("D", AdminReady); err != nil {
		t.Fatal(err)
	}
	cur := mustAttach(t, BackendConfig{Backend: "disabled", Servers: []ServerConfig{
		{Name: "A", Dial: "a:1"},
		{Name: "B", Dial: "b:1", Disabled: true},
		{Name: "C", Dial: "c:1"},
		{Name: "D", Dial: "d:1", Disabled: true},
	}})
	DetachBackend(old)
	defer DetachBackend(cur)
	for name, want := range map[string]AdminState{"A": AdminReady, "B": AdminMaint, "C": AdminMaint, "D": AdminReady} {
		if got := cur.Server(name).AdminState(); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := picks(t, cur, 4); got != "ADAD" {
		t.Errorf("got %s, want ADAD", got)
	}
}

func TestRegistryRejectsBadConfig(t *testing.T) {
	_, err := AttachBackend(BackendConfig{Backend: "bad", Servers: []ServerConfig{{Name: "a"}}})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	if _, ok := LookupBackend("bad"); ok {
		t.Fatal("failed backend left in the registry")
	}
}

func TestOpenCloseBackend(t *testing.T) {
	named, err := OpenBackend(BackendConfig{Backend: "opened", Servers: servers(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := LookupBackend("opened"); !ok || got != named {
		t.Fatal("opened backend not registered")
	}
	private, err := OpenBackend(BackendConfig{Servers: servers(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := LookupBackend(""); ok {
		t.Fatal("unnamed backend registered")
	}
	if got := picks(t, private, 2); got != "AA" {
		t.Fatalf("private backend picked %s", got)
	}
	CloseBackend(private)
	CloseBackend(named)
	if _, ok := LookupBackend("opened"); ok {
		t.Fatal("closed backend still registered")
	}
	if _, err := OpenBackend(BackendConfig{Backend: "bad-open", Balance: "nope"}, nil); err == nil {
		t.Fatal("bad balance accepted")
	}
	if _, ok := LookupBackend("bad-open"); ok {
		t.Fatal("failed backend registered")
	}
}
