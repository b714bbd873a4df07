package integration

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLoadReplacesConfig posts a new haproxy.cfg to the admin API's /load
// with Content-Type text/haproxy: the new servers and weights take effect at
// once, and a request that was in flight during the reload completes.
func TestLoadReplacesConfig(t *testing.T) {
	old := startOrigin(t, "old")
	newOrigins := startOrigins(t, "new1", "new2")
	port := freePort(t)
	url := "http://" + loopback(port) + "/"
	c := startCaddy(t, writeConfig(t, "reload_v1.cfg", map[string]any{"Port": port, "Old": old.Addr()}))

	if got := strings.Join(sequence(t, url, 2), " "); got != "old old" {
		t.Fatalf("before the reload: answers %q, want \"old old\"", got)
	}

	// Hold one request at the old server across the reload.
	release := old.hold()
	defer release()
	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(url)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		inflight <- result{status: resp.StatusCode, body: b.String(), err: err}
	}()
	select {
	case <-old.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the held request never reached the old server")
	}

	v2, err := os.ReadFile(writeConfig(t, "reload_v2.cfg", map[string]any{
		"Port": port, "New1": newOrigins[0].Addr(), "New2": newOrigins[1].Addr(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.loadHAProxyConfig(v2); err != nil {
		t.Fatal(err)
	}

	// The new config serves with its weights (3:1) from its first request.
	if got, want := strings.Join(sequence(t, url, 8), " "), repeat("new1 new1 new1 new2", 2); got != want {
		t.Errorf("after the reload:\n got %s\nwant %s", got, want)
	}

	release()
	select {
	case r := <-inflight:
		if r.err != nil || r.status != http.StatusOK || r.body != "old" {
			t.Errorf("the request in flight during the reload got status %d body %q err %v, want 200 \"old\"", r.status, r.body, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the request in flight during the reload never completed")
	}
	if n := old.hits.Load(); n != 3 {
		t.Errorf("the old server got %d requests, want 3 (none after the reload)", n)
	}
}

// TestReloadCommand replaces the running config with `caddy reload
// --adapter haproxy`, as a systemd ExecReload does.
func TestReloadCommand(t *testing.T) {
	o := startOrigins(t, "old", "new1", "new2")
	port := freePort(t)
	url := "http://" + loopback(port) + "/"
	c := startCaddy(t, writeConfig(t, "reload_v1.cfg", map[string]any{"Port": port, "Old": o[0].Addr()}))
	if got := strings.Join(sequence(t, url, 1), " "); got != "old" {
		t.Fatalf("before the reload: answered by %q, want old", got)
	}

	v2 := writeConfig(t, "reload_v2.cfg", map[string]any{"Port": port, "New1": o[1].Addr(), "New2": o[2].Addr()})
	stdout, stderr, code := runCaddyCommand(t, t.TempDir(), "reload", "--adapter", "haproxy", "--config", v2, "--address", c.admin)
	if code != 0 {
		t.Fatalf("caddy reload exited %d:\n%s%s", code, stdout, stderr)
	}
	if got, want := strings.Join(sequence(t, url, 4), " "), "new1 new1 new1 new2"; got != want {
		t.Errorf("after caddy reload: answers %q, want %q", got, want)
	}
}
