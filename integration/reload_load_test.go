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
	o := startOrigins(t, "old", "new1", "new2")
	port := freePort(t)
	url := "http://" + loopback(port) + "/"
	v1Path := writeConfig(t, "reload_v1.cfg", map[string]any{"Port": port, "Old": o[0].Addr()})
	v1, err := os.ReadFile(v1Path)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(writeConfig(t, "reload_v2.cfg", map[string]any{"Port": port, "New1": o[1].Addr(), "New2": o[2].Addr()}))
	if err != nil {
		t.Fatal(err)
	}
	c := startCaddy(t, v1Path)

	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var clients sync.WaitGroup
	for i := range 8 {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 0}}
		clients.Add(1)
		go func() {
			defer clients.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if err := fetch(client, url); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("keepalive=%v: %v", i%2 != 0, err))
				}
			}
		}()
	}
	const reloads = 40
	for i := range reloads {
		// Let requests through each config before the next reload.
		before := sent.Load()
		c.waitFor("requests during the config", func() bool { return sent.Load() >= before+20 })
		cfg := v1
		if i%2 == 0 {
			cfg = v2
		}
		if err := c.loadHAProxyConfig(cfg); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
	}
	close(stop)
	clients.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed across %d reloads; first: %v", n, sent.Load(), reloads, firstErr.Load())
	}
	t.Logf("%d requests across %d reloads, none failed", sent.Load(), reloads)
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
