package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Saturation sizes: three times more clients than the maxconn, within the
// machine's 20,000 open files per process (the test holds every client
// and origin socket, caddy two per proxied connection plus, in mode tcp,
// the accepted connections that wait).
const (
	saturationMaxConn = 1000
	saturationClients = 3000
)

// originGate holds what passes it until released, counting what it holds.
type originGate struct {
	gate        chan struct{}
	inflight    atomic.Int64
	releaseOnce sync.Once
}

func newOriginGate(t *testing.T) *originGate {
	g := &originGate{gate: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

// pass waits, counted, until the gate is released.
func (g *originGate) pass() {
	g.inflight.Add(1)
	<-g.gate
	g.inflight.Add(-1)
}

// held is how many are waiting at the gate.
func (g *originGate) held() int { return int(g.inflight.Load()) }

func (g *originGate) release() { g.releaseOnce.Do(func() { close(g.gate) }) }

// startGatedOrigin starts an HTTP origin that holds every request at the
// gate, then answers "app"; it returns the origin's address.
func startGatedOrigin(t *testing.T, g *originGate) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.pass()
		io.WriteString(w, "app")
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// startGatedTCPOrigin starts a TCP origin that reads one byte from each
// connection, holds it at the gate, then writes "app" and a newline and
// closes; a connection that sends nothing, as a probe of the listener,
// is not held. It returns the origin's address.
func startGatedTCPOrigin(t *testing.T, g *originGate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var b [1]byte
				if _, err := io.ReadFull(c, b[:]); err != nil {
					return
				}
				g.pass()
				io.WriteString(c, "app\n")
			}()
		}
	}()
	return ln.Addr().String()
}

// saturationClient opens one connection and waits for the proxied answer:
// an HTTP GET answered 200 "app", or in mode tcp a byte answered "app".
// written is called once, when the request is sent (the connection is
// established, maybe only in the kernel's backlog).
func saturationClient(mode, addr string, written func()) error {
	c, err := net.DialTimeout("tcp", addr, 60*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(90 * time.Second))
	br := bufio.NewReader(c)
	if mode == "tcp" {
		if _, err := io.WriteString(c, "x"); err != nil {
			return err
		}
		written()
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line != "app\n" {
			return fmt.Errorf("got %q", line)
		}
		return nil
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	written()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != "app" {
		return fmt.Errorf("status %d: %q", resp.StatusCode, body)
	}
	return nil
}

// saturationResult is what one proxy did with the clients.
type saturationResult struct {
	served, failed int
	// peak is the most connections the origin had at once.
	peak int
	// firstErr is one failure, for the message.
	firstErr string
}

// saturate starts the clients against addr, waits until the origin holds
// the proxy's maxconn and every client has sent its request, records the
// peak, then releases the origin and waits for every client.
func saturate(t *testing.T, mode, addr string, gate *originGate, whileSaturated func()) saturationResult {
	t.Helper()
	var written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, saturationClients)
	for range saturationClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- saturationClient(mode, addr, func() { written.Add(1) })
		}()
	}
	// The clients beyond what the accept queue takes only connect once
	// the proxy accepts again; wait for those that can.
	deadline := time.Now().Add(60 * time.Second)
	for gate.held() < saturationMaxConn || written.Load() < int64(saturationMaxConn) {
		if time.Now().After(deadline) {
			gate.release()
			t.Fatalf("the origin holds %d connections and %d clients sent, after 60s", gate.held(), written.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let the clients that the accept queues take connect too: more
	// than maxconn of them reaching the origin would show now.
	for last := int64(-1); written.Load() != last; time.Sleep(300 * time.Millisecond) {
		last = written.Load()
	}
	whileSaturated()
	var r saturationResult
	r.peak = gate.held()
	t.Logf("%d clients connected and sent while saturated", written.Load())
	gate.release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			r.served++
			continue
		}
		r.failed++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	}
	return r
}

// peakSampler samples a value every 20ms until stopped and keeps the
// highest.
type peakSampler struct {
	done chan struct{}
	peak chan int
}

func newPeakSampler(sample func() int) *peakSampler {
	p := &peakSampler{done: make(chan struct{}), peak: make(chan int)}
	go func() {
		peak := sample()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				p.peak <- max(peak, sample())
				return
			case <-tick.C:
				peak = max(peak, sample())
			}
		}
	}()
	return p
}

// stop ends the sampling and returns the highest value seen.
func (p *peakSampler) stop() int {
	close(p.done)
	return <-p.peak
}

// rssKiB is the process's resident memory from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("cannot read the process's memory: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kib
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// TestSaturationMatchesHAProxy sends three times more concurrent
// connections than the global maxconn through HTTP and TCP frontends whose
// origin holds every request: under HAProxy and caddy alike, the origin
// never sees more than maxconn connections at once, the excess waits and
// is served once the origin answers, and nothing is refused. Caddy's
// memory stays bounded and its goroutines go back to where they were.
func TestSaturationMatchesHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	for _, mode := range []string{"http", "tcp"} {
		t.Run(mode, func(t *testing.T) {
			results := map[string]saturationResult{}
			for _, proxy := range []string{"haproxy", "caddy"} {
				t.Run(proxy, func(t *testing.T) {
					gate := newOriginGate(t)
					startOrigin := startGatedOrigin
					if mode == "tcp" {
						startOrigin = startGatedTCPOrigin
					}
					originAddr := startOrigin(t, gate)
					p1, p2 := freePort(t), freePort(t)
					cfg := writeConfig(t, "maxconn.cfg", map[string]any{
						"Mode": mode, "Global": saturationMaxConn, "Port1": p1, "Port2": p2, "Origin": originAddr,
					})
					addr := loopback(p1)
					var r saturationResult
					if proxy == "haproxy" {
						startHAProxy(t, cfg, loopback(p2))
						r = saturate(t, mode, addr, gate, func() {})
					} else {
						c := startCaddy(t, cfg)
						c.waitListening(loopback(p2))
						before := c.resources(t)
						baseRSS := rssKiB(t, c.pid())
						peakRSS := newPeakSampler(func() int { return rssKiB(t, c.pid()) })
						var saturatedGoroutines int
						r = saturate(t, mode, addr, gate, func() { saturatedGoroutines = c.resources(t).goroutines })
						peak := peakRSS.stop()
						// What may stay are the idle connections to the
						// origin that the transport keeps (two goroutines
						// each, at most 32 of them).
						c.waitFor("goroutines back down", func() bool {
							return c.resources(t).goroutines <= before.goroutines+2*32+20
						})
						// The heap profile with gc=1 collects first; the
						// runtime then hands the freed memory back to the
						// system, a little at a time.
						c.waitFor("memory handed back", func() bool {
							if _, err := c.adminGet("/debug/pprof/heap?gc=1"); err != nil {
								t.Fatal(err)
							}
							return rssKiB(t, c.pid()) <= baseRSS+(peak-baseRSS)/2
						})
						t.Logf("caddy RSS: %d MiB before, %d MiB at the peak, %d MiB after; goroutines %d before, %d saturated, %d after",
							baseRSS>>10, peak>>10, rssKiB(t, c.pid())>>10, before.goroutines, saturatedGoroutines, c.resources(t).goroutines)
						if grown := peak - baseRSS; grown > 512<<10 {
							t.Errorf("caddy grew by %d MiB under the load", grown>>10)
						}
					}
					t.Logf("%s %s: %d served, %d failed, origin peak %d connections", proxy, mode, r.served, r.failed, r.peak)
					if r.peak > saturationMaxConn {
						t.Errorf("the origin had %d connections at once; maxconn is %d", r.peak, saturationMaxConn)
					}
					results[proxy] = r
				})
			}
			hp, cd := results["haproxy"], results["caddy"]
			if len(results) == 2 && hp.served != cd.served || hp.failed != cd.failed {
				t.Errorf("HAProxy served %d and failed %d (%s); caddy served %d and failed %d (%s)",
					hp.served, hp.failed, hp.firstErr, cd.served, cd.failed, cd.firstErr)
			}
		})
	}
}
