package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runtimeAPIConfig is a haproxy.cfg with an admin and a user runtime API
// socket, a checked and an unchecked server, a backup, and a backend with
// a static algorithm. Only s1 is checked, with a long interval: its one
// check runs at start-up (HAProxy and caddy both check the first checked
// server of a backend at once), so later answers do not race with checks.
func runtimeAPIConfig(dir string, port int, s1, s2 string, agentPort int) string {
	return fmt.Sprintf(`global
    stats socket %[1]s/admin.sock mode 600 level admin
    stats socket %[1]s/user.sock level user

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind %[2]s
    use_backend static if { path_beg /static }
    default_backend be

backend be
    balance roundrobin
    server s1 %[3]s weight 5 check inter 1h
    server s2 %[4]s weight 3
    server s3 %[4]s backup
    server s4 %[4]s agent-check agent-port %[5]d agent-inter 1h

backend static
    balance static-rr
    server a %[3]s
`, dir, loopback(port), s1, s2, agentPort)
}

// waitFirstCheck waits until the runtime API at sock answers and shows
// that s1 of runtimeAPIConfig had its first check (check_status 6, L4OK).
func waitFirstCheck(t *testing.T, p *process, sock string) {
	t.Helper()
	p.waitFor("s1's first check", func() bool {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return false
		}
		conn.Close()
		lines := strings.Split(socatCommand(t, sock, "show servers state be\n"), "\n")
		return len(lines) > 2 && len(strings.Fields(lines[2])) > 10 && strings.Fields(lines[2])[10] == "6"
	})
}

// socatCommand sends input to a runtime API socket with socat, as an
// operator does, and returns everything the socket answered.
func socatCommand(t *testing.T, sock, input string) string {
	t.Helper()
	cmd := exec.Command("socat", "-t2", "stdio", "unix-connect:"+sock)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("socat %s: %v", sock, err)
	}
	return string(out)
}

// serversStateAge matches srv_time_since_last_change in "show servers
// state" rows: seconds that legitimately differ between two processes.
var serversStateAge = regexp.MustCompile(`(?m)^((?:\S+ ){9})\d+ `)

// statMasked are the "show stat" columns left out of the comparison:
// lastchg and check_duration count time; the others are where the
// statistics rows (lbmodule/stats, shared with the stats page) differ
// from HAProxy 2.6 today, which is the statistics model's business, not
// the runtime API's: a backend's slim (HAProxy's computed fullconn) and
// uweight (HAProxy sums only usable active servers), cache_lookups,
// cache_hits and need_conn_est of servers, and the module columns after
// "-"; and the agent's last status (agent_status, agent_desc, last_agt),
// because the model queries an agent at once where HAProxy spreads the
// first query over the interval.
var statMasked = map[string]bool{
	"lastchg": true, "check_duration": true, "slim": true, "uweight": true,
	"cache_lookups": true, "cache_hits": true, "need_conn_est": true,
	"agent_status": true, "agent_desc": true, "last_agt": true,
}

func maskRuntimeAnswer(s string) string {
	s = serversStateAge.ReplaceAllString(s, "${1}AGE ")
	lines := strings.Split(s, "\n")
	var header []string
	for i, l := range lines {
		if strings.HasPrefix(l, "# pxname,") {
			header = strings.Split(strings.TrimPrefix(l, "# "), ",")
			continue
		}
		cols := strings.Split(l, ",")
		if header == nil || len(cols) < len(header) {
			continue
		}
		modules := false
		for c := range cols {
			name := ""
			if c < len(header) {
				name = header[c]
			}
			modules = modules || name == "-"
			if statMasked[name] || (modules && name != "-") {
				cols[c] = "X"
			}
		}
		lines[i] = strings.Join(cols, ",")
	}
	return strings.Join(lines, "\n")
}

// startRuntimeAPIConfig writes runtimeAPIConfig in a new directory, starts
// it with start (HAProxy or caddy) and waits for the first check. It
// returns the process and the directory, which holds the sockets.
func startRuntimeAPIConfig(t *testing.T, start func(cfg string, port int) *process, origins []*origin, agentPort int) (*process, string) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(runtimeAPIConfig(dir, port, origins[0].Addr(), origins[1].Addr(), agentPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(cfg, port)
	waitFirstCheck(t, p, filepath.Join(dir, "admin.sock"))
	return p, dir
}

// TestRuntimeAPIMatchesHAProxy sends the same runtime API commands to
// HAProxy and to caddy running the same haproxy.cfg, through socat, and
// compares the answers byte for byte (the age of the last state change
// masked).
func TestRuntimeAPIMatchesHAProxy(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	origins := startOrigins(t, "o1", "o2")
	// s4's agent port: nothing listens there, so queries change nothing.
	agentPort := freePort(t)
	run := func(name string, start func(cfg string, port int) *process) []string {
		p, dir := startRuntimeAPIConfig(t, start, origins, agentPort)
		defer p.stop()
		admin, user := filepath.Join(dir, "admin.sock"), filepath.Join(dir, "user.sock")
		var answers []string
		for _, step := range runtimeAPISteps {
			sock := admin
			if step.user {
				sock = user
			}
			answers = append(answers, maskRuntimeAnswer(socatCommand(t, sock, step.input)))
		}
		return answers
	}
	want := run("haproxy", func(cfg string, port int) *process {
		return startHAProxy(t, cfg, loopback(port))
	})
	got := run("caddy", func(cfg string, port int) *process {
		c := startCaddy(t, cfg)
		c.waitListening(loopback(port))
		return c.process
	})
	for i, step := range runtimeAPISteps {
		if got[i] != want[i] {
			t.Errorf("%q:\ncaddy:\n%s\nhaproxy:\n%s", step.input, got[i], want[i])
		}
	}
}

// runtimeAPISteps are sent in order, each on a new connection.
var runtimeAPISteps = []struct {
	input string
	user  bool
}{
	{input: "show backend\n"},
	{input: "show servers state\n"},
	{input: "show servers state static\n"},
	{input: "show servers state nope\n"},
	{input: "show stat 3 6 -1\n"},
	{input: "show stat be 4 2\n"},
	{input: "show stat static 2 -1\n"},
	{input: "show stat nope 2 -1\n"},
	{input: "get weight be/s1\n"},
	{input: "set weight be/s1 10\n"},
	{input: "get weight be/s1\n"},
	{input: "set server be/s1 weight 50%\n"},
	{input: "get weight be/s1\n"},
	{input: "set weight be/s1 300\n"},
	{input: "set weight be/s1 -1\n"},
	{input: "set weight be/s1 x\n"},
	{input: "set weight be/s1 5x\n"},
	{input: "set weight be/s1 -5%\n"},
	{input: "set weight be/s1 200%\n"},
	{input: "get weight be/s1\n"},
	{input: "set weight be/s1\n"},
	{input: "set weight static/a 5\n"},
	{input: "set weight static/a 0%\n"},
	{input: "get weight static/a\n"},
	{input: "set weight static/a 100%\n"},
	{input: "set weight be/nope 1\n"},
	{input: "set weight nope/s1 1\n"},
	{input: "get weight be\n"},
	{input: "get weight be/#2\n"},
	{input: "get weight #3/s1\n"},
	{input: "set maxconn server be/s2 10\n"},
	{input: "set maxconn server be/s2\n"},
	{input: "set maxconn server be/s2 x\n"},
	{input: "set maxconn server be/s2 5x\n"},
	{input: "set maxconn server be\n"},
	{input: "set maxconn server nope/s2 3\n"},
	{input: "show stat be 4 2\n"},
	{input: "set maxconn server be/s2 0\n"},
	{input: "set server be/s1 state drain\n"},
	{input: "show servers state be\n"},
	{input: "show stat 3 6 -1\n"},
	{input: "set server be/s1 state ready\n"},
	{input: "set server be/s1 state foo\n"},
	{input: "disable server be/s2\n"},
	{input: "show servers state be\n"},
	{input: "enable server be/s2\n"},
	{input: "set server be/s2 state maint\n"},
	{input: "set server be/s2 state drain\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s2 state ready\n"},
	{input: "set server be/s2 health down\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s2 health stopping\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s2 health up\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s1 health down\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s1 health up\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s2 health foo\n"},
	{input: "set server be/s2 agent up\n"},
	{input: "set server be/s1\n"},
	{input: "set server be/s1 foo\n"},
	{input: "set server be\n"},
	{input: "disable health be/s1\n"},
	{input: "show servers state be\n"},
	{input: "enable health be/s1\n"},
	{input: "show servers state be\n"},
	{input: "enable health be/s2\n"},
	{input: "disable agent be/s4\n"},
	{input: "show servers state be\n"},
	{input: "enable agent be/s4\n"},
	{input: "set server be/s4 agent down\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s4 agent up\n"},
	{input: "show servers state be\n"},
	{input: "set server be/s4 agent foo\n"},
	{input: "disable agent be/s2\n"},
	{input: "enable agent be/s2\n"},
	{input: "get weight be/s1;get weight be/s2; get weight static/a\n"},
	{input: "show cli level\n"},
	{input: "operator;show cli level;user;show cli level;operator\n"},
	{input: "show backend\nget weight be/s2\n"},
	{input: "prompt\nshow backend\nget weight be/s1;show cli level\nuser\nset weight be/s1 1\nquit\n"},
	{input: "prompt\nprompt\nget weight be/s1\n"},
	{input: "set timeout cli 30\n"},
	{input: "show cli level\n", user: true},
	{input: "get weight be/s1\n", user: true},
	{input: "show servers state be\n", user: true},
	{input: "show stat 3 6 -1\n", user: true},
	{input: "set weight be/s1 3\n", user: true},
	{input: "set server be/s1 state maint\n", user: true},
	{input: "disable server be/s1\n", user: true},
	{input: "disable health be/s1\n", user: true},
	{input: "set maxconn server be/s1 3\n", user: true},
	{input: "operator\n", user: true},
}

// TestRuntimeAPIHelpIsHAProxys checks that every line caddy's "help"
// lists is word for word a line of HAProxy's.
func TestRuntimeAPIHelpIsHAProxys(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	origins := startOrigins(t, "o1", "o2")
	// s4's agent port: nothing listens there, so queries change nothing.
	agentPort := freePort(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(runtimeAPIConfig(dir, port, origins[0].Addr(), origins[1].Addr(), agentPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := filepath.Join(dir, "admin.sock")
	h := startHAProxy(t, cfg, loopback(port))
	want := socatCommand(t, admin, "help\n")
	h.stop()
	c := startCaddy(t, cfg)
	c.waitListening(loopback(port))
	c.waitFor("the runtime API socket", func() bool { _, err := os.Stat(admin); return err == nil })
	got := socatCommand(t, admin, "help\n")
	lines := strings.Split(strings.TrimSuffix(got, "\n\n"), "\n")
	if len(lines) < 15 {
		t.Fatalf("help lists %d lines:\n%s", len(lines), got)
	}
	haproxyLines := make(map[string]bool)
	for _, l := range strings.Split(want, "\n") {
		haproxyLines[l] = true
	}
	for _, l := range lines {
		if !haproxyLines[l] {
			t.Errorf("help line %q is not in HAProxy's help", l)
		}
	}
}

// TestHatopDrivesRuntimeAPI runs hatop's own socket code (its Socket and
// SocketData classes, its screen lines in every statistics mode, the
// commands of its hotkeys) against HAProxy and caddy on the same
// haproxy.cfg; everything but the process's name, pid and limits must be
// the same.
func TestHatopDrivesRuntimeAPI(t *testing.T) {
	if _, err := os.Stat("/usr/bin/hatop"); err != nil {
		t.Skip("hatop is not installed")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	driver, err := filepath.Abs("testdata/hatop_driver.py")
	if err != nil {
		t.Fatal(err)
	}
	origins := startOrigins(t, "o1", "o2")
	// s4's agent port: nothing listens there, so queries change nothing.
	agentPort := freePort(t)
	run := func(start func(cfg string, port int) *process) (info string, rest string) {
		p, dir := startRuntimeAPIConfig(t, start, origins, agentPort)
		defer p.stop()
		admin := filepath.Join(dir, "admin.sock")
		out, err := exec.Command(python, driver, admin, "be", "be/s2").CombinedOutput()
		if err != nil {
			t.Fatalf("hatop driver: %v\n%s", err, out)
		}
		info, rest, _ = strings.Cut(string(out), "\n")
		return info, rest
	}
	wantInfo, want := run(func(cfg string, port int) *process { return startHAProxy(t, cfg, loopback(port)) })
	gotInfo, got := run(func(cfg string, port int) *process {
		c := startCaddy(t, cfg)
		c.waitListening(loopback(port))
		return c.process
	})
	if got != want {
		t.Errorf("hatop saw:\ncaddy:\n%s\nhaproxy:\n%s", got, want)
	}
	if !strings.HasPrefix(gotInfo, "info Caddy ") || !strings.HasPrefix(wantInfo, "info HAProxy ") {
		t.Errorf("show info as hatop reads it: caddy %q, haproxy %q", gotInfo, wantInfo)
	}
	t.Logf("hatop:\n%s\n%s", gotInfo, got)
}

// TestRuntimeAPIOverTCPAcrossReload serves the runtime API on a TCP
// address and a UNIX socket with mode 600, and checks that a server state
// set through it survives a config reload, with both sockets still
// answering.
func TestRuntimeAPIOverTCPAcrossReload(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	origins := startOrigins(t, "o1", "o2")
	dir := t.TempDir()
	port, cliPort := freePort(t), freePort(t)
	sock := filepath.Join(dir, "admin.sock")
	config := func(s2Weight int) []byte {
		global := fmt.Sprintf("    stats socket %s mode 600 level admin\n    stats socket ipv4@%s level admin\n", sock, loopback(cliPort))
		servers := fmt.Sprintf("    server s1 %s\n    server s2 %s weight %d\n", origins[0].Addr(), origins[1].Addr(), s2Weight)
		return []byte(httpConfig(global, loopback(port), servers))
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, config(1), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCaddy(t, cfg)
	c.waitListening(loopback(port), loopback(cliPort))
	tcp := func(cmd string) string {
		run := exec.Command("socat", "-t2", "stdio", "tcp:"+loopback(cliPort))
		run.Stdin = strings.NewReader(cmd + "\n")
		out, err := run.Output()
		if err != nil {
			t.Fatalf("socat tcp: %v", err)
		}
		return string(out)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket file: %v, %v (want mode 0600)", fi, err)
	}
	if got := tcp("set server be/s1 state drain"); got != "\n" {
		t.Fatalf("set server over TCP: %q", got)
	}
	if err := c.loadHAProxyConfig(config(2)); err != nil {
		t.Fatal(err)
	}
	for _, answer := range []string{tcp("show servers state be"), socatCommand(t, sock, "show servers state be\n")} {
		lines := strings.Split(answer, "\n")
		if len(lines) < 4 || !strings.HasPrefix(lines[2], "3 be 1 s1 127.0.0.1 2 8 1 1 ") || !strings.HasPrefix(lines[3], "3 be 2 s2 127.0.0.1 2 0 2 2 ") {
			t.Errorf("after the reload:\n%s", answer)
		}
	}
}
