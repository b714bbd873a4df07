package integration

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
)

// TestCryptUserlistMatchesHAProxy sends the same credentials to HAProxy
// and caddy in front of a userlist of SHA-512, SHA-256, MD5 crypt and bcrypt
// hashes: right and wrong passwords, unknown users and no credentials get
// the same status and challenge.
func TestCryptUserlistMatchesHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	port, groupPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "auth_crypt.cfg", map[string]any{"Port": port, "GroupPort": groupPort, "Origin": o.Addr()})
	addr, groupAddr := loopback(port), loopback(groupPort)
	creds := [][]string{nil}
	for _, c := range []string{
		"ann:Hello world!", "ann:hello world!", "ben:pw", "ben:pW", "cat:password", "cat:passwore",
		"dan:hunter2", "dan:hunter", "eve:pw", "ann:", ":pw",
	} {
		creds = append(creds, []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(c))})
	}
	type req struct {
		addr string
		r    rawRequest
	}
	var reqs []req
	for _, hs := range creds {
		reqs = append(reqs, req{addr, rawRequest{method: "GET", target: "/", headers: hs}})
		for _, path := range []string{"/admin", "/private", "/"} {
			reqs = append(reqs, req{groupAddr, rawRequest{method: "GET", target: path, headers: hs}})
		}
	}
	run := func() []string {
		out := make([]string, len(reqs))
		for i, q := range reqs {
			resp, body := q.r.send(t, q.addr)
			if resp.StatusCode == http.StatusUnauthorized {
				// Caddy's authentication handler sends no body.
				body = ""
			}
			out[i] = fmt.Sprintf("%d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
		return out
	}
	haproxy := startHAProxy(t, cfg, addr, groupAddr)
	want := run()
	haproxy.stop()
	startCaddy(t, cfg)
	got := run()
	statuses := map[string]bool{}
	for i, q := range reqs {
		if got[i] != want[i] {
			t.Errorf("%s to %s: caddy %s, haproxy %s", q.r, q.addr, got[i], want[i])
		}
		statuses[want[i][:3]] = true
	}
	// The requests must have met a challenge, a denial and success; ann's
	// right password (the second set of requests) passes the first frontend.
	if !statuses["401"] || !statuses["403"] || !statuses["200"] || want[4] != `200 "" app` || want[0] == want[4] {
		t.Errorf("haproxy did not behave as the test expects: %q", want)
	}
}
