package integration

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// statsSecurityConfig is a stats page behind stats auth with the version
// hidden and without stats admin, in front of a backend of one server,
// on a second port the same page showing the version, and on a third one
// with stats admin for a second backend.
func statsSecurityConfig(port, shownPort, adminPort int, origin string) string {
	return fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s

backend be
    server s1 %[1]s

backend be2
    server s1 %[1]s

listen pub
    bind %[2]s
    stats uri /st
    stats auth alice:s3cret
    stats hide-version
    default_backend be

listen shown
    bind %[3]s
    stats uri /st
    stats auth alice:s3cret
    default_backend be

listen admin
    bind %[4]s
    stats uri /st
    stats auth alice:s3cret
    stats admin if TRUE
    default_backend be2
`, origin, loopback(port), loopback(shownPort), loopback(adminPort))
}

// statsServed reports whether a response is the stats page (HTML or CSV)
// rather than an error or the backend's answer.
func statsServed(resp *http.Response, body string) bool {
	return resp.StatusCode == http.StatusOK && (strings.Contains(body, "Statistics Report") || strings.HasPrefix(body, "# pxname"))
}

// TestStatsPageRefusesLikeHAProxy sends requests with missing, wrong and
// oddly shaped credentials and disguised stats URIs to a stats page behind
// stats auth: what HAProxy does not serve, caddy must not serve either.
// The page hides the version as stats hide-version asks, and a POST of
// the admin form without stats admin changes no server.
func TestStatsPageRefusesLikeHAProxy(t *testing.T) {
	basic := func(scheme, cred string) string {
		return "Authorization: " + scheme + " " + base64.StdEncoding.EncodeToString([]byte(cred))
	}
	good := basic("Basic", "alice:s3cret")
	var reqs []rawRequest
	for _, hs := range [][]string{nil, {good}, {basic("Basic", "alice:wrong")}, {basic("Basic", "bob:s3cret")},
		{basic("basic", "alice:s3cret")}, {basic("Basic", "alice:s3cret:x")}, {basic("Basic", "alice")},
		{"Authorization: Basic "}, {"Authorization: Bearer s3cret"},
		{basic("Basic", "alice:wrong"), good}, {good, basic("Basic", "alice:wrong")}} {
		for _, target := range []string{"/st", "/st;csv", "/st?x=1"} {
			reqs = append(reqs, rawRequest{method: "GET", target: target, headers: hs})
		}
	}
	for _, target := range []string{"/ST", "//st", "/./st", "/%73t", "/st%3bcsv", "http://x/st", "http://x/st;csv"} {
		reqs = append(reqs, rawRequest{method: "GET", target: target})
	}
	reqs = append(reqs, rawRequest{method: "HEAD", target: "/st"}, rawRequest{method: "POST", target: "/st", headers: []string{"Content-Length: 0"}})
	postForm := func(addr, form string) {
		rawRequest{method: "POST", target: "/st", headers: []string{good, "Content-Type: application/x-www-form-urlencoded", "Content-Length: " + strconv.Itoa(len(form))}, body: form}.send(t, addr)
	}

	type outcome struct {
		served []bool
		codes  []int
		// hidden and shown are whether the page with and without
		// stats hide-version mentions a version.
		hidden, shown bool
		// s1 and adminS1 are the states of be/s1 and be2/s1 after the
		// form, posted without and with stats admin.
		s1, adminS1 string
	}
	mentionsVersion := func(addr string) bool {
		_, page := rawRequest{method: "GET", target: "/st", headers: []string{good}}.send(t, addr)
		return strings.Contains(strings.ToLower(page), "version")
	}
	run := func(addr, shownAddr, adminAddr string) outcome {
		var o outcome
		for _, r := range reqs {
			resp, body := r.send(t, addr)
			o.served = append(o.served, statsServed(resp, body))
			o.codes = append(o.codes, resp.StatusCode)
		}
		o.hidden, o.shown = mentionsVersion(addr), mentionsVersion(shownAddr)
		postForm(addr, "s=s1&action=maint&b=be")
		postForm(adminAddr, "s=s1&action=maint&b=be2")
		resp, csv := rawRequest{method: "GET", target: "/st;csv", headers: []string{good}}.send(t, addr)
		if !statsServed(resp, csv) {
			t.Fatalf("the CSV with good credentials: %d %q", resp.StatusCode, csv)
		}
		o.s1, o.adminS1 = csvStatus(t, csv, "be", "s1"), csvStatus(t, csv, "be2", "s1")
		return o
	}
	origin := startOrigin(t, "s1")
	var results [2]outcome
	for i, proxy := range []string{"haproxy", "caddy"} {
		port, shownPort, adminPort := freePort(t), freePort(t), freePort(t)
		cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(cfg, []byte(statsSecurityConfig(port, shownPort, adminPort, origin.Addr())), 0o644); err != nil {
			t.Fatal(err)
		}
		if proxy == "haproxy" {
			p := startHAProxy(t, cfg, loopback(port), loopback(shownPort), loopback(adminPort))
			results[i] = run(loopback(port), loopback(shownPort), loopback(adminPort))
			p.stop()
		} else {
			c := startCaddy(t, cfg)
			c.waitListening(loopback(port), loopback(shownPort), loopback(adminPort))
			results[i] = run(loopback(port), loopback(shownPort), loopback(adminPort))
		}
	}
	h, c := results[0], results[1]
	servedBoth := 0
	for i, r := range reqs {
		switch {
		case !h.served[i] && c.served[i]:
			t.Errorf("%s: HAProxy refuses the stats page (%d), caddy serves it", r, h.codes[i])
		case h.served[i] && !c.served[i]:
			t.Errorf("%s: HAProxy serves the stats page, caddy answers %d", r, c.codes[i])
		case h.served[i]:
			servedBoth++
		}
	}
	if servedBoth == 0 {
		t.Errorf("no request got the stats page: the test proves nothing")
	}
	if h.hidden || c.hidden {
		t.Errorf("stats hide-version: the page mentions a version under HAProxy (%v) or caddy (%v)", h.hidden, c.hidden)
	}
	if !h.shown || !c.shown {
		t.Errorf("without stats hide-version the page mentions a version under HAProxy (%v) and caddy (%v); want both", h.shown, c.shown)
	}
	// The same form puts be2/s1 in maintenance where stats admin allows
	// it, and leaves be/s1 an unchecked server where it does not.
	if h.adminS1 != "MAINT" || c.adminS1 != "MAINT" {
		t.Errorf("the admin form with stats admin left be2/s1 %q under HAProxy and %q under caddy; want MAINT", h.adminS1, c.adminS1)
	}
	if h.s1 != "no check" || c.s1 != h.s1 {
		t.Errorf("after the admin form without stats admin, s1 is %q under HAProxy and %q under caddy; want \"no check\"", h.s1, c.s1)
	}
	t.Logf("%d requests: %d served the page under both", len(reqs), servedBoth)
}

// csvStatus returns the status column of a row of the stats CSV.
func csvStatus(t *testing.T, csv, proxy, server string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	col := -1
	for i, name := range header {
		if name == "status" {
			col = i
		}
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) > col && col >= 0 && f[0] == proxy && f[1] == server {
			return f[col]
		}
	}
	t.Fatalf("no %s/%s row with a status in the CSV:\n%s", proxy, server, csv)
	return ""
}
