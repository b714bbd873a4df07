package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/syncbuf"
)

// caddyBin is the caddy command built from this repository by TestMain.
var caddyBin string

// startTimeout bounds how long a process may take to become ready, and
// stopTimeout how long it may take to exit after SIGINT.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds ./cmd/caddy once into a temporary directory, then runs
// the tests.
func buildAndRun(m *testing.M) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "finding the repository root: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "caddy-haproxy-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	caddyBin = filepath.Join(dir, "caddy")
	build := exec.Command("go", "build", "-o", caddyBin, "./cmd/caddy")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/caddy: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// repoRoot is the directory of the go.mod this package belongs to.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("no go.mod found from %s", root)
	}
	return root, nil
}

// --- ports -----------------------------------------------------------------

// freePort returns a TCP port that is free on every interface, never the
// same twice in this process.
func freePort(t *testing.T) int { return porttest.Free(t) }

// freePortRange returns the first of n consecutive free ports.
func freePortRange(t *testing.T, n int) int { return porttest.Range(t, n) }

// loopback is the address a test sends to for a port.
func loopback(port int) string { return porttest.Loopback(port) }

// --- origins ---------------------------------------------------------------

// origin is a web server standing in for one server line: it answers its
// name and records what it received.
type origin struct {
	name string
	srv  *httptest.Server
	hits atomic.Int64

	mu     sync.Mutex
	header http.Header // of the last request

	// gate, when not nil, holds every request until it is closed; each
	// held request first sends on entered.
	gate    chan struct{}
	entered chan struct{}
}

// startOrigin starts an origin on 127.0.0.1:0, stopped when the test ends.
func startOrigin(t *testing.T, name string) *origin {
	t.Helper()
	o := &origin{name: name}
	o.srv = httptest.NewServer(o)
	t.Cleanup(o.srv.Close)
	return o
}

// startOrigins starts one origin per name.
func startOrigins(t *testing.T, names ...string) []*origin {
	t.Helper()
	origins := make([]*origin, len(names))
	for i, n := range names {
		origins[i] = startOrigin(t, n)
	}
	return origins
}

// hold makes the origin hold its requests until release is called.
func (o *origin) hold() (release func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	gate := make(chan struct{})
	o.gate = gate
	o.entered = make(chan struct{}, 16)
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.hits.Add(1)
	o.mu.Lock()
	o.header = r.Header.Clone()
	gate, entered := o.gate, o.entered
	o.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Server", "origin/"+o.name)
	io.WriteString(w, o.name)
}

// Addr is the origin's host:port, for a server line.
func (o *origin) Addr() string { return o.srv.Listener.Addr().String() }

// lastHeader is the header of the last request the origin received.
func (o *origin) lastHeader() http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.header
}

// --- configs ---------------------------------------------------------------

// writeConfig renders the template testdata/<name> with data into a file
// of the same name in a fresh directory and returns its path.
func writeConfig(t *testing.T, name string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineOf returns the 1-based number of the first line of the file that
// contains s, so that tests name lines without hard-coding them.
func lineOf(t *testing.T, path, s string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line containing %q", path, s)
	return 0
}

// --- processes -------------------------------------------------------------

// process is a running caddy or haproxy.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *syncbuf.Buffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done is closed
	// cleanExit makes stop fail the test unless the process exits with
	// status 0 after SIGINT.
	cleanExit bool
}

// startProcess starts the command and arranges for it to be stopped with
// SIGINT when the test ends; its output is logged if the test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{t: t, name: name, cmd: cmd, log: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.log.String())
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGINT and waits for the process to exit; a process that does
// not exit in time is killed and the test fails.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		if p.cleanExit && p.err != nil {
			p.t.Errorf("%s did not exit cleanly after SIGINT: %v", p.name, p.err)
		}
	case <-time.After(stopTimeout):
		p.dumpAndKill()
		p.t.Errorf("%s did not exit within %v of SIGINT", p.name, stopTimeout)
	}
}

// dumpAndKill ends a process that hangs. Caddy gets SIGABRT first, which
// writes every goroutine's stack to its output (GOTRACEBACK=all, see
// caddyEnv; caddy traps SIGQUIT), so that the failure shows where it hung.
func (p *process) dumpAndKill() {
	if p.name == "caddy" {
		_ = p.cmd.Process.Signal(syscall.SIGABRT)
		select {
		case <-p.done:
			return
		case <-time.After(5 * time.Second):
		}
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// waitFor polls cond until it holds, the process exits or the timeout ends.
func (p *process) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for !cond() {
		if p.exited() {
			p.t.Fatalf("%s exited (%v) while waiting for %s; output:\n%s", p.name, p.err, what, p.log.String())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no %s after %v; output:\n%s", p.name, what, startTimeout, p.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitListening waits until the process itself listens on every address's
// TCP port. Connecting instead could reach another process that holds the
// port (the one this process then fails to bind).
func (p *process) waitListening(addrs ...string) {
	p.t.Helper()
	for _, addr := range addrs {
		_, portText, err := net.SplitHostPort(addr)
		if err != nil {
			p.t.Fatal(err)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			p.t.Fatal(err)
		}
		p.waitFor("listener on "+addr, func() bool {
			ok, err := porttest.ListensTCP(p.pid(), port)
			if err != nil {
				p.t.Skipf("cannot list the process's sockets: %v", err)
			}
			return ok
		})
	}
}

// caddyProc is a running `caddy run`.
type caddyProc struct {
	*process
	// admin is the admin API's host:port.
	admin string
}

// caddyEnv is the environment for a caddy command: its own admin address
// and its own home, so that nothing is read from or saved to the user's.
func caddyEnv(t *testing.T, admin string) []string {
	home := t.TempDir()
	return append(os.Environ(),
		"CADDY_ADMIN="+admin,
		"GOTRACEBACK=all",
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
	)
}

// startCaddy runs `caddy run --adapter haproxy --config cfgPath` and waits
// until the config is loaded.
func startCaddy(t *testing.T, cfgPath string) *caddyProc {
	t.Helper()
	return startCaddyWith(t, "--adapter", "haproxy", "--config", cfgPath)
}

// startCaddyWith runs `caddy run` with args and waits until the config is
// loaded.
func startCaddyWith(t *testing.T, args ...string) *caddyProc {
	t.Helper()
	return startCaddyAt(t, loopback(freePort(t)), args...)
}

// startCaddyAt is startCaddyWith with the admin API on admin, for configs
// that set that address themselves.
func startCaddyAt(t *testing.T, admin string, args ...string) *caddyProc {
	t.Helper()
	cmd := exec.Command(caddyBin, append([]string{"run"}, args...)...)
	cmd.Env = caddyEnv(t, admin)
	c := &caddyProc{process: startProcess(t, "caddy", cmd), admin: admin}
	c.cleanExit = true
	// The admin API answers "null" until the first config has been
	// loaded and its servers started.
	c.waitFor("loaded config on the admin API", func() bool {
		body, err := c.adminGet("/config/")
		return err == nil && strings.TrimSpace(body) != "null"
	})
	return c
}

// adminGet GETs a path of the admin API and returns the body of a 200.
func (c *caddyProc) adminGet(path string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + c.admin + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return string(body), nil
}

// loadHAProxyConfig POSTs haproxy.cfg text to the admin API's /load.
func (c *caddyProc) loadHAProxyConfig(cfg []byte) error {
	return c.load("text/haproxy", cfg)
}

// load POSTs a config of the content type to the admin API's /load.
func (c *caddyProc) load(contentType string, cfg []byte) error {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post("http://"+c.admin+"/load", contentType, bytes.NewReader(cfg))
	if err != nil {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			// A load that hangs: the stacks tell where.
			c.dumpAndKill()
			return fmt.Errorf("%w; caddy's goroutines are in its output", err)
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /load: %s: %s", resp.Status, body)
	}
	return nil
}

// logEntry is one line of caddy's JSON log.
type logEntry struct {
	Level   string `json:"level"`
	Logger  string `json:"logger"`
	Msg     string `json:"msg"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Adapter string `json:"adapter"`
}

// logEntries parses caddy's JSON log lines (other lines are skipped).
func logEntries(log string) []logEntry {
	var entries []logEntry
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Msg != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// adapterWarnings returns the adapter warnings of a caddy log.
func adapterWarnings(log string) []logEntry {
	var warnings []logEntry
	for _, e := range logEntries(log) {
		if e.Level == "warn" && e.File != "" && e.Line > 0 {
			warnings = append(warnings, e)
		}
	}
	return warnings
}

// runCaddyCommand runs a short caddy command (adapt, validate) in dir and
// returns its stdout, stderr and exit code.
func runCaddyCommand(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, caddyBin, args...)
	cmd.Dir = dir
	cmd.Env = caddyEnv(t, loopback(freePort(t)))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("caddy %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// startHAProxy runs the real HAProxy in the foreground on the config, or
// skips the test when it is not installed, and waits for the listeners.
func startHAProxy(t *testing.T, cfgPath string, listeners ...string) *process {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed; the comparison with the reference HAProxy is skipped")
	}
	check := exec.Command(bin, "-c", "-q", "-f", cfgPath)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c rejects %s: %v\n%s", cfgPath, err, out)
	}
	// -dR: no SO_REUSEPORT, so that a port taken by another process fails
	// to bind instead of silently sharing its connections.
	p := startProcess(t, "haproxy", exec.Command(bin, "-f", cfgPath, "-db", "-dR"))
	p.waitListening(listeners...)
	return p
}

// --- requests --------------------------------------------------------------

// get sends one GET on a new connection and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := getResponse(t, url)
	return resp.StatusCode, body
}

// getResponse sends one GET on a new connection and returns the response
// (its body already read and closed) and the body.
func getResponse(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(body)
}

// sequence sends n requests one after the other and returns the names of
// the origins that answered.
func sequence(t *testing.T, url string, n int) []string {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		status, body := get(t, url)
		if status != http.StatusOK {
			t.Fatalf("request %d to %s: status %d: %s", i+1, url, status, body)
		}
		names[i] = body
	}
	return names
}

// repeat returns the pattern repeated times times, as one space-separated
// string like a sequence joined.
func repeat(pattern string, times int) string {
	return strings.TrimSpace(strings.Repeat(pattern+" ", times))
}

// --- sockets ---------------------------------------------------------------

// listeningSockets returns the protocol/port of every listening TCP socket
// and bound UDP socket of the process, as "tcp/8080".
func listeningSockets(t *testing.T, pid int) map[string]bool {
	t.Helper()
	counts, err := porttest.Sockets(pid)
	if err != nil {
		t.Skipf("cannot list the process's sockets: %v", err)
	}
	sockets := map[string]bool{}
	for k := range counts {
		sockets[k] = true
	}
	return sockets
}

// pid is the process id, for /proc.
func (p *process) pid() int { return p.cmd.Process.Pid }
