package lbmodule

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// hcOrigin is an HTTP server whose health check answer the test switches.
type hcOrigin struct {
	healthy atomic.Bool
	hits    atomic.Int64
	dial    string
}

func newHCOrigin(t *testing.T) *hcOrigin {
	o := &hcOrigin{}
	o.healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		if !o.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	o.dial = strings.TrimPrefix(srv.URL, "http://")
	return o
}

func hcWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Generous: a loaded CI machine can delay checks by seconds.
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fastCheck(rise, fall int) *checks.ServerConfig {
	return &checks.ServerConfig{Inter: checks.Duration(20 * time.Millisecond), Rise: rise, Fall: fall}
}

// attachChecked attaches cfg in the registry and starts its checks with a
// logger the test reads; cleanup detaches both.
func attachChecked(t *testing.T, cfg BackendConfig) (*Backend, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	b, err := AttachBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := attachHealth(b, zap.New(core)); err != nil {
		DetachBackend(b)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		DetachBackend(b)
		detachHealth(b, false)
	})
	return b, logs
}

// messages returns the logged lines, with check durations replaced by
// "Nms" so that they compare exactly.
func messages(logs *observer.ObservedLogs) []string {
	dur := regexp.MustCompile(`check duration: \d+ms`)
	var out []string
	for _, e := range logs.All() {
		out = append(out, dur.ReplaceAllString(e.Message, "check duration: Nms"))
	}
	return out
}

func hasMessage(logs *observer.ObservedLogs, want string) func() bool {
	return func() bool {
		for _, m := range messages(logs) {
			if m == want {
				return true
			}
		}
		return false
	}
}

func pickName(t *testing.T, b *Backend) string {
	t.Helper()
	s, err := b.Acquire(t.Context(), noAvoid, nil)
	if err != nil {
		return err.Error()
	}
	b.Release(s)
	return s.Name
}

func TestHealthChecksMarkServersDownAndUp(t *testing.T) {
	o1, o2 := newHCOrigin(t), newHCOrigin(t)
	b, logs := attachChecked(t, BackendConfig{
		Backend:      "hc-downup",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers: []ServerConfig{
			{Name: "s1", Dial: o1.dial, Check: fastCheck(2, 2)},
			{Name: "s2", Dial: o2.dial, Check: fastCheck(2, 2)},
		},
	})
	o1.healthy.Store(false)
	hcWait(t, "s1 down", func() bool { return !b.Server("s1").Up() })
	for range 4 {
		if got := pickName(t, b); got != "s2" {
			t.Fatalf("picked %s while s1 is down", got)
		}
	}
	hcWait(t, "down message", hasMessage(logs, `Server hc-downup/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`))
	st, ok := b.HealthStatus("s1")
	if !ok || st.Last.Code != checks.L7STS || st.DownTransitions != 1 || st.Label() != "DOWN" {
		t.Fatalf("status: %+v", st)
	}

	o1.healthy.Store(true)
	hcWait(t, "s1 up", func() bool { return b.Server("s1").Up() })
	hcWait(t, "up message", hasMessage(logs, `Server hc-downup/s1 is UP, reason: Layer7 check passed, code: 200, check duration: Nms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`))
	seen := map[string]bool{}
	for range 4 {
		seen[pickName(t, b)] = true
	}
	if !seen["s1"] || !seen["s2"] {
		t.Fatalf("picks after recovery: %v", seen)
	}
}

func TestHealthChecksFailoverToBackup(t *testing.T) {
	for _, allBackups := range []bool{false, true} {
		t.Run(fmt.Sprintf("allbackups=%v", allBackups), func(t *testing.T) {
			o1, b1, b2 := newHCOrigin(t), newHCOrigin(t), newHCOrigin(t)
			name := fmt.Sprintf("hc-failover-%v", allBackups)
			b, logs := attachChecked(t, BackendConfig{
				Backend:      name,
				AllBackups:   allBackups,
				HealthChecks: &checks.Config{Type: checks.TypeHTTP},
				Servers: []ServerConfig{
					{Name: "s1", Dial: o1.dial, Check: fastCheck(2, 1)},
					{Name: "b1", Dial: b1.dial, Backup: true, Check: fastCheck(2, 1)},
					{Name: "b2", Dial: b2.dial, Backup: true, Check: fastCheck(2, 1)},
				},
			})
			hcWait(t, "first checks", func() bool {
				for _, n := range []string{"s1", "b1", "b2"} {
					if st, _ := b.HealthStatus(n); st.Last.Code != checks.L7OK {
						return false
					}
				}
				return true
			})
			o1.healthy.Store(false)
			hcWait(t, "s1 down", func() bool { return !b.Server("s1").Up() })
			hcWait(t, "running on backup", hasMessage(logs, `Server `+name+`/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 0 active and 2 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.`))
			seen := map[string]int{}
			for range 6 {
				seen[pickName(t, b)]++
			}
			if allBackups && (seen["b1"] == 0 || seen["b2"] == 0) || !allBackups && seen["b1"] != 6 {
				t.Fatalf("picks on backup: %v", seen)
			}

			b1.healthy.Store(false)
			b2.healthy.Store(false)
			hcWait(t, "no server message", hasMessage(logs, "backend "+name+" has no server available!"))
			// The message may be logged just before the second backup
			// leaves the load balancing tables.
			hcWait(t, "no server to pick", func() bool { return pickName(t, b) == ErrNoServer.Error() })
			hcWait(t, "backup down message", func() bool {
				return hasMessage(logs, `Backup Server `+name+`/b1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`)() ||
					hasMessage(logs, `Backup Server `+name+`/b2 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`)()
			})

			o1.healthy.Store(true)
			hcWait(t, "failback", func() bool { return b.Server("s1").Up() })
			if got := pickName(t, b); got != "s1" {
				t.Fatalf("after failback picked %s", got)
			}
		})
	}
}

// A reload keeps the checker of a server whose settings did not change:
// no new check cycle, no UP/DOWN flap. A server whose check settings
// changed continues from the old state.
func TestHealthSurvivesReload(t *testing.T) {
	o1, o2 := newHCOrigin(t), newHCOrigin(t)
	cfg := BackendConfig{
		Backend:      "hc-reload",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers: []ServerConfig{
			{Name: "s1", Dial: o1.dial, Check: fastCheck(3, 2)},
			{Name: "s2", Dial: o2.dial, Check: fastCheck(3, 2)},
		},
	}
	old, logs := attachChecked(t, cfg)
	o1.healthy.Store(false)
	o2.healthy.Store(false)
	hcWait(t, "both down", func() bool { return !old.Server("s1").Up() && !old.Server("s2").Up() })
	before, _ := old.HealthStatus("s1")
	oldChecker := checkerOf(old, "s1")

	// The new configuration changes s2's checks and a weight.
	next := cfg
	next.Servers = []ServerConfig{
		{Name: "s1", Dial: o1.dial, Check: fastCheck(3, 2), Weight: weight(5)},
		{Name: "s2", Dial: o2.dial, Check: &checks.ServerConfig{Inter: checks.Duration(25 * time.Millisecond), Rise: 3, Fall: 2}},
	}
	core, newLogs := observer.New(zapcore.DebugLevel)
	nb, err := AttachBackend(next)
	if err != nil {
		t.Fatal(err)
	}
	if err := attachHealth(nb, zap.New(core)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DetachBackend(nb); detachHealth(nb, false) })
	if nb == old {
		t.Fatal("changed configuration shares the old backend")
	}
	DetachBackend(old)
	detachHealth(old, false)

	if c := checkerOf(nb, "s1"); c == nil || c != oldChecker {
		t.Fatal("s1's checker was replaced by a reload that did not change it")
	}
	after, _ := nb.HealthStatus("s1")
	if after.DownTransitions != before.DownTransitions || after.Up {
		t.Fatalf("s1 after reload: %+v (before %+v)", after, before)
	}
	if nb.Server("s1").Up() || nb.Server("s2").Up() {
		t.Fatal("a down server came up on reload")
	}
	if st, _ := nb.HealthStatus("s2"); st.Up || st.DownTransitions != 1 {
		t.Fatalf("s2 did not continue from its old state: %+v", st)
	}

	o1.healthy.Store(true)
	o2.healthy.Store(true)
	hcWait(t, "both up", func() bool { return nb.Server("s1").Up() && nb.Server("s2").Up() })
	for _, m := range messages(logs) {
		if strings.Contains(m, "is UP") {
			t.Errorf("old configuration logged after it was replaced: %s", m)
		}
	}
	ups := 0
	for _, m := range messages(newLogs) {
		if strings.Contains(m, "is UP") {
			ups++
		}
		if strings.Contains(m, "is DOWN") {
			t.Errorf("flap after reload: %s", m)
		}
	}
	if ups != 2 {
		t.Errorf("UP messages after recovery: %d, want 2\n%s", ups, strings.Join(messages(newLogs), "\n"))
	}
}

// When an older configuration becomes current again (attached anew), the
// checker it shares with the newer one keeps updating the server.
func TestHealthOlderConfigurationCurrentAgain(t *testing.T) {
	o := newHCOrigin(t)
	cfg1 := BackendConfig{Backend: "hc-again", Servers: []ServerConfig{{Name: "s1", Dial: o.dial, Check: fastCheck(1, 1)}},
		HealthChecks: &checks.Config{Type: checks.TypeHTTP}}
	b1, _ := attachChecked(t, cfg1)
	cfg2 := cfg1
	cfg2.Redispatch = true
	b2, logs := attachChecked(t, cfg2)
	if checkerOf(b1, "s1") != checkerOf(b2, "s1") {
		t.Fatal("unchanged server got a second checker")
	}
	again, err := AttachBackend(cfg1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DetachBackend(again) })
	if again != b1 {
		t.Fatal("identical configuration did not share the older backend")
	}
	o.healthy.Store(false)
	hcWait(t, "s1 down", func() bool { return !b1.Server("s1").Up() })
	hcWait(t, "down logged", hasMessage(logs, `Server hc-again/s1 is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`))
}

// checkerOf returns the checker b uses for server.
func checkerOf(b *Backend, server string) *checks.Checker {
	healthChecks.mu.Lock()
	defer healthChecks.mu.Unlock()
	for _, e := range healthChecks.byBackend[b] {
		if e.key.server == server {
			return e.checker
		}
	}
	return nil
}

func TestHealthStopsWithBackend(t *testing.T) {
	o := newHCOrigin(t)
	b, err := NewBackend(BackendConfig{Backend: "hc-stop", Servers: []ServerConfig{{Name: "s1", Dial: o.dial, Check: fastCheck(2, 3)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := StartHealthChecks(b); err != nil {
		t.Fatal(err)
	}
	if err := StartHealthChecks(b); err != nil { // a second call joins
		t.Fatal(err)
	}
	hcWait(t, "a check", func() bool { st, _ := b.HealthStatus("s1"); return st.Last.Code == checks.L4OK })
	StopHealthChecks(b)
	if _, ok := b.HealthStatus("s1"); ok {
		t.Fatal("status still reported after stop")
	}
	healthChecks.mu.Lock()
	n := len(healthChecks.byKey[healthKey{"hc-stop", "s1"}])
	healthChecks.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d checkers left running", n)
	}
}

func TestHealthMaintPausesChecks(t *testing.T) {
	o := newHCOrigin(t)
	b, _ := attachChecked(t, BackendConfig{
		Backend:      "hc-maint",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers:      []ServerConfig{{Name: "s1", Dial: o.dial, Check: fastCheck(2, 3)}},
	})
	hcWait(t, "checks", func() bool { return o.hits.Load() > 1 })
	if err := b.SetAdminState("s1", AdminMaint); err != nil {
		t.Fatal(err)
	}
	// A check already running may still land.
	time.Sleep(50 * time.Millisecond)
	paused := o.hits.Load()
	time.Sleep(150 * time.Millisecond)
	if got := o.hits.Load(); got != paused {
		t.Fatalf("%d checks while in maintenance", got-paused)
	}
	if err := b.SetAdminState("s1", AdminReady); err != nil {
		t.Fatal(err)
	}
	hcWait(t, "checks resume", func() bool { return o.hits.Load() > paused })
}

// A server disabled in the configuration starts down and unchecked; made
// ready, it is UP at once (health = rise) and checked, as in HAProxy.
func TestHealthDisabledServerMadeReady(t *testing.T) {
	o := newHCOrigin(t)
	b, _ := attachChecked(t, BackendConfig{
		Backend:      "hc-disabled",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers: []ServerConfig{{Name: "s1", Dial: o.dial, Disabled: true,
			Check: &checks.ServerConfig{Inter: checks.Duration(time.Hour), Rise: 2, Fall: 3}}},
	})
	if b.Server("s1").Up() {
		t.Fatal("disabled server starts up")
	}
	if err := b.SetAdminState("s1", AdminReady); err != nil {
		t.Fatal(err)
	}
	healthAdminChanged(b, "s1")
	hcWait(t, "up and checked", func() bool {
		st, _ := b.HealthStatus("s1")
		return b.Server("s1").Up() && st.Last.Code == checks.L7OK && st.Label() == "UP"
	})
}

func TestHealthUncheckedServerIsUp(t *testing.T) {
	o := newHCOrigin(t)
	cfg := BackendConfig{Backend: "hc-unchecked", Servers: []ServerConfig{{Name: "s1", Dial: o.dial, Check: fastCheck(1, 1)}}}
	b, _ := attachChecked(t, cfg)
	o.healthy.Store(false)
	cfg.HealthChecks = &checks.Config{Type: checks.TypeHTTP}
	// Switch to HTTP checks so the server fails, then reload without checks.
	b2, _ := attachChecked(t, cfg)
	DetachBackend(b)
	detachHealth(b, false)
	hcWait(t, "down", func() bool { return !b2.Server("s1").Up() })
	cfg.Servers = []ServerConfig{{Name: "s1", Dial: o.dial}}
	cfg.HealthChecks = nil
	b3, _ := attachChecked(t, cfg)
	if !b3.Server("s1").Up() {
		t.Fatal("a server without checks is down after reload")
	}
}

func TestValidateHealth(t *testing.T) {
	good := BackendConfig{Backend: "v", HealthChecks: &checks.Config{Type: checks.TypeHTTP},
		Servers: []ServerConfig{{Name: "s1", Dial: "127.0.0.1:80", Check: fastCheck(2, 3)}, {Name: "s2", Dial: "nohost"}}}
	if err := validateHealth(&good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	bad := []BackendConfig{
		{Backend: "v", HealthChecks: &checks.Config{Type: "nope"}},
		{Backend: "v", Servers: []ServerConfig{{Name: "s1", Dial: "nohost", Check: fastCheck(2, 3)}}},
		{Backend: "v", Servers: []ServerConfig{{Name: "s1", Dial: "127.0.0.1:80", Check: &checks.ServerConfig{Rise: -1}}}},
	}
	for _, cfg := range bad {
		if err := validateHealth(&cfg); err == nil || !strings.Contains(err.Error(), `backend "v"`) {
			t.Errorf("%+v: error %v", cfg, err)
		}
	}
}

func TestHealthBadConfig(t *testing.T) {
	// A bad check setting is a configuration error, reported before any
	// check starts (so "caddy validate" catches it).
	_, err := NewBackend(BackendConfig{Backend: "hc-bad", HealthChecks: &checks.Config{Type: "nope"},
		Servers: []ServerConfig{{Name: "s1", Dial: "127.0.0.1:1", Check: fastCheck(1, 1)}}})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("bad check type: %v", err)
	}
	healthChecks.mu.Lock()
	_, started := healthChecks.byKey[healthKey{"hc-bad", "s1"}]
	healthChecks.mu.Unlock()
	if started {
		t.Fatal("checks started for a rejected backend")
	}
}

// diffOrigin answers health checks on /health with 200 or 503, as the test
// decides, counting each kind, and answers other requests with its name.
type diffOrigin struct {
	name     string
	healthy  atomic.Bool
	oks      atomic.Int64
	failures atomic.Int64
	dial     string
}

func newDiffOrigin(t *testing.T, name string) *diffOrigin {
	o := &diffOrigin{name: name}
	o.healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			_, _ = io.WriteString(w, o.name)
			return
		}
		if o.healthy.Load() {
			o.oks.Add(1)
			return
		}
		o.failures.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	o.dial = strings.TrimPrefix(srv.URL, "http://")
	return o
}

// haproxyChecks is a running HAProxy whose log lines the test reads.
type haproxyChecks struct {
	t    *testing.T
	sock string
	addr string
	mu   sync.Mutex
	logs []string
}

func startHAProxyChecks(t *testing.T, backendLines string) *haproxyChecks {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	dir := t.TempDir()
	port := porttest.Free(t)
	addr := porttest.Loopback(port)
	h := &haproxyChecks{t: t, sock: filepath.Join(dir, "admin.sock"), addr: addr}
	cfg := fmt.Sprintf(`global
    log stdout format raw local0
    stats socket %s mode 600 level admin
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend be
%s
frontend fe
    bind %s
    default_backend be
`, h.sock, backendLines, addr)
	haproxytest.StartLines(t, haproxytest.Command(t, bin, cfg), func(line string) {
		h.mu.Lock()
		h.logs = append(h.logs, line)
		h.mu.Unlock()
	}).MustListen(t, port)
	hcWait(t, "haproxy stats socket", func() bool {
		c, err := net.Dial("unix", h.sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return h
}

func (h *haproxyChecks) command(cmd string) string {
	c, err := net.Dial("unix", h.sock)
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, cmd+"\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

// server returns a server's operational state (0 = DOWN, 2 = UP) and
// health counter from "show servers state".
func (h *haproxyChecks) server(name string) (op, health int) {
	for _, line := range strings.Split(h.command("show servers state be"), "\n") {
		f := strings.Fields(line)
		if len(f) > 12 && f[1] == "be" && f[3] == name {
			op, _ = strconv.Atoi(f[5])
			health, _ = strconv.Atoi(f[12])
			return op, health
		}
	}
	h.t.Fatalf("server %s not in show servers state", name)
	return 0, 0
}

// checkStatus returns the check_status column of "show stat".
func (h *haproxyChecks) checkStatus(name string) string {
	for _, line := range strings.Split(h.command("show stat"), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 36 && f[0] == "be" && f[1] == name {
			return f[36]
		}
	}
	return ""
}

// pick sends one request through HAProxy and returns the answering origin.
func (h *haproxyChecks) pick() string {
	resp, err := http.Get("http://" + h.addr + "/")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return strconv.Itoa(resp.StatusCode)
	}
	return string(b)
}

func (h *haproxyChecks) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return normalizeLines(h.logs)
}

// startupSorted sorts the leading block of "Health check" lines: the
// first checks of the servers are spread over the interval on both sides,
// but their relative order is not part of the comparison.
func startupSorted(lines []string) []string {
	out := slices.Clone(lines)
	n := 0
	for n < len(out) && strings.HasPrefix(out[n], "Health check ") && strings.HasSuffix(out[n], "3/3 UP.") {
		n++
	}
	slices.Sort(out[:n])
	return out
}

var checkDuration = regexp.MustCompile(`check duration: \d+ms`)

// normalizeLines keeps the health check lines, with durations blanked.
func normalizeLines(in []string) []string {
	var out []string
	for _, l := range in {
		// Maintenance lines come from the admin side, not the checks.
		if strings.Contains(l, "maintenance") {
			continue
		}
		if strings.HasPrefix(l, "Server ") || strings.HasPrefix(l, "Backup Server ") ||
			strings.HasPrefix(l, "backend ") || strings.HasPrefix(l, "Health check ") {
			out = append(out, checkDuration.ReplaceAllString(l, "check duration: Nms"))
		}
	}
	return out
}

// TestHealthChecksAgainstHAProxy runs the same backend in HAProxy and in
// the model, each checking its own copy of the same origins, and flips
// the origins' health step by step: each side must need the same number of
// checks to mark a server DOWN or UP, send traffic to the same servers,
// and log the same lines (up to the check durations).
func TestHealthChecksAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test")
	}
	for _, tc := range []struct {
		name       string
		allBackups bool
		logChecks  bool
	}{
		{"first backup", false, false},
		{"allbackups with log-health-checks", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"s1", "s2", "b1", "b2"}
			hp, ours := map[string]*diffOrigin{}, map[string]*diffOrigin{}
			for _, n := range names {
				hp[n], ours[n] = newDiffOrigin(t, n), newDiffOrigin(t, n)
			}
			const (
				rise, fall = 2, 3
				inter      = 100 * time.Millisecond
				fastInter  = 40 * time.Millisecond
				downInter  = 600 * time.Millisecond
			)
			// A check answers in time even on a loaded machine: only the
			// servers' answers, not timeouts, decide their health here.
			const connectTimeout, checkTimeout = time.Second, 2 * time.Second
			lines := []string{"    timeout check 2s"}
			lines = append(lines, "    option httpchk GET /health")
			if tc.allBackups {
				lines = append(lines, "    option allbackups")
			}
			if tc.logChecks {
				lines = append(lines, "    option log-health-checks")
			}
			cfg := BackendConfig{
				Backend:    "be",
				AllBackups: tc.allBackups,
				HealthChecks: &checks.Config{Type: checks.TypeHTTP, HTTP: &checks.HTTPCheck{Method: "GET", URI: "/health"}, LogHealthChecks: tc.logChecks,
					ConnectTimeout: checks.Duration(connectTimeout), CheckTimeout: checks.Duration(checkTimeout)},
			}
			for _, n := range names {
				backup := ""
				if n[0] == 'b' {
					backup = " backup"
				}
				lines = append(lines, fmt.Sprintf("    server %s %s check inter %d fastinter %d downinter %d rise %d fall %d%s",
					n, hp[n].dial, inter.Milliseconds(), fastInter.Milliseconds(), downInter.Milliseconds(), rise, fall, backup))
				cfg.Servers = append(cfg.Servers, ServerConfig{Name: n, Dial: ours[n].dial, Backup: backup != "",
					Check: &checks.ServerConfig{Inter: checks.Duration(inter), FastInter: checks.Duration(fastInter),
						DownInter: checks.Duration(downInter), Rise: rise, Fall: fall}})
			}
			h := startHAProxyChecks(t, strings.Join(lines, "\n"))
			b, err := NewBackend(cfg)
			if err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zapcore.DebugLevel)
			if err := attachHealth(b, zap.New(core)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { StopHealthChecks(b) })

			hcWait(t, "first checks", func() bool {
				for _, n := range names {
					st, _ := b.HealthStatus(n)
					if h.checkStatus(n) != "L7OK" || st.Last.Code != checks.L7OK {
						return false
					}
				}
				return true
			})

			// flip changes a server's health on both sides, waits until
			// both see the change, and compares the number of checks it
			// took.
			flip := func(n string, healthy bool) {
				t.Helper()
				hFails, hOKs := hp[n].failures.Load(), hp[n].oks.Load()
				oFails, oOKs := ours[n].failures.Load(), ours[n].oks.Load()
				hp[n].healthy.Store(healthy)
				ours[n].healthy.Store(healthy)
				want := 0
				if healthy {
					want = 2
				}
				hcWait(t, fmt.Sprintf("%s %v in haproxy", n, healthy), func() bool { op, _ := h.server(n); return op == want })
				hn := hp[n].failures.Load() - hFails
				if healthy {
					hn = hp[n].oks.Load() - hOKs
				}
				hcWait(t, fmt.Sprintf("%s %v in the model", n, healthy), func() bool { return b.Server(n).Up() == healthy })
				on := ours[n].failures.Load() - oFails
				if healthy {
					on = ours[n].oks.Load() - oOKs
				}
				if hn != on {
					t.Errorf("%s healthy=%v: haproxy needed %d checks, the model %d", n, healthy, hn, on)
				}
				wantN := int64(fall)
				if healthy {
					wantN = rise
				}
				if on != wantN {
					t.Errorf("%s healthy=%v: the model needed %d checks, want %d", n, healthy, on, wantN)
				}
			}
			// traffic compares which servers take six requests.
			traffic := func(step string) {
				t.Helper()
				hSeen, oSeen := map[string]bool{}, map[string]bool{}
				for range 6 {
					hSeen[h.pick()] = true
					oSeen[pickName(t, b)] = true
				}
				if fmt.Sprint(hSeen) != fmt.Sprint(oSeen) {
					t.Errorf("%s: haproxy sent traffic to %v, the model to %v", step, hSeen, oSeen)
				}
			}

			traffic("all up")
			flip("s1", false)
			traffic("s1 down")
			flip("s2", false)
			traffic("primaries down")
			flip("b1", false)
			traffic("first backup down")
			flip("b2", false)
			flip("b1", true)
			traffic("one backup back")
			flip("s2", true)
			traffic("failback")

			// Maintenance pauses the checks; leaving it restarts the
			// server UP with health = rise, so one failure takes it down.
			h.command("set server be/s2 state maint")
			if err := b.SetAdminState("s2", AdminMaint); err != nil {
				t.Fatal(err)
			}
			healthAdminChanged(b, "s2")
			hp["s2"].healthy.Store(false)
			ours["s2"].healthy.Store(false)
			hFails, oFails := hp["s2"].failures.Load(), ours["s2"].failures.Load()
			h.command("set server be/s2 state ready")
			if err := b.SetAdminState("s2", AdminReady); err != nil {
				t.Fatal(err)
			}
			healthAdminChanged(b, "s2")
			hcWait(t, "s2 down after maintenance in haproxy", func() bool {
				op, _ := h.server("s2")
				return op == 0 && hp["s2"].failures.Load() > hFails
			})
			hcWait(t, "s2 down after maintenance in the model", func() bool { return !b.Server("s2").Up() })
			if hn, on := hp["s2"].failures.Load()-hFails, ours["s2"].failures.Load()-oFails; hn != 1 || on != 1 {
				t.Errorf("checks to DOWN after maintenance: haproxy %d, model %d, want 1", hn, on)
			}

			var ourLines []string
			for _, e := range logs.All() {
				ourLines = append(ourLines, e.Message)
			}
			// The log lines come in order on each side; wait for
			// HAProxy's last one to be read.
			want := normalizeLines(ourLines)
			hcWait(t, "haproxy's log lines", func() bool { return len(h.lines()) >= len(want) })
			if got := h.lines(); strings.Join(startupSorted(got), "\n") != strings.Join(startupSorted(want), "\n") {
				t.Errorf("log lines differ\nhaproxy:\n%s\nmodel:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func slowUpFastDown() *checks.ServerConfig {
	return &checks.ServerConfig{Inter: checks.Duration(300 * time.Millisecond), FastInter: checks.Duration(20 * time.Millisecond),
		DownInter: checks.Duration(20 * time.Millisecond), Rise: 2, Fall: 2}
}

// Through Caddy: the selection policy's backend runs its checks, a failed
// server gets no requests, and a reload while it is down keeps it down.
func TestHealthChecksThroughCaddy(t *testing.T) {
	s1, s2 := newDiffOrigin(t, "s1"), newDiffOrigin(t, "s2")
	cfg := BackendConfig{
		Backend:      "hc-caddy",
		HealthChecks: &checks.Config{Type: checks.TypeHTTP, HTTP: &checks.HTTPCheck{Method: "GET", URI: "/health"}},
		// s1 comes second: a checker started anew for it would wait
		// 150ms (half of inter) before its first check, long enough to
		// see a flap.
		Servers: []ServerConfig{
			{Name: "s2", Dial: s2.dial, Check: slowUpFastDown()},
			{Name: "s1", Dial: s1.dial, Check: slowUpFastDown()},
		},
	}
	listen := freePort(t)
	loadCaddy(t, listen, proxyRoute("", cfg))
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 5 * time.Second}
	served := func() map[string]int {
		seen := map[string]int{}
		for range 6 {
			_, body := get(t, client, "http://"+listen+"/")
			seen[body]++
		}
		return seen
	}
	hcWait(t, "checks running", func() bool { return s1.oks.Load() > 0 && s2.oks.Load() > 0 })
	if got := served(); got["s1"] == 0 || got["s2"] == 0 {
		t.Fatalf("with both up: %v", got)
	}

	s1.healthy.Store(false)
	hcWait(t, "s1 out of rotation", func() bool { return served()["s1"] == 0 })

	// A reload that changes the backend (a weight) keeps s1 down: no
	// request reaches it before its checks pass again.
	cfg.Servers[0].Weight = weight(2)
	loadCaddy(t, listen, proxyRoute("", cfg))
	if got := served(); got["s1"] != 0 {
		t.Fatalf("after reload: %v", got)
	}
	s1.healthy.Store(true)
	hcWait(t, "s1 back", func() bool { return served()["s1"] > 0 })
}
