package lbmodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// codeOrigin answers health checks on /health with the status the test
// sets, and other requests with its name.
type codeOrigin struct {
	name   string
	status atomic.Int32
	checks atomic.Int64
	dial   string
}

func newCodeOrigin(t *testing.T, name string) *codeOrigin {
	o := &codeOrigin{name: name}
	o.status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			o.checks.Add(1)
			w.WriteHeader(int(o.status.Load()))
			return
		}
		_, _ = io.WriteString(w, o.name)
	}))
	t.Cleanup(srv.Close)
	o.dial = strings.TrimPrefix(srv.URL, "http://")
	return o
}

func on404Config(name string, origins ...*codeOrigin) BackendConfig {
	cfg := BackendConfig{
		Backend:      name,
		HealthChecks: &checks.Config{Type: checks.TypeHTTP, HTTP: &checks.HTTPCheck{Method: "GET", URI: "/health", DisableOn404: true}},
	}
	for _, o := range origins {
		cfg.Servers = append(cfg.Servers, ServerConfig{Name: o.name, Dial: o.dial, Check: fastCheck(2, 3)})
	}
	return cfg
}

func pickSet(t *testing.T, b *Backend, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		seen[pickName(t, b)]++
	}
	return seen
}

// TestDisableOn404Stopping: a 404 puts a running server in NOLB, out of
// load balancing but still open to persistent requests; a 200 brings it
// back, a failure takes it down.
func TestDisableOn404Stopping(t *testing.T) {
	s1, s2 := newCodeOrigin(t, "s1"), newCodeOrigin(t, "s2")
	b, logs := attachChecked(t, on404Config("nolb-unit", s1, s2))
	hcWait(t, "s1 fully up", func() bool { st, _ := b.HealthStatus("s1"); return st.FullyUp() })

	s1.status.Store(http.StatusNotFound)
	hcWait(t, "s1 stopping", func() bool { return b.Server("s1").Stopping() })
	srv := b.Server("s1")
	if !srv.Up() || srv.Usable() {
		t.Errorf("stopping server: Up=%v Usable=%v, want up and not usable", srv.Up(), srv.Usable())
	}
	if st, _ := b.HealthStatus("s1"); st.Label() != "NOLB" {
		t.Errorf("label = %q, want NOLB", st.Label())
	}
	if got := pickSet(t, b, 6); got["s2"] != 6 {
		t.Errorf("load balancing with s1 stopping went to %v, want s2 only", got)
	}
	if a, _ := b.UsableCounts(); a != 1 {
		t.Errorf("usable actives = %d, want 1", a)
	}
	// Persistence (a cookie naming s1) still reaches it.
	if err := b.AcquireServer(t.Context(), srv); err != nil {
		t.Fatalf("persistent request to a stopping server: %v", err)
	}
	b.Release(srv)
	hcWait(t, "stopping log line", func() bool {
		for _, m := range messages(logs) {
			if strings.HasPrefix(m, "Server nolb-unit/s1 is stopping, reason: Layer7 check conditionally passed") &&
				strings.HasSuffix(m, "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.") {
				return true
			}
		}
		return false
	})

	s1.status.Store(http.StatusOK)
	hcWait(t, "s1 back in load balancing", func() bool { return !srv.Stopping() && srv.Usable() })
	if got := pickSet(t, b, 6); got["s1"] != 3 || got["s2"] != 3 {
		t.Errorf("after recovery traffic = %v, want 3 each", got)
	}

	s1.status.Store(http.StatusNotFound)
	hcWait(t, "s1 stopping again", srv.Stopping)
	s1.status.Store(http.StatusServiceUnavailable)
	hcWait(t, "s1 down", func() bool { return !srv.Up() })
	if srv.Stopping() {
		t.Error("a down server is still stopping")
	}
}

// TestDisableOn404NotWhileDown: a 404 counts as a failure for a server
// that is down, so it stays down.
func TestDisableOn404NotWhileDown(t *testing.T) {
	s1, s2 := newCodeOrigin(t, "s1"), newCodeOrigin(t, "s2")
	s1.status.Store(http.StatusServiceUnavailable)
	b, _ := attachChecked(t, on404Config("nolb-down", s1, s2))
	hcWait(t, "s1 down", func() bool { return !b.Server("s1").Up() })
	s1.status.Store(http.StatusNotFound)
	// Rise is 2: four checks are at least three complete 404 answers,
	// which would have brought s1 up were they successes.
	n := s1.checks.Load()
	hcWait(t, "four more checks", func() bool { return s1.checks.Load() >= n+4 })
	if srv := b.Server("s1"); srv.Up() || srv.Stopping() {
		t.Errorf("a down server answering 404: Up=%v Stopping=%v, want down", srv.Up(), srv.Stopping())
	}
	if st, _ := b.HealthStatus("s1"); st.Last.Code != checks.L7STS {
		t.Errorf("last check of a down server answering 404 = %s, want L7STS", st.Last.Code)
	}
}

// TestDisableOn404AgainstHAProxy drives the same origins' check answers
// on both sides and compares the stats status (NOLB), the traffic and the
// transition log lines with HAProxy's.
func TestDisableOn404AgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test")
	}
	names := []string{"s1", "s2"}
	hp, ours := map[string]*codeOrigin{}, map[string]*codeOrigin{}
	for _, n := range names {
		hp[n], ours[n] = newCodeOrigin(t, n), newCodeOrigin(t, n)
	}
	const inter = 40 * time.Millisecond
	lines := []string{"    option httpchk GET /health", "    http-check disable-on-404"}
	cfg := on404Config("be", ours["s1"], ours["s2"])
	for i, n := range names {
		lines = append(lines, fmt.Sprintf("    server %s %s check inter %d rise 2 fall 3", n, hp[n].dial, inter.Milliseconds()))
		cfg.Servers[i].Check = &checks.ServerConfig{Inter: checks.Duration(inter), Rise: 2, Fall: 3}
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

	hStatus := func(n string) string {
		for _, line := range strings.Split(h.command("show stat"), "\n") {
			f := strings.Split(line, ",")
			if len(f) > 17 && f[0] == "be" && f[1] == n {
				return f[17]
			}
		}
		return ""
	}
	oStatus := func(n string) string { st, _ := b.HealthStatus(n); return st.Label() }
	settle := func(step, n, want string) {
		t.Helper()
		hcWait(t, step+" in haproxy", func() bool { return hStatus(n) == want })
		hcWait(t, step+" in the model", func() bool { return oStatus(n) == want })
	}
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
	set := func(n string, code int) {
		hp[n].status.Store(int32(code))
		ours[n].status.Store(int32(code))
	}

	settle("start", "s1", "UP")
	settle("start", "s2", "UP")
	traffic("both up")
	set("s1", http.StatusNotFound)
	settle("404", "s1", "NOLB")
	traffic("s1 stopping")
	set("s1", http.StatusOK)
	settle("200 again", "s1", "UP")
	traffic("s1 back")
	set("s1", http.StatusNotFound)
	settle("404 again", "s1", "NOLB")
	set("s1", http.StatusServiceUnavailable)
	settle("503", "s1", "DOWN")
	traffic("s1 down")
	set("s1", http.StatusOK)
	settle("recovered", "s1", "UP")

	want := normalizeLines(messages(logs))
	hcWait(t, "haproxy's log lines", func() bool { return len(h.lines()) >= len(want) })
	if !slices.ContainsFunc(want, func(l string) bool { return strings.Contains(l, "is stopping") }) {
		t.Errorf("no stopping line among the model's lines:\n%s", strings.Join(want, "\n"))
	}
	if got := h.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines differ\nhaproxy:\n%s\nmodel:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
