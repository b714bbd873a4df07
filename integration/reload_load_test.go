package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReloadUnderLoadLosesNothing replaces the config 40 times through
// POST /load while eight clients send requests without pause, half of them
// on a new connection each and half on keep-alive connections. HAProxy
// hands its listening sockets to the new process; the adapter's listeners
// share one socket across configs, and a connection an old config closes
// unanswered goes to the new one with its request: no request may fail.
func TestReloadUnderLoadLosesNothing(t *testing.T) {
	c, port, v1, v2 := startReloadPair(t)
	url := "http://" + loopback(port) + "/"

	load := startHTTPLoad(url, 8)
	const reloads = 40
	for i := range reloads {
		// Let requests through each config before the next reload.
		load.waitRequests(c.process, 20)
		cfg := v1
		if i%2 == 0 {
			cfg = v2
		}
		if err := c.loadHAProxyConfig(cfg); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
	}
	sent, failed, firstErr := load.stop()
	if failed != 0 {
		t.Fatalf("%d of %d requests failed across %d reloads; first: %v", failed, sent, reloads, firstErr)
	}
	t.Logf("%d requests across %d reloads, none failed", sent, reloads)
}

// startReloadPair starts three origins and Caddy on reload_v1.cfg (one
// server) and returns Caddy, the frontend's port, and the texts of
// reload_v1.cfg and reload_v2.cfg (two other servers) to alternate with
// POST /load.
func startReloadPair(t *testing.T) (c *caddyProc, port int, v1, v2 []byte) {
	t.Helper()
	o := startOrigins(t, "old", "new1", "new2")
	port = freePort(t)
	v1Path := writeConfig(t, "reload_v1.cfg", map[string]any{"Port": port, "Old": o[0].Addr()})
	v1, err := os.ReadFile(v1Path)
	if err != nil {
		t.Fatal(err)
	}
	v2, err = os.ReadFile(writeConfig(t, "reload_v2.cfg", map[string]any{"Port": port, "New1": o[1].Addr(), "New2": o[2].Addr()}))
	if err != nil {
		t.Fatal(err)
	}
	return startCaddy(t, v1Path), port, v1, v2
}

// httpLoad is clients sending GETs without pause, half of them on a new
// connection each and half on keep-alive connections.
type httpLoad struct {
	sent, failed atomic.Int64
	firstErr     atomic.Value
	done         chan struct{}
	clients      sync.WaitGroup
}

// startHTTPLoad starts n clients sending to url until stop is called.
func startHTTPLoad(url string, n int) *httpLoad {
	l := &httpLoad{done: make(chan struct{})}
	for i := range n {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 0}}
		l.clients.Add(1)
		go func() {
			defer l.clients.Done()
			for {
				select {
				case <-l.done:
					return
				default:
				}
				l.sent.Add(1)
				if err := fetch(client, url); err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, fmt.Sprintf("keepalive=%v: %v", i%2 != 0, err))
				}
			}
		}()
	}
	return l
}

// waitRequests waits until n more requests have been sent.
func (l *httpLoad) waitRequests(p *process, n int64) {
	p.t.Helper()
	before := l.sent.Load()
	p.waitFor("requests under load", func() bool { return l.sent.Load() >= before+n })
}

// stop stops the clients and returns how many requests were sent and
// failed, and the first failure.
func (l *httpLoad) stop() (sent, failed int64, firstErr any) {
	close(l.done)
	l.clients.Wait()
	return l.sent.Load(), l.failed.Load(), l.firstErr.Load()
}

// fetch sends one GET and reads the whole answer, which must be a 200.
func fetch(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
