package integration

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkedOrigin is a web server that can be stopped and started again on
// the same address, and whose health URL can be made to fail while it
// still serves traffic.
type checkedOrigin struct {
	name string
	addr string

	unhealthy atomic.Bool
	mu        sync.Mutex
	srv       *http.Server
}

func startCheckedOrigin(t *testing.T, name string) *checkedOrigin {
	t.Helper()
	o := &checkedOrigin{name: name, addr: loopback(freePort(t))}
	o.start(t)
	t.Cleanup(o.stop)
	return o
}

func (o *checkedOrigin) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		t.Fatalf("origin %s: %v", o.name, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && o.unhealthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, o.name)
	})}
	o.mu.Lock()
	o.srv = srv
	o.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection, as a crashed server.
func (o *checkedOrigin) stop() {
	o.mu.Lock()
	srv := o.srv
	o.srv = nil
	o.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// failoverPhase is what the proxy does once a change has settled: which
// servers answer, in the order they answer.
type failoverPhase struct {
	name    string
	change  func(t *testing.T)
	servers string // the sorted set of servers that answer once settled
}

// runFailover drives the phases against a proxy and returns, per phase,
// the servers that answered once it settled and how long that took.
// Every request must succeed: with retries and redispatch a request that
// finds a dead server is sent to another one.
func runFailover(t *testing.T, url string, phases []failoverPhase) (sets []string, took []time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	ask := func() string {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, body)
		}
		return string(body)
	}
	for _, ph := range phases {
		start := time.Now()
		if ph.change != nil {
			ph.change(t)
		}
		// Settled: 12 answers in a row from exactly the expected set.
		deadline := start.Add(10 * time.Second)
		var window []string
		for {
			window = append(window, ask())
			if len(window) > 12 {
				window = window[1:]
			}
			if len(window) == 12 && setOf(window) == ph.servers {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("phase %q: servers %v never settled to %s", ph.name, window, ph.servers)
			}
			time.Sleep(20 * time.Millisecond) // pace the polling, not a wait for an event
		}
		sets = append(sets, setOf(window))
		took = append(took, time.Since(start))
	}
	return sets, took
}

func setOf(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " ")
}

// TestFailoverMatchesHAProxy kills and restarts servers and makes their
// health checks fail, under HAProxy and under Caddy with the same
// haproxy.cfg: the same servers must take the traffic at each step (the
// first backup alone, or all backups with option allbackups), no request
// may fail, and a dead server must leave within about inter × fall.
func TestFailoverMatchesHAProxy(t *testing.T) {
	for _, allBackups := range []bool{false, true} {
		name := "first backup"
		if allBackups {
			name = "allbackups"
		}
		t.Run(name, func(t *testing.T) {
			results := map[string][]string{}
			for _, proxy := range []string{"haproxy", "caddy"} {
				t.Run(proxy, func(t *testing.T) {
					s1, s2 := startCheckedOrigin(t, "s1"), startCheckedOrigin(t, "s2")
					b1, b2 := startCheckedOrigin(t, "b1"), startCheckedOrigin(t, "b2")
					port := freePort(t)
					cfg := writeConfig(t, "failover.cfg", map[string]any{
						"Port": port, "AllBackups": allBackups,
						"S1": s1.addr, "S2": s2.addr, "B1": b1.addr, "B2": b2.addr,
					})
					if proxy == "haproxy" {
						startHAProxy(t, cfg, loopback(port))
					} else {
						startCaddy(t, cfg)
					}
					backups := "b1"
					if allBackups {
						backups = "b1 b2"
					}
					phases := []failoverPhase{
						{"all up", nil, "s1 s2"},
						{"s1 killed", func(*testing.T) { s1.stop() }, "s2"},
						{"s2 fails its check", func(*testing.T) { s2.unhealthy.Store(true) }, backups},
						{"b1 killed too", func(*testing.T) { b1.stop() }, "b2"},
						{"s2 healthy again", func(*testing.T) { s2.unhealthy.Store(false) }, "s2"},
						{"s1 restarted", func(t *testing.T) { s1.start(t) }, "s1 s2"},
					}
					sets, took := runFailover(t, "http://"+loopback(port)+"/", phases)
					results[proxy] = sets
					// Traffic leaves a dead server at once (redispatch);
					// a server that fails its checks leaves after
					// inter 200ms × fall 2 plus at most one interval:
					// about 0.6s. Allow for a loaded machine.
					if took[2] > 3*time.Second {
						t.Errorf("%s: s2 left after %v, want about inter × fall", proxy, took[2])
					}
					t.Logf("%s: phases settled after %v", proxy, took)
				})
			}
			if h, c := results["haproxy"], results["caddy"]; h != nil && !slices.Equal(h, c) {
				t.Errorf("servers per phase: haproxy %q, caddy %q", h, c)
			}
		})
	}
}
