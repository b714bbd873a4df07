package integration

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestGlobalAndDefaultsOnly starts a config whose frontends and backends are
// commented out: caddy runs, listens on nothing but its admin API, and warns.
func TestGlobalAndDefaultsOnly(t *testing.T) {
	cfg := writeConfig(t, "global_defaults_only.cfg", nil)
	c := startCaddy(t, cfg)

	body, err := c.adminGet("/config/")
	if err != nil {
		t.Fatal(err)
	}
	var running struct {
		Apps struct {
			HTTP struct {
				Servers map[string]any `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(body), &running); err != nil {
		t.Fatalf("reading the running config from the admin API: %v: %s", err, body)
	}
	if len(running.Apps.HTTP.Servers) != 0 {
		t.Errorf("caddy runs HTTP servers for a config without frontends: %s", body)
	}
	assertListening(t, c, nil)

	// HAProxy refuses to start without a listener; caddy starts, and says
	// that it serves nothing.
	warned := false
	for _, w := range adapterWarnings(c.log.String()) {
		if strings.HasSuffix(w.File, "global_defaults_only.cfg") && strings.Contains(w.Msg, "frontend") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning with file and line saying that there is no frontend:\n%s", c.log.String())
	}
}

// TestNoAutomaticHTTPS checks that plain-HTTP binds do not switch on
// Caddy's automatic HTTPS: no listener besides the binds and the admin API
// (no :443, no :80, no HTTP/3) and no certificate activity in the log.
func TestNoAutomaticHTTPS(t *testing.T) {
	a := startOrigin(t, "a")
	p1, p2 := freePort(t), freePort(t)
	c := startCaddy(t, writeConfig(t, "plain_http.cfg", map[string]any{"Port1": p1, "Port2": p2, "A": a.Addr()}))
	c.waitListening(loopback(p1), loopback(p2))

	assertListening(t, c, []int{p1, p2})
	for _, p := range []int{p1, p2} {
		if status, body := get(t, "http://"+loopback(p)+"/"); status != 200 || body != "a" {
			t.Errorf("port %d: status %d body %q", p, status, body)
		}
	}
	for _, e := range logEntries(c.log.String()) {
		logger, msg := strings.ToLower(e.Logger), strings.ToLower(e.Msg)
		if strings.HasPrefix(logger, "tls.obtain") || strings.HasPrefix(logger, "tls.issuance") ||
			strings.Contains(msg, "obtain") || strings.Contains(msg, "acme") ||
			strings.Contains(msg, "enabling automatic tls") || strings.Contains(msg, "http->https") {
			t.Errorf("certificate activity in the log: %s: %s", e.Logger, e.Msg)
		}
	}
}

// assertListening checks that the caddy process listens on its admin port
// and exactly the given TCP ports, and has no UDP socket (HTTP/3).
func assertListening(t *testing.T, c *caddyProc, ports []int) {
	t.Helper()
	_, adminPort, _ := strings.Cut(c.admin, ":")
	want := []string{"tcp/" + adminPort}
	for _, p := range ports {
		want = append(want, "tcp/"+strconv.Itoa(p))
	}
	var got []string
	for s := range listeningSockets(t, c.pid()) {
		got = append(got, s)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("caddy listens on %v, want %v", got, want)
	}
}
