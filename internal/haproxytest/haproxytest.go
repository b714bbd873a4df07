// Package haproxytest runs the haproxy binary for the tests that compare
// the load balancer with it.
package haproxytest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Command writes cfg to haproxy.cfg in a new test directory and returns
// the command that runs bin on it in the foreground (-db) without
// SO_REUSEPORT (-dR), so that a port another test's HAProxy took fails to
// bind instead of silently sharing its connections.
func Command(t testing.TB, bin, cfg string) *exec.Cmd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return exec.Command(bin, "-db", "-dR", "-f", path)
}

// Start starts cmd and kills it when the test ends.
func Start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// StartLines starts cmd with onLine called for each line it writes to
// standard output (HAProxy's log with -db), from one goroutine. When the
// test ends it kills cmd and waits until every line has been handed over.
func StartLines(t testing.TB, cmd *exec.Cmd, onLine func(string)) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			onLine(sc.Text())
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-readDone
		_ = cmd.Wait()
	})
}
