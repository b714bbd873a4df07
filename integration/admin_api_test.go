package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// adminAPIConfig is a frontend and a cookie-persistent backend of two
// servers, s1 weighted so that it takes most of the load.
func adminAPIConfig(port int, s1, s2 string) string {
	return httpConfig("", loopback(port), fmt.Sprintf(`    balance roundrobin
    cookie SRV insert indirect nocache
    server s1 %s cookie c1 weight 3
    server s2 %s cookie c2 weight 1
`, s1, s2))
}

// adminSend sends a request with a JSON body to caddy's admin API and
// decodes the JSON answer of a 200 into out.
func (c *caddyProc) adminSend(method, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, "http://"+c.admin+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, answer)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer, out)
}

func startAdminAPICaddy(t *testing.T) (*caddyProc, string, []*origin) {
	t.Helper()
	origins := startOrigins(t, "s1", "s2")
	port := freePort(t)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(adminAPIConfig(port, origins[0].Addr(), origins[1].Addr())), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCaddy(t, cfg)
	c.waitListening(loopback(port))
	return c, "http://" + loopback(port) + "/", origins
}

type adminServer struct {
	Name       string `json:"name"`
	AdminState string `json:"admin_state"`
	Weight     int    `json:"weight"`
	Usable     bool   `json:"usable"`
	Up         bool   `json:"up"`
	Sessions   int64  `json:"sessions"`
}

// TestAdminAPIServerChanges reads and changes a server through the admin
// API: state, weight (absolute and relative), forced health, and the
// errors for bad input and unknown names.
func TestAdminAPIServerChanges(t *testing.T) {
	c, url, _ := startAdminAPICaddy(t)
	for range 4 {
		get(t, url)
	}
	var backends []struct {
		Name    string        `json:"name"`
		ID      int           `json:"id"`
		Servers []adminServer `json:"servers"`
	}
	if err := c.adminSend(http.MethodGet, "/haproxy/backends", nil, &backends); err != nil {
		t.Fatal(err)
	}
	if len(backends) != 1 || backends[0].Name != "be" || backends[0].ID != 2 || len(backends[0].Servers) != 2 {
		t.Fatalf("backends = %+v", backends)
	}
	if s := backends[0].Servers; s[0].Sessions != 3 || s[1].Sessions != 1 || s[0].Weight != 3 {
		t.Errorf("after 4 requests (weights 3:1): servers = %+v", s)
	}
	csv, err := c.adminGet("/haproxy/stats")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(csv, "\n")
	if !strings.HasPrefix(lines[0], "# pxname,svname,qcur,") {
		t.Fatalf("stats CSV header: %q", lines[0])
	}
	// Sessions (stot, the 8th column) after 4 requests with weights 3:1.
	for _, prefix := range []string{"be,s1,", "be,s2,", "be,BACKEND,"} {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
		want := map[string]string{"be,s1,": "3", "be,s2,": "1", "be,BACKEND,": "4"}[prefix]
		if i < 0 || strings.Split(lines[i], ",")[7] != want {
			t.Errorf("stats CSV: no row %q… with stot %s:\n%s", prefix, want, csv)
		}
	}
	var rows [][]struct {
		ObjType string `json:"objType"`
		Field   struct {
			Name string `json:"name"`
		} `json:"field"`
	}
	jsonStats, err := c.adminGet("/haproxy/stats/json?scope=be")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(jsonStats), &rows); err != nil || len(rows) != 3 || rows[0][0].ObjType != "Server" || rows[2][0].ObjType != "Backend" {
		t.Errorf("stats JSON of scope be: %d rows, %v:\n%.300s", len(rows), err, jsonStats)
	}
	steps := []struct {
		change map[string]any
		want   adminServer
	}{
		{map[string]any{"state": "drain"}, adminServer{AdminState: "DRAIN", Weight: 3, Up: true}},
		{map[string]any{"state": "maint"}, adminServer{AdminState: "MAINT", Weight: 3, Up: true}},
		{map[string]any{"state": "ready", "weight": "10"}, adminServer{AdminState: "READY", Weight: 10, Up: true, Usable: true}},
		{map[string]any{"weight": "200%"}, adminServer{AdminState: "READY", Weight: 6, Up: true, Usable: true}},
		{map[string]any{"health": "down"}, adminServer{AdminState: "READY", Weight: 6}},
		{map[string]any{"health": "up", "weight": "0"}, adminServer{AdminState: "READY", Up: true}},
		{map[string]any{"weight": "100%"}, adminServer{AdminState: "READY", Weight: 3, Up: true, Usable: true}},
	}
	for _, st := range steps {
		var got adminServer
		if err := c.adminSend(http.MethodPost, "/haproxy/backends/be/s1", st.change, &got); err != nil {
			t.Fatal(err)
		}
		got.Name, got.Sessions = "", 0
		if got != st.want {
			t.Errorf("%v: server = %+v, want %+v", st.change, got, st.want)
		}
	}
	bad := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/haproxy/backends/be/s1", map[string]any{"weight": "300"}},
		{http.MethodPost, "/haproxy/backends/be/s1", map[string]any{"state": "sleeping"}},
		{http.MethodPost, "/haproxy/backends/be/s1", map[string]any{"health_checks": true}},
		{http.MethodPost, "/haproxy/backends/be/s1", map[string]any{"wieght": "3"}},
		{http.MethodPost, "/haproxy/backends/be/nope", map[string]any{"state": "drain"}},
		{http.MethodGet, "/haproxy/backends/nope", nil},
		{http.MethodDelete, "/haproxy/backends/be/s1", nil},
	}
	for _, b := range bad {
		if err := c.adminSend(b.method, b.path, b.body, nil); err == nil {
			t.Errorf("%s %s %v: accepted", b.method, b.path, b.body)
		}
	}
	var s2 adminServer
	if err := c.adminSend(http.MethodPut, "/haproxy/backends/%232/%232", map[string]any{"state": "drain"}, &s2); err != nil || s2.Name != "s2" || s2.AdminState != "DRAIN" {
		t.Errorf("PUT by ids: %+v, %v", s2, err)
	}
}

// TestAdminAPIDrainAndMaintUnderLoad toggles a server between ready,
// drain and maint while clients send requests without pause: no request
// may fail. Requests in flight on the server when it enters maintenance
// complete; a drained server gets only the requests that carry its
// cookie, a server in maintenance none.
func TestAdminAPIDrainAndMaintUnderLoad(t *testing.T) {
	c, url, origins := startAdminAPICaddy(t)
	s1 := origins[0]
	setState := func(state string) {
		t.Helper()
		if err := c.adminSend(http.MethodPost, "/haproxy/backends/be/s1", map[string]any{"state": state}, nil); err != nil {
			t.Fatal(err)
		}
	}

	// Requests held on s1 while it goes into maintenance complete.
	release := s1.hold()
	var held sync.WaitGroup
	heldStatus := make(chan string, 3)
	for range 3 {
		held.Add(1)
		go func() {
			defer held.Done()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Cookie", "SRV=c1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				heldStatus <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			heldStatus <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		}()
	}
	for range 3 {
		<-s1.entered
	}
	setState("maint")
	release()
	held.Wait()
	close(heldStatus)
	for st := range heldStatus {
		if st != "200 s1" {
			t.Errorf("request in flight when s1 entered maintenance: %s", st)
		}
	}
	s1.mu.Lock()
	s1.gate = nil
	s1.mu.Unlock()

	// Load: clients without cookie, and one client that keeps s1's cookie.
	var done atomic.Bool
	var sent, failed atomic.Int64
	var failures sync.Map
	var load sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	for i := range 9 {
		load.Add(1)
		go func() {
			defer load.Done()
			for !done.Load() {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if i == 0 {
					req.Header.Set("Cookie", "SRV=c1")
				}
				resp, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), true)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					failures.Store(fmt.Sprintf("%d %s", resp.StatusCode, body), true)
				}
			}
		}()
	}
	// waitRequests waits until n more requests were answered.
	waitRequests := func(n int64) {
		t.Helper()
		target := sent.Load() + n
		c.waitFor(fmt.Sprintf("%d requests", n), func() bool { return sent.Load() >= target })
	}
	for _, state := range []string{"ready", "drain", "maint", "drain", "ready", "maint", "ready", "drain", "ready"} {
		setState(state)
		waitRequests(100)
		before := s1.hits.Load()
		waitRequests(200)
		gotHits := s1.hits.Load() - before
		switch state {
		case "maint":
			if gotHits != 0 {
				t.Errorf("s1 in maintenance received %d requests", gotHits)
			}
		case "drain":
			// Only the client with s1's cookie: about 1 in 9 requests.
			if gotHits == 0 || gotHits > 60 {
				t.Errorf("drained s1 received %d of 200 requests, want only the persistent ones (~22)", gotHits)
			}
		case "ready":
			if gotHits < 100 {
				t.Errorf("ready s1 (weight 3 of 4) received %d of 200 requests", gotHits)
			}
		}
	}
	done.Store(true)
	load.Wait()
	if n := failed.Load(); n > 0 {
		failures.Range(func(k, _ any) bool { t.Errorf("failure: %v", k); return true })
		t.Fatalf("%d of %d requests failed while s1's state changed", n, sent.Load())
	}
	t.Logf("%d requests, none failed", sent.Load())
}
