package lbmodule

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
)

// testAgent answers every connection with the reply the test sets, and
// counts the connections.
type testAgent struct {
	reply   atomic.Value
	queries atomic.Int64
	port    int
	ln      net.Listener
}

func newTestAgent(t *testing.T) *testAgent {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &testAgent{port: ln.Addr().(*net.TCPAddr).Port, ln: ln}
	a.reply.Store("up\n")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(a.reply.Load().(string)))
			c.Close()
			a.queries.Add(1)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

// answer sets the reply and waits until three more queries have been
// answered: one may have started before the change, and the querier
// opens the third only after it has applied the second's answer.
func (a *testAgent) answer(t *testing.T, reply string) {
	t.Helper()
	a.reply.Store(reply)
	n := a.queries.Load()
	hcWait(t, "agent queries", func() bool { return a.queries.Load() >= n+3 })
}

func agentConfig(a *testAgent) *checks.AgentConfig {
	return &checks.AgentConfig{Port: a.port, Inter: checks.Duration(agentInter)}
}

// agentInter is the agents' check interval in the tests, also their
// timeout: long enough that a loaded machine does not turn a slow answer
// into a timeout on one side of a comparison.
const agentInter = 100 * time.Millisecond

// TestAgentCheck drives a server through an agent: health, admin state,
// weight and maxconn, with the stats statuses HAProxy gives them.
func TestAgentCheck(t *testing.T) {
	ag := newTestAgent(t)
	cfg := BackendConfig{Backend: "agent-unit", Servers: servers(10, 10)}
	cfg.Servers[0].AgentCheck = agentConfig(ag)
	b, logs := attachChecked(t, cfg)
	a := b.Server("A")
	last := func() checks.Result { r, _ := b.AgentStatus("A"); return r }

	ag.answer(t, "up\n")
	if r := last(); r.Code != checks.L7OK || r.Info != "via agent : up" {
		t.Errorf("up: status %+v", r)
	}
	ag.answer(t, "75%\n")
	if a.Weight() != 7 || last().Code != checks.Checked {
		t.Errorf("75%% of 10: weight %d status %+v, want 7 CHECKED", a.Weight(), last())
	}
	ag.answer(t, "maxconn:7\n")
	if a.MaxConnNow() != 7 {
		t.Errorf("maxconn %d, want 7", a.MaxConnNow())
	}
	ag.answer(t, "drain\n")
	if a.AdminState() != AdminDrain || pickSet(t, b, 4)["B"] != 4 {
		t.Errorf("drain: admin %v", a.AdminState())
	}
	ag.answer(t, "ready\n")
	if a.AdminState() != AdminReady {
		t.Errorf("ready: admin %v", a.AdminState())
	}
	ag.answer(t, "down # gone fishing\n")
	if a.Up() || !a.DownByAgent() || last().Info != "via agent : down (gone fishing)" {
		t.Errorf("down: up %v by agent %v status %+v", a.Up(), a.DownByAgent(), last())
	}
	hcWait(t, "down log line", hasMessage(logs, `Server agent-unit/A is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down (gone fishing)", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`))
	ag.answer(t, "maint\n")
	ag.answer(t, "ready up bogus\n")
	if !a.Usable() || last().Info != "via agent : up (bogus)" {
		t.Errorf("ready up: usable %v status %+v", a.Usable(), last())
	}
	ag.answer(t, "up")
	if r := last(); r.Code != checks.L7OK || r.Info != "Ignoring incomplete line from agent" {
		t.Errorf("incomplete line: status %+v", r)
	}
	ag.answer(t, "fail\n")
	ag.ln.Close()
	hcWait(t, "refused agent", func() bool { return last().Code == checks.L4CON })
	if a.Up() {
		t.Error("an unreachable agent brought the server back")
	}
}

// TestAgentCheckWithHealthCheck: an agent's "down" empties the health
// check's counter, so the check needs rise successes to bring the server
// back; "up" fills it.
func TestAgentCheckWithHealthCheck(t *testing.T) {
	ag := newTestAgent(t)
	origin := newHCOrigin(t)
	cfg := BackendConfig{Backend: "agent-check-hc", Servers: []ServerConfig{{Name: "A", Dial: origin.dial,
		Check: &checks.ServerConfig{Inter: checks.Duration(time.Hour), Rise: 2, Fall: 3}, AgentCheck: agentConfig(ag)}}}
	b, _ := attachChecked(t, cfg)
	ag.answer(t, "down\n")
	st, _ := b.HealthStatus("A")
	if b.Server("A").Up() || st.Health != 0 || st.Up {
		t.Errorf("after down: up %v, health %+v", b.Server("A").Up(), st.State)
	}
	ag.answer(t, "up\n")
	st, _ = b.HealthStatus("A")
	if !b.Server("A").Up() || !st.FullyUp() {
		t.Errorf("after up: up %v, health %+v", b.Server("A").Up(), st.State)
	}
}

// TestAgentCheckAgainstHAProxy sends the same answers to HAProxy's agent
// and the model's and compares, after each, the server's operational
// state, admin flags, weight and maxconn ("show servers state", "show
// stat"), the agent status and its text, and the transition log lines.
func TestAgentCheckAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test")
	}
	hpAgent, ourAgent := newTestAgent(t), newTestAgent(t)
	s1, s2 := newDiffOrigin(t, "s1"), newDiffOrigin(t, "s2")
	h := startHAProxyChecks(t, fmt.Sprintf("    server s1 %s agent-check agent-port %d agent-inter %d weight 10\n    server s2 %s weight 10",
		s1.dial, hpAgent.port, agentInter.Milliseconds(), s2.dial))
	cfg := BackendConfig{Backend: "be", Servers: []ServerConfig{
		{Name: "s1", Dial: s1.dial, Weight: weight(10), AgentCheck: agentConfig(ourAgent)},
		{Name: "s2", Dial: s2.dial, Weight: weight(10)},
	}}
	b, err := NewBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	if err := attachHealth(b, zap.New(core)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { StopHealthChecks(b) })

	var hState func() string
	hSnapshot := func() string {
		var op, admin, w, slim, code, info string
		for _, line := range strings.Split(h.command("show servers state be"), "\n") {
			if f := strings.Fields(line); len(f) > 7 && f[3] == "s1" {
				op, admin, w = f[5], f[6], f[7]
			}
		}
		lines := strings.Split(strings.TrimPrefix(h.command("show stat"), "# "), "\n")
		head := strings.Split(lines[0], ",")
		col := func(name string) int {
			for i, n := range head {
				if n == name {
					return i
				}
			}
			t.Fatalf("no %s column", name)
			return 0
		}
		for _, line := range lines[1:] {
			if f := strings.Split(line, ","); len(f) > 2 && f[0] == "be" && f[1] == "s1" {
				slim, code, info = f[col("slim")], f[col("agent_status")], f[col("last_agt")]
			}
		}
		return fmt.Sprintf("op=%s admin=%s weight=%s slim=%s agent=%s %q", op, admin, w, slim, code, info)
	}
	// hState waits for a snapshot taken between two agent queries: one
	// in progress shows "* " and no text.
	hState = func() string {
		var snap string
		hcWait(t, "haproxy between agent queries", func() bool {
			snap = hSnapshot()
			return !strings.Contains(snap, "agent=* ")
		})
		return snap
	}
	oState := func() string {
		s := b.Server("s1")
		op := "2"
		if !s.Up() || s.AdminState() == AdminMaint {
			op = "0"
		}
		slim := ""
		if n := s.MaxConnNow(); n > 0 {
			slim = strconv.Itoa(n)
		}
		r, _ := b.AgentStatus("s1")
		return fmt.Sprintf("op=%s admin=%d weight=%d slim=%s agent=%s %q", op, s.AdminFlags(), s.Weight(), slim, r.Code, r.Info)
	}
	// An answer without a final newline is left out: HAProxy 2.6 then
	// sometimes reads past the answer and reports bytes that were never
	// sent ("agent reports an error : up\x03\x94"), sometimes ignores the
	// incomplete line as we always do (TestAgentCheck covers it).
	for _, reply := range []string{"up\n", "75%\n", "weight:50%\n", "maxconn:7\n", "drain\n", "ready\n",
		"down#gone fishing\n", "fail\n", "up\n", "stopped # for lunch\n", "up 50%\n", "maint\n", "ready\n",
		"bogus\n", "100%\n", "250%\n", "down maxconn:3 # why not\n", "ready,up 75%x\n", "maxconn:5x\n"} {
		hpAgent.answer(t, reply)
		ourAgent.answer(t, reply)
		if hs, os := hState(), oState(); hs != os {
			t.Errorf("after %q:\nhaproxy %s\nmodel   %s", reply, hs, os)
		}
	}
	hpAgent.ln.Close()
	ourAgent.ln.Close()
	hcWait(t, "refused agents", func() bool {
		r, _ := b.AgentStatus("s1")
		return strings.Contains(hState(), "agent=L4CON") && r.Code == checks.L4CON
	})
	if hs, os := hState(), oState(); hs != os {
		t.Errorf("agent gone:\nhaproxy %s\nmodel   %s", hs, os)
	}

	transitions := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if strings.Contains(l, ", reason: ") {
				out = append(out, l)
			}
		}
		return out
	}
	want := transitions(normalizeLines(messages(logs)))
	hcWait(t, "haproxy's log lines", func() bool { return len(transitions(h.lines())) >= len(want) })
	if got := transitions(h.lines()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines differ\nhaproxy:\n%s\nmodel:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
