// Package haproxytest runs the haproxy binary for the tests that compare
// the load balancer with it.
package haproxytest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/syncbuf"
)

// startTimeout bounds how long HAProxy may take to listen.
const startTimeout = 10 * time.Second

// Command writes cfg to haproxy.cfg in a new test directory and returns
// the command that runs bin on it in the foreground (-db) without
// SO_REUSEPORT (-dR), so that a port another process took fails to bind
// instead of silently sharing its connections.
func Command(t testing.TB, bin, cfg string) *exec.Cmd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return exec.Command(bin, "-db", "-dR", "-f", path)
}

// Process is a running haproxy.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	output syncbuf.Buffer
}

// Start starts cmd and kills it when the test ends. Standard error, and
// standard output unless the caller set it, are kept for Output.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.output
	}
	cmd.Stderr = &p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.Stop)
	return p
}

// StartLines is Start with onLine called for each line haproxy writes to
// standard output (its log with -db), from one goroutine. Stop waits until
// every line has been handed over.
func StartLines(t testing.TB, cmd *exec.Cmd, onLine func(string)) *Process {
	t.Helper()
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &p.output
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			onLine(sc.Text())
		}
		// Wait only once the pipe is read to its end: it closes it.
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop kills haproxy and waits until it is gone.
func (p *Process) Stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Output is what haproxy has written so far to standard error (and to
// standard output unless piped elsewhere).
func (p *Process) Output() string { return p.output.String() }

// WaitListening waits until this haproxy listens on every TCP port given.
// It checks the process's own sockets rather than connecting, which could
// reach another process that holds the port (then haproxy fails to bind
// and exits) and, in mode tcp, would take a server. It returns an error
// with haproxy's output when haproxy exits first or does not listen in
// time; CannotBind tells the first case apart.
func (p *Process) WaitListening(ports ...int) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("haproxy exited before listening on %v:\n%s", ports, p.Output())
		default:
		}
		ok, err := porttest.ListensTCP(p.cmd.Process.Pid, ports...)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy not listening on %v after %v:\n%s", ports, startTimeout, p.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CannotBind reports whether err is WaitListening's for a haproxy that
// exited because a port was taken, which a caller may retry on another.
func CannotBind(err error) bool {
	return err != nil && strings.Contains(err.Error(), "cannot bind")
}

// MustListen is WaitListening that fails the test on error.
func (p *Process) MustListen(t testing.TB, ports ...int) {
	t.Helper()
	if err := p.WaitListening(ports...); err != nil {
		t.Fatal(err)
	}
}
